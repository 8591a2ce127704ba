"""Google Speech Commands v2 from a small folder written in the published layout."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from data import gsc


@pytest.fixture
def gsc_root(tmp_path):
    for word, speakers in (("yes", ("aa11", "bb22", "cc33")), ("zero", ("aa11", "dd44"))):
        (tmp_path / word).mkdir()
        for speaker in speakers:
            tone = 0.3 * np.sin(np.arange(12_000) * 0.1).astype(np.float32)  # 0.75 s at 16 kHz
            sf.write(tmp_path / word / f"{speaker}_nohash_0.wav", tone, 16_000, subtype="PCM_16")
    (tmp_path / "_background_noise_").mkdir()
    sf.write(tmp_path / "_background_noise_" / "noise.wav", np.zeros(16_000), 16_000)
    (tmp_path / "validation_list.txt").write_text("yes/bb22_nohash_0.wav\n")
    (tmp_path / "testing_list.txt").write_text("yes/cc33_nohash_0.wav\nzero/dd44_nohash_0.wav\n")
    return tmp_path


def test_splits_follow_lists(gsc_root):
    train = gsc.list_utterances(gsc_root, "train")
    validation = gsc.list_utterances(gsc_root, "validation")
    test = gsc.list_utterances(gsc_root, "test")
    assert [(u.word, u.speaker) for u in train] == [("yes", "aa11"), ("zero", "aa11")]
    assert [(u.word, u.speaker) for u in validation] == [("yes", "bb22")]
    assert [(u.word, u.speaker) for u in test] == [("yes", "cc33"), ("zero", "dd44")]
    assert [u.label for u in test] == [gsc.WORDS_V2.index("yes"), gsc.WORDS_V2.index("zero")]
    assert len(gsc.WORDS_V2) == 35


def test_load_clip_pads_then_resamples(gsc_root):
    clip = gsc.load_clip(gsc_root / "yes" / "aa11_nohash_0.wav")
    assert clip.shape == (8000,)
    assert np.abs(clip[6200:]).max() < 1e-2  # the padding after 0.75 s stays silent
    assert np.abs(clip[1000:5000]).max() > 0.25


def test_missing_lists_message(tmp_path):
    (tmp_path / "yes").mkdir()
    with pytest.raises(gsc.GSCError, match=r"validation_list\.txt"):
        gsc.list_utterances(tmp_path, "train")
