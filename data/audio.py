"""Read a speech recording and bring it to the form the speech models take: 8 kHz mono, 1 s.

``prepare_waveform`` is the one entry point for files, uploads and microphone recordings. It
either returns a clean waveform with notes on what it changed, or raises :class:`AudioError`
with a message that names the problem and the fix. The handling of each kind of bad input:

| input | handling |
| --- | --- |
| not an audio file, or an unreadable one | ``AudioError`` |
| an empty recording (no samples) | ``AudioError`` |
| NaN or infinite samples | ``AudioError`` |
| more than ``MAX_SECONDS`` long | ``AudioError`` |
| stereo or more channels | mixed down to mono by averaging, with a note |
| another sample rate | resampled to 8 kHz (polyphase filter), with a note |
| longer than 1 s | the loudest 1-second window is kept, with a note |
| shorter than 1 s | centred and zero-padded to 1 s |
| silence (peak below ``SILENCE_DBFS``) | ``AudioError`` |
| clipping (over ``CLIP_FRACTION`` of samples at full scale) | kept, with a warning |
"""

from __future__ import annotations

import io
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

log = logging.getLogger(__name__)

SAMPLE_RATE = 8_000  # SpikCommander resamples Google Speech Commands to 8 kHz; FSDD is 8 kHz
CLIP_SECONDS = 1.0  # the models take one second of audio
CLIP_SAMPLES = int(SAMPLE_RATE * CLIP_SECONDS)
MAX_SECONDS = 60.0  # longer uploads are rejected rather than scanned for a command
SILENCE_DBFS = -50.0  # a peak below this level (dB relative to full scale) counts as silence
CLIP_LEVEL = 0.999  # samples at or above this magnitude count as clipped
CLIP_FRACTION = 0.01  # warn when more than 1 % of the samples are clipped


class AudioError(ValueError):
    """Raised for a recording that cannot be classified; the message says what to do instead."""


