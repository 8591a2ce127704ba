"""The log-mel front end against torchaudio's MelSpectrogram with the same settings."""

from __future__ import annotations

import pytest
import torch

from data.spectrogram import FrontEndConfig, LogMel, mel_filterbank

torchaudio = pytest.importorskip("torchaudio")


@pytest.mark.filterwarnings("ignore:At least one mel filterbank has all zero values")
def test_filterbank_matches_torchaudio():
    config = FrontEndConfig()
    expected = torchaudio.functional.melscale_fbanks(
        n_freqs=config.n_fft // 2 + 1,
        f_min=config.f_min,
        f_max=config.sample_rate / 2,
        n_mels=config.n_mels,
        sample_rate=config.sample_rate,
        norm=None,
        mel_scale="htk",
    )
    # torchaudio builds the filters in float32, this module in float64 before the cast.
    torch.testing.assert_close(mel_filterbank(config), expected, atol=1e-4, rtol=1e-4)


@pytest.mark.filterwarnings("ignore:At least one mel filterbank has all zero values")
def test_mel_db_matches_torchaudio():
    config = FrontEndConfig()
    waveform = torch.randn(2, 8000, generator=torch.Generator().manual_seed(0)) * 0.1
    reference = torchaudio.transforms.MelSpectrogram(
        sample_rate=config.sample_rate,
        n_fft=config.n_fft,
        hop_length=config.hop,
        f_min=config.f_min,
        n_mels=config.n_mels,
        power=2.0,
    )(waveform)  # [B, n_mels, 101]
    expected = torchaudio.transforms.AmplitudeToDB(stype="power")(reference)[..., :100].transpose(
        1, 2
    )
    actual = LogMel(config).mel_db(waveform)
    assert actual.shape == (2, 100, 140)
    # float32 rounding of the two filterbanks shows as up to ~0.05 dB in the weakest bins.
    torch.testing.assert_close(actual, expected, atol=0.1, rtol=1e-3)


def test_scaled_input_range():
    waveform = torch.zeros(1, 8000)
    waveform[0, 3000:4000] = torch.sin(torch.arange(1000) * 0.3)
    features = LogMel()(waveform)
    assert features.shape == (1, 100, 140)
    assert float(features.max()) == pytest.approx(1.0)
    assert float(features.min()) == 0.0
    assert float(features[0, :20].max()) == 0.0  # silence is at the floor, top_db below the peak


def test_scaling_ignores_gain():
    waveform = torch.randn(1, 8000, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(LogMel()(waveform), LogMel()(waveform * 0.01), atol=1e-4, rtol=0)


def test_invalid_band_edges():
    with pytest.raises(ValueError, match="f_max"):
        FrontEndConfig(f_min=100.0, f_max=5000.0)
