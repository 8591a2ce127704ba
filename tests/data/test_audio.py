"""The speech input checks: each kind of bad recording gets a message or a documented fix."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from data.audio import (
    CLIP_SAMPLES,
    SAMPLE_RATE,
    AudioError,
    fit_to_clip,
    loudest_window,
    prepare_waveform,
)


def wav_bytes(samples: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, subtype=subtype, format="WAV")
    return buffer.getvalue()


def tone(seconds: float, rate: int, hz: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_stereo_16k_is_mixed_and_resampled():
    left = tone(0.5, 16_000)
    stereo = np.stack([left, left], axis=1)
    prepared = prepare_waveform(wav_bytes(stereo, 16_000, "FLOAT"))
    assert prepared.source_rate == 16_000
    assert prepared.source_channels == 2
    assert any("mixed 2 channels" in note for note in prepared.notes)
    assert any("resampled from 16000 Hz" in note for note in prepared.notes)
    assert prepared.waveform.shape == (CLIP_SAMPLES,)
    # Second route: the same 440 Hz tone generated directly at 8 kHz, centred in the second.
    expected = np.zeros(CLIP_SAMPLES, dtype=np.float32)
    direct = tone(0.5, SAMPLE_RATE)
    start = (CLIP_SAMPLES - len(direct)) // 2
    expected[start : start + len(direct)] = direct
    inner = slice(start + 50, start + len(direct) - 50)  # away from the filter's edge ringing
    np.testing.assert_allclose(prepared.waveform[inner], expected[inner], atol=2e-3)


def test_mono_8k_short_is_centred():
    prepared = prepare_waveform(wav_bytes(tone(0.4, SAMPLE_RATE), SAMPLE_RATE))
    assert prepared.notes == ("centred 0.40 s of audio in one second of silence",)
    assert prepared.offset_seconds == pytest.approx(-0.3)
    assert np.all(prepared.waveform[:2399] == 0)


def test_long_file_keeps_loudest_second():
    waveform = np.full(30 * SAMPLE_RATE, 1e-3, dtype=np.float32)
    burst = 12 * SAMPLE_RATE
    waveform[burst : burst + 4000] = tone(0.5, SAMPLE_RATE)
    prepared = prepare_waveform(wav_bytes(waveform, SAMPLE_RATE))
    assert prepared.source_seconds == pytest.approx(30.0)
    assert any("kept the loudest second" in note for note in prepared.notes)
    kept_start = round(prepared.offset_seconds * SAMPLE_RATE)
    assert kept_start <= burst + 1  # the tone's first sample is sin(0) = 0
    assert kept_start + CLIP_SAMPLES >= burst + 4000


def test_loudest_window_matches_brute_force():
    rng = np.random.default_rng(0)
    waveform = rng.standard_normal(3000).astype(np.float32) * np.linspace(0, 2, 3000)
    energies = [np.sum(waveform[s : s + 500] ** 2) for s in range(3000 - 500 + 1)]
    assert loudest_window(waveform, 500) == int(np.argmax(energies))


def test_fit_to_clip_offsets():
    waveform = np.arange(1, 11, dtype=np.float32)
    clip, offset = fit_to_clip(waveform, length=4, offset=3)
    np.testing.assert_array_equal(clip, [4, 5, 6, 7])
    assert offset == 3
    clip, offset = fit_to_clip(waveform[:2], length=5, offset=-2)
    np.testing.assert_array_equal(clip, [0, 0, 1, 2, 0])
    assert offset == -2


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "empty"),
        (b"this is a text file, not a recording", "not a readable audio file"),
        (wav_bytes(np.zeros(0, dtype=np.float32), SAMPLE_RATE), "contains no samples"),
        (wav_bytes(np.zeros(SAMPLE_RATE, dtype=np.float32), SAMPLE_RATE), "silent"),
        (wav_bytes(np.full(SAMPLE_RATE, 1e-4, dtype=np.float32), SAMPLE_RATE), "silent"),
        (wav_bytes(tone(61, 1000), 1000), "limit is 60 s"),
    ],
)
def test_bad_input_messages(payload, message):
    with pytest.raises(AudioError, match=message):
        prepare_waveform(payload)


def test_nan_samples_rejected():
    samples = tone(0.5, SAMPLE_RATE)
    samples[100] = np.nan
    with pytest.raises(AudioError, match="NaN or infinite"):
        prepare_waveform(wav_bytes(samples, SAMPLE_RATE, "FLOAT"))


def test_clipping_warns_but_keeps():
    clipped = np.clip(tone(0.5, SAMPLE_RATE, amplitude=3.0), -1.0, 1.0)
    prepared = prepare_waveform(wav_bytes(clipped, SAMPLE_RATE))
    assert len(prepared.warnings) == 1
    assert "clipped" in prepared.warnings[0]
    assert prepared.waveform.shape == (CLIP_SAMPLES,)


def test_missing_file_named(tmp_path):
    with pytest.raises(AudioError, match="not found"):
        prepare_waveform(tmp_path / "nothing.wav")
