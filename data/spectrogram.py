"""The log-mel front end of the speech models: one second at 8 kHz to a ``[T, n_mels]`` image.

The settings follow SpikCommander's Google Speech Commands pipeline: power spectrogram with
``n_fft = 256`` and hop 80 samples (10 ms), 140 mel bands from 50 Hz, then decibels. At 8 kHz
the upper band edge is the Nyquist frequency, 4 kHz (the authors' 14 kHz setting lies above it
and is clipped the same way by torchaudio). A centred STFT of 8,000 samples gives 101 frames;
the last one is dropped so that ``T = 100`` steps of 10 ms cover exactly one second.

How the spectrogram drives the first spiking layer: the decibel values are scaled to [0, 1]
per recording (``0`` is ``TOP_DB`` below the recording's loudest bin or quieter, ``1`` the
loudest bin) and enter the SEE embedding as real values. Its pointwise convolution mixes the
140 bands into ``D`` channels, a depthwise convolution along time smooths each channel, batch
norm scales them, and the first LIF layer turns the result into spikes. The spectrogram is so
a current injected into those neurons at every 10 ms step. The per-recording scaling is this
project's choice (the authors' code feeds unscaled decibels); it makes the input independent
of the microphone gain.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from data.audio import SAMPLE_RATE


@dataclass(frozen=True)
class FrontEndConfig:
    """Settings of the log-mel front end (defaults: SpikCommander's speech-command pipeline).

    Attributes:
        sample_rate: input rate in Hz.
        n_fft: FFT size and Hann window length in samples.
        hop: hop between frames in samples (80 at 8 kHz is 10 ms).
        n_mels: mel bands.
        f_min: lower edge of the first band in Hz.
        f_max: upper edge of the last band in Hz; None for the Nyquist frequency.
        steps: frames kept, ``T``.
        top_db: dynamic range kept below the loudest bin, in dB.
    """

    sample_rate: int = SAMPLE_RATE
    n_fft: int = 256
    hop: int = 80
    n_mels: int = 140
    f_min: float = 50.0
    f_max: float | None = None
    steps: int = 100
    top_db: float = 80.0

    def __post_init__(self) -> None:
        nyquist = self.sample_rate / 2
        if not 0 <= self.f_min < (self.f_max or nyquist) <= nyquist:
            raise ValueError(
                f"mel band edges must satisfy 0 <= f_min < f_max <= {nyquist:g} Hz, got "
                f"f_min={self.f_min}, f_max={self.f_max}"
            )
        if self.n_mels < 1 or self.n_fft < 2 or self.hop < 1 or self.steps < 1:
            raise ValueError(
                f"n_mels, n_fft, hop and steps must be positive, got {self.n_mels}, {self.n_fft}, "
                f"{self.hop}, {self.steps}"
            )


def hz_to_mel(hz: torch.Tensor) -> torch.Tensor:
    """HTK mel scale: ``2595 * log10(1 + f / 700)``."""
    return 2595.0 * torch.log10(1.0 + hz / 700.0)


def mel_to_hz(mel: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`hz_to_mel`."""
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_filterbank(config: FrontEndConfig) -> torch.Tensor:
    """Return the triangular mel filters ``[n_fft // 2 + 1, n_mels]`` (HTK scale, unnormalised).

    Band ``m`` rises linearly from mel point ``m`` to ``m + 1`` and falls to ``m + 2``, with
    ``n_mels + 2`` points spaced evenly on the mel scale from ``f_min`` to ``f_max``; the
    weights at each FFT bin frequency are the triangle's height, clipped at 0.

    NOTE: with 140 bands over 129 FFT bins (the authors' setting at 8 kHz) the narrowest
    low-frequency bands fall between two bins and are all zero, so those inputs are always at
    the floor; torchaudio's ``melscale_fbanks`` gives the same filters and warns about them.
    """
    n_freqs = config.n_fft // 2 + 1
    f_max = config.f_max or config.sample_rate / 2
    bins = torch.linspace(0.0, config.sample_rate / 2, n_freqs, dtype=torch.float64)
    mel_edges = torch.linspace(
        float(hz_to_mel(torch.tensor(config.f_min))),
        float(hz_to_mel(torch.tensor(f_max))),
        config.n_mels + 2,
        dtype=torch.float64,
    )
    hz_edges = mel_to_hz(mel_edges)
    widths = hz_edges[1:] - hz_edges[:-1]  # [n_mels + 1]
    slopes = hz_edges.unsqueeze(0) - bins.unsqueeze(1)  # [n_freqs, n_mels + 2]
    rising = -slopes[:, :-2] / widths[:-1]
    falling = slopes[:, 2:] / widths[1:]
    return torch.clamp(torch.minimum(rising, falling), min=0.0).to(torch.float32)


class LogMel(torch.nn.Module):
    """Waveforms ``[B, samples]`` to scaled log-mel images ``[B, T, n_mels]`` in [0, 1].

    ``power[f, t] = |STFT(x)|^2`` with a periodic Hann window, centred frames and reflect
    padding; ``mel = power @ filterbank``; ``db = 10 * log10(max(mel, 1e-10))``; the output is
    ``clip((db - max(db)) / top_db + 1, 0, 1)`` with the maximum taken per recording. The
    module has no trainable parameters.
    """

    def __init__(self, config: FrontEndConfig | None = None) -> None:
        super().__init__()
        self.config = config or FrontEndConfig()
        self.register_buffer("window", torch.hann_window(self.config.n_fft), persistent=False)
        self.register_buffer("filterbank", mel_filterbank(self.config), persistent=False)

    def power_spectrogram(self, waveform: torch.Tensor) -> torch.Tensor:
        """Return ``|STFT|^2`` as ``[B, frames, n_fft // 2 + 1]``."""
        spec = torch.stft(
            waveform,
            n_fft=self.config.n_fft,
            hop_length=self.config.hop,
            window=self.window,
            center=True,
            pad_mode="reflect",
            return_complex=True,
        )  # [B, freqs, frames]
        return spec.abs().square().transpose(1, 2)

    def mel_db(self, waveform: torch.Tensor) -> torch.Tensor:
        """Return the mel spectrogram in dB, ``[B, T, n_mels]`` (first ``steps`` frames)."""
        if waveform.dim() != 2:
            raise ValueError(f"expected waveforms [B, samples], got shape {tuple(waveform.shape)}")
        mel = self.power_spectrogram(waveform) @ self.filterbank
        mel = mel[:, : self.config.steps]
        return 10.0 * torch.log10(torch.clamp(mel, min=1e-10))

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        db = self.mel_db(waveform)
        peak = db.amax(dim=(1, 2), keepdim=True)
        return torch.clamp((db - peak) / self.config.top_db + 1.0, 0.0, 1.0)
