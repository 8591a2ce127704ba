"""Google Speech Commands v2 from its published folder layout.

The release (Warden 2018, CC BY 4.0) unpacks to one folder per word holding
``{speaker}_nohash_{n}.wav`` files (16 kHz mono, up to 1 s), a ``_background_noise_`` folder,
and two lists of relative paths, ``validation_list.txt`` and ``testing_list.txt``; every file
in neither list is a training file. The 35 words of v2 are the classes, in sorted order.

:func:`load_clip` follows SpikCommander's order of operations: pad with zeros at the end or
trim to one second at the file's own rate, then resample to 8 kHz.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data.audio import read_audio, resample, to_mono

WORDS_V2 = (
    "backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow", "forward",
    "four", "go", "happy", "house", "learn", "left", "marvin", "nine", "no", "off", "on", "one",
    "right", "seven", "sheila", "six", "stop", "three", "tree", "two", "up", "visual", "wow",
    "yes", "zero",
)  # fmt: skip
SPLITS = ("train", "validation", "test")


class GSCError(ValueError):
    """Raised for a folder that is not in the Speech Commands layout."""


@dataclass(frozen=True)
class Utterance:
    """One Speech Commands file: its path, word, class index and speaker id."""

    path: Path
    word: str
    label: int
    speaker: str


def _read_list(root: Path, name: str) -> set[str]:
    path = root / name
    if not path.exists():
        raise GSCError(
            f"{path} not found; a Speech Commands v2 folder contains {name} beside the word folders"
        )
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def list_utterances(
    root: str | os.PathLike[str], split: str, words: tuple[str, ...] = WORDS_V2
) -> list[Utterance]:
    """List the files of one split, sorted by path.

    Word folders missing from ``root`` are skipped, so a partial copy still loads; folders
    that are not in ``words`` (such as ``_background_noise_``) are ignored.

    Raises:
        ValueError: unknown ``split``.
        GSCError: a split list is missing or no word folder exists.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    root = Path(root)
    validation = _read_list(root, "validation_list.txt")
    testing = _read_list(root, "testing_list.txt")
    found = []
    present = [word for word in words if (root / word).is_dir()]
    if not present:
        raise GSCError(f"no Speech Commands word folders ({', '.join(words[:3])}, ...) in {root}")
    for word in present:
        for path in sorted((root / word).glob("*.wav")):
            relative = f"{word}/{path.name}"
            in_split = {
                "validation": relative in validation,
                "test": relative in testing,
                "train": relative not in validation and relative not in testing,
            }[split]
            if in_split:
                speaker = path.name.split("_nohash_")[0]
                found.append(Utterance(path, word, words.index(word), speaker))
    return found


def load_clip(
    path: str | os.PathLike[str], seconds: float = 1.0, target_rate: int = 8_000
) -> np.ndarray:
    """Read one file, pad (zeros at the end) or trim it to ``seconds`` and resample it.

    Returns:
        ``[seconds * target_rate]`` float32 samples.
    """
    samples, rate = read_audio(path)
    waveform = to_mono(samples)
    length = round(seconds * rate)
    clip = np.zeros(length, dtype=np.float32)
    clip[: min(length, len(waveform))] = waveform[:length]
    out = resample(clip, rate, target_rate)
    return out[: round(seconds * target_rate)]