@dataclass(frozen=True)
class PreparedAudio:
    """A recording brought to 8 kHz mono and exactly one second.

    Attributes:
        waveform: ``[CLIP_SAMPLES]`` float32 samples in [-1, 1].
        source_rate: the file's sample rate in Hz.
        source_channels: the file's channel count.
        source_seconds: the file's duration in seconds.
        offset_seconds: where the kept second starts in the (resampled) recording; negative
            when the recording was shorter than a second and was centred with padding.
        notes: what was changed (resampled, mixed down, trimmed, padded).
        warnings: problems that were kept but may hurt the prediction (clipping).
    """

    waveform: np.ndarray
    source_rate: int
    source_channels: int
    source_seconds: float
    offset_seconds: float
    notes: tuple[str, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = field(default_factory=tuple)


def read_audio(source: str | os.PathLike[str] | bytes) -> tuple[np.ndarray, int]:
    """Read a file or in-memory bytes as ``(samples [N, channels] float32, sample_rate)``.

    Any format that libsndfile reads works (WAV, FLAC, OGG, AIFF, ...).

    Raises:
        AudioError: the input is missing, is not audio, or contains no samples.
    """
    name = "the recording" if isinstance(source, bytes) else str(source)
    if isinstance(source, bytes):
        if not source:
            raise AudioError("the recording is empty (0 bytes); record or upload it again")
        handle: io.BytesIO | str = io.BytesIO(source)
    else:
        path = Path(source)
        if not path.exists():
            raise AudioError(f"audio file {path} not found")
        handle = str(path)
    try:
        samples, rate = sf.read(handle, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        raise AudioError(
            f"{name} is not a readable audio file ({error}). Use a WAV, FLAC or OGG recording."
        ) from error
    if samples.shape[0] == 0:
        raise AudioError(
            f"{name} contains no samples. Record or upload a recording with speech in it"
        )
    return samples, int(rate)


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Average the channels of ``[N, channels]`` samples into ``[N]``."""
    return samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]


def resample(waveform: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Resample ``[N]`` samples from ``rate`` to ``target`` Hz with a polyphase FIR filter.

    ``resample_poly`` applies a Kaiser-windowed anti-aliasing low-pass at the lower of the two
    Nyquist frequencies, so content above 4 kHz is removed before decimating to 8 kHz.
    """
    if rate == target:
        return waveform.astype(np.float32, copy=False)
    divisor = math.gcd(int(rate), int(target))
    out = resample_poly(waveform, target // divisor, int(rate) // divisor)
    return out.astype(np.float32)


def loudest_window(waveform: np.ndarray, length: int = CLIP_SAMPLES) -> int:
    """Return the start of the ``length``-sample window with the most energy (sum of squares)."""
    if len(waveform) <= length:
        return 0
    energy = np.concatenate([[0.0], np.cumsum(waveform.astype(np.float64) ** 2)])
    window = energy[length:] - energy[:-length]
    return int(np.argmax(window))


def fit_to_clip(
    waveform: np.ndarray, length: int = CLIP_SAMPLES, offset: int | None = None
) -> tuple[np.ndarray, int]:
    """Cut or pad ``[N]`` samples to exactly ``length``.

    A longer waveform keeps the window starting at ``offset`` (default: the loudest window). A
    shorter one is placed at ``-offset`` samples into the clip (default: centred) with zeros
    around it.

    Returns:
        ``(clip [length], offset)``; a negative offset means the recording starts ``-offset``
        samples into the clip.
    """
    n = len(waveform)
    if n >= length:
        start = loudest_window(waveform, length) if offset is None else int(offset)
        start = min(max(start, 0), n - length)
        return waveform[start : start + length].astype(np.float32, copy=False), start
    lead = (length - n) // 2 if offset is None else min(max(-int(offset), 0), length - n)
    clip = np.zeros(length, dtype=np.float32)
    clip[lead : lead + n] = waveform
    return clip, -lead


def peak_dbfs(waveform: np.ndarray) -> float:
    """Peak level in dB relative to full scale; ``-inf`` for all zeros."""
    peak = float(np.max(np.abs(waveform))) if len(waveform) else 0.0
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def prepare_waveform(source: str | os.PathLike[str] | bytes) -> PreparedAudio:
    """Read a recording and bring it to 8 kHz mono, one second, following the table above.

    Raises:
        AudioError: the recording cannot be used; the message names the value and the fix.
    """
    samples, rate = read_audio(source)
    channels = samples.shape[1]
    seconds = samples.shape[0] / rate
    notes: list[str] = []
    warnings: list[str] = []
    if not np.isfinite(samples).all():
        raise AudioError(
            "the recording contains NaN or infinite samples. Export it again as 16-bit PCM"
        )
    if seconds > MAX_SECONDS:
        raise AudioError(
            f"the recording is {seconds:.1f} s long; the limit is {MAX_SECONDS:.0f} s. "
            "Cut out the spoken command (about one second) and upload that."
        )

    waveform = to_mono(samples)
    if channels > 1:
        notes.append(f"mixed {channels} channels down to mono")
    clipped = float(np.mean(np.abs(waveform) >= CLIP_LEVEL))
    if clipped > CLIP_FRACTION:
        warnings.append(
            f"{clipped:.1%} of the samples are clipped at full scale; the spectrogram is "
            "distorted. Record with a lower input gain or further from the microphone."
        )
    if rate != SAMPLE_RATE:
        waveform = resample(waveform, rate)
        notes.append(f"resampled from {rate} Hz to {SAMPLE_RATE} Hz")

    level = peak_dbfs(waveform)
    if level < SILENCE_DBFS:
        shown = "-inf" if math.isinf(level) else f"{level:.0f}"
        raise AudioError(
            f"the recording is silent (peak {shown} dBFS, below {SILENCE_DBFS:.0f} dBFS). "
            "Check that the microphone is on and speak a digit closer to it."
        )

    clip, offset = fit_to_clip(waveform)
    if len(waveform) > CLIP_SAMPLES:
        notes.append(
            f"kept the loudest second ({offset / SAMPLE_RATE:.2f}-"
            f"{(offset + CLIP_SAMPLES) / SAMPLE_RATE:.2f} s) of {len(waveform) / SAMPLE_RATE:.2f} s"
        )
    elif len(waveform) < CLIP_SAMPLES:
        notes.append(
            f"centred {len(waveform) / SAMPLE_RATE:.2f} s of audio in one second of silence"
        )
    return PreparedAudio(
        waveform=clip,
        source_rate=rate,
        source_channels=channels,
        source_seconds=seconds,
        offset_seconds=offset / SAMPLE_RATE,
        notes=tuple(notes),
        warnings=tuple(warnings),
    )
