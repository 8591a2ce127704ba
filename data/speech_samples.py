"""Spoken digits that ship with Glimpse, synthesised by this project with Debian's ``espeak-ng``.

The files in ``data/samples/speech`` are made by ``python -m data.speech_samples``: each of the
words "zero" to "nine" in two voices, resampled to 8 kHz mono 16-bit PCM, with leading and
trailing silence trimmed as FSDD's recordings are. The generated files are committed, so the
product needs neither espeak-ng nor any dataset to show a prediction.
"""

from __future__ import annotations

import argparse
import io
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from data.atomic import write_bytes
from data.audio import SAMPLE_RATE, resample, to_mono

log = logging.getLogger(__name__)

SAMPLES_DIR = Path(__file__).resolve().parent / "samples" / "speech"
WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# espeak-ng voice names: American English, and British English with the "f3" female variant.
VOICES = {"us": "en-us", "gb-female": "en-gb+f3"}
WORDS_PER_MINUTE = 150
TRIM_LEVEL = 0.02  # samples below 2 % of full scale at either end count as silence
_NAME = re.compile(r"^(?P<digit>[0-9])_(?P<voice>[a-z-]+)\.wav$")


@dataclass(frozen=True)
class Sample:
    """A shipped sample: its path, the digit spoken and the synthetic voice."""

    path: Path
    digit: int
    voice: str

    @property
    def label(self) -> str:
        """Display name, such as ``7 ("seven", us voice)``."""
        return f'{self.digit} ("{WORDS[self.digit]}", {self.voice} voice)'


def list_samples(folder: Path = SAMPLES_DIR) -> list[Sample]:
    """Return the shipped samples sorted by digit and voice."""
    found = []
    for path in folder.glob("*.wav"):
        match = _NAME.match(path.name)
        if match:
            found.append(Sample(path, int(match["digit"]), match["voice"]))
    return sorted(found, key=lambda s: (s.digit, s.voice))


def trim_silence(waveform: np.ndarray, level: float = TRIM_LEVEL) -> np.ndarray:
    """Drop leading and trailing samples quieter than ``level`` times the peak."""
    loud = np.flatnonzero(np.abs(waveform) >= level * np.max(np.abs(waveform)))
    return waveform[loud[0] : loud[-1] + 1] if len(loud) else waveform


def synthesise(word: str, voice: str, espeak: str = "espeak-ng") -> np.ndarray:
    """Speak ``word`` with espeak-ng and return 8 kHz mono float32 samples, silence trimmed.

    Raises:
        FileNotFoundError: espeak-ng is not installed.
        subprocess.CalledProcessError: espeak-ng failed.
    """
    if shutil.which(espeak) is None:
        raise FileNotFoundError(f"{espeak} not found; install it with `apt-get install espeak-ng`")
    wav = subprocess.run(
        [espeak, "-v", voice, "-s", str(WORDS_PER_MINUTE), "--stdout", word],
        capture_output=True,
        check=True,
    ).stdout
    samples, rate = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    return trim_silence(resample(to_mono(samples), rate))


def write_samples(folder: Path = SAMPLES_DIR) -> list[Path]:
    """Synthesise every digit in every voice into ``folder`` as 16-bit PCM WAV files."""
    written = []
    for digit, word in enumerate(WORDS):
        for tag, voice in VOICES.items():
            buffer = io.BytesIO()
            sf.write(buffer, synthesise(word, voice), SAMPLE_RATE, subtype="PCM_16", format="WAV")
            path = folder / f"{digit}_{tag}.wav"
            write_bytes(path, buffer.getvalue())
            written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description="Synthesise the shipped spoken-digit samples.")
    parser.add_argument("--out", type=Path, default=SAMPLES_DIR, help="folder to write into")
    args = parser.parse_args()
    for path in write_samples(args.out):
        print(path)


if __name__ == "__main__":
    main()
