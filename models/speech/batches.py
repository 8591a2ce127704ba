"""Turn FSDD waveforms into model inputs: clip placement, augmentation and the log-mel front end."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from data.audio import CLIP_SAMPLES, fit_to_clip
from data.spectrogram import FrontEndConfig, LogMel


@dataclass(frozen=True)
class AugmentConfig:
    """Training-time augmentation; every transform is drawn per recording.

    Random placement and background noise are this project's choices for microphone input; the
    two masks are SpecAugment with the authors' speech-command setting (one frequency mask of
    up to 10 bands, one time mask of up to 25 % of the steps) applied with probability 0.5 each.

    Attributes:
        random_offset: place a short recording at a random point of the second (else centred).
        noise_snr_db: range of the signal-to-noise ratio of added white noise, in dB; None for
            no noise.
        freq_mask: largest frequency mask, in mel bands (0 for none).
        time_mask_fraction: largest time mask as a fraction of the steps (0 for none).
        mask_probability: probability of applying each mask.
    """

    random_offset: bool = True
    noise_snr_db: tuple[float, float] | None = (15.0, 45.0)
    freq_mask: int = 10
    time_mask_fraction: float = 0.25
    mask_probability: float = 0.5


def place_clips(waveforms: list[np.ndarray], rng: np.random.Generator | None) -> np.ndarray:
    """Fit each waveform to one second: random offsets with ``rng``, else centred or loudest.

    Returns:
        ``[B, CLIP_SAMPLES]`` float32.
    """
    clips = np.zeros((len(waveforms), CLIP_SAMPLES), dtype=np.float32)
    for row, waveform in enumerate(waveforms):
        offset = None
        if rng is not None:
            spare = abs(len(waveform) - CLIP_SAMPLES)
            offset = int(rng.integers(0, spare + 1))
            offset = offset if len(waveform) >= CLIP_SAMPLES else -offset
        clips[row], _ = fit_to_clip(waveform, offset=offset)
    return clips


def add_noise(
    clips: np.ndarray, snr_db: tuple[float, float], rng: np.random.Generator
) -> np.ndarray:
    """Add white noise at a random SNR in ``snr_db`` per clip, relative to the clip's mean power."""
    power = np.mean(clips**2, axis=1, keepdims=True) + 1e-12
    snr = rng.uniform(*snr_db, size=(len(clips), 1))
    noise = rng.standard_normal(clips.shape).astype(np.float32)
    return clips + noise * np.sqrt(power / 10 ** (snr / 10)).astype(np.float32)


def spec_augment(
    features: torch.Tensor, config: AugmentConfig, rng: np.random.Generator
) -> torch.Tensor:
    """Zero one random band block and one random time block per sample of ``[T, B, F]``."""
    steps, batch, bands = features.shape
    out = features.clone()
    longest_time = int(config.time_mask_fraction * steps)
    for b in range(batch):
        if config.freq_mask and rng.random() < config.mask_probability:
            width = int(rng.integers(0, config.freq_mask + 1))
            start = int(rng.integers(0, bands - width + 1))
            out[:, b, start : start + width] = 0.0
        if longest_time and rng.random() < config.mask_probability:
            width = int(rng.integers(0, longest_time + 1))
            start = int(rng.integers(0, steps - width + 1))
            out[start : start + width, b] = 0.0
    return out


class FeatureMaker:
    """Waveforms to time-first log-mel inputs ``[T, B, n_mels]``, with optional augmentation."""

    def __init__(self, front_end: FrontEndConfig | None = None) -> None:
        self.log_mel = LogMel(front_end)

    def __call__(
        self,
        waveforms: list[np.ndarray],
        augment: AugmentConfig | None = None,
        rng: np.random.Generator | None = None,
    ) -> torch.Tensor:
        if augment is not None and rng is None:
            raise ValueError("augmentation needs a random generator; pass rng")
        use_offset = augment is not None and augment.random_offset
        clips = place_clips(waveforms, rng if use_offset else None)
        if augment is not None and augment.noise_snr_db is not None:
            clips = add_noise(clips, augment.noise_snr_db, rng)
        with torch.no_grad():
            features = (
                self.log_mel(torch.from_numpy(clips)).transpose(0, 1).contiguous()
            )  # [T, B, F]
        if augment is not None:
            features = spec_augment(features, augment, rng)
        return features
