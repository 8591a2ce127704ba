"""The Atari-HEAD trial reader and writer."""

from __future__ import annotations

import tarfile

import numpy as np
import pytest

from data.atari_head import (
    AtariHeadTrial,
    FrameNotFoundError,
    TrialError,
    export_excerpt,
    parse_label_row,
    write_trial,
)
from tests.conftest import REPO, shared_path
from tests.data.atari_head_fixtures import messy_trial, png, write_archive

REAL_TRIAL = ("atari-head", "ms_pacman", "593_RZ_5037271_Aug-05-15-35-12.txt")


@pytest.fixture
def trial(tmp_path):
    return AtariHeadTrial(messy_trial(tmp_path))


def test_parse_row_fields():
    label = parse_label_row("RZ_5037271_12,3,66481,611,10,4,79.85,105.17,-1,300", 5)
    assert label.frame_id == "RZ_5037271_12"
    assert label.number == 12
    assert (label.episode_id, label.score, label.duration_ms) == (3, 66481, 611)
    assert (label.unclipped_reward, label.action, label.line) == (10, 4, 5)
    np.testing.assert_allclose(label.gaze_xy, [[79.85, 105.17], [-1, 300]])


def test_parse_row_null_fields():
    label = parse_label_row("RZ_1_2,null,null,null,null,null,null", 2)
    assert label.gaze_xy is None
    assert label.score is None
    assert label.action is None


def test_bad_rows_skipped_with_reasons(trial):
    reasons = dict(trial.report.bad_rows)
    assert sorted(reasons) == [5, 6, 7, 10]
    assert "columns" in reasons[5]
    assert "'ten'" in reasons[6]
    assert "even" in reasons[7]
    assert "'x'" in reasons[10]
    assert trial.report.duplicate_rows == [(9, "AB_123_1")]


def test_quirky_frames_kept(trial):
    assert trial.frame_ids == ["AB_123_1", "AB_123_2", "AB_123_3", "AB_123_8"]
    assert trial.labelled_frame_ids == ["AB_123_1", "AB_123_2", "AB_123_3"]
    assert trial.report.null_gaze == ["AB_123_2"]
    assert trial.report.off_screen_samples == 2
    assert trial.report.frames_without_label == ["AB_123_8"]
    assert trial.report.labels_without_png == ["AB_123_7"]
    assert trial.report.other_members == ["1_AB_123_Jan-01-00-00-00/notes.txt"]
    assert trial.gaze("AB_123_8") is None
    assert trial.gaze("AB_123_3").shape == (3, 2)  # off-screen samples kept as recorded
    summary = " ".join(trial.report.summary())
    assert "4 label rows skipped" in summary
    assert "1 frames have a PNG but no label row" in summary


def test_frame_decoded(trial):
    frame = trial.frame("AB_123_3")
    assert frame.shape == (210, 160, 3)
    assert frame.dtype == np.uint8
    assert int(frame[0, 0, 0]) == 60


def test_label_without_png_raises_clear_error(trial):
    with pytest.raises(FrameNotFoundError, match="has a label row, but its PNG is missing"):
        trial.frame("AB_123_7")


def test_previous_ids_pad_with_first(trial):
    assert trial.previous_ids("AB_123_2", 4) == ["AB_123_1", "AB_123_1", "AB_123_1", "AB_123_2"]


@pytest.mark.parametrize(
    ("member_name", "kind"),
    [
        ("../escape.png", tarfile.REGTYPE),
        ("/abs.png", tarfile.REGTYPE),
        ("t/link.png", tarfile.SYMTYPE),
    ],
)
def test_unsafe_archive_rejected(tmp_path, member_name, kind):
    label = messy_trial(tmp_path)
    info = tarfile.TarInfo(member_name)
    info.type = kind
    payload = png(1)
    if kind == tarfile.SYMTYPE:
        info.linkname = "/etc/passwd"
        payload = None
    else:
        info.size = len(payload)
    write_archive(
        label.with_suffix(".tar.bz2"), label.stem, {"AB_123_1.png": png(1)}, [(info, payload)]
    )
    trial = AtariHeadTrial(label)
    with pytest.raises(TrialError, match="rejected"):
        trial.frame_ids
    assert not (tmp_path.parent / "escape.png").exists()


def test_missing_archive_and_bad_header(tmp_path):
    label = tmp_path / "x.txt"
    label.write_text("a,b,c\n", encoding="utf-8")
    with pytest.raises(TrialError, match="frames archive"):
        AtariHeadTrial(label)
    write_archive(tmp_path / "x.tar.bz2", "x", {})
    with pytest.raises(TrialError, match="header"):
        AtariHeadTrial(label)


def test_write_trial_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    screens = [rng.integers(0, 255, (210, 160, 3), dtype=np.uint8) for _ in range(3)]
    gaze = [np.array([[10.25, 20.5], [11.0, 22.0]]), None, np.array([[159.5, 209.5]])]
    label = write_trial(tmp_path, "mine", screens, gaze, subject="ME", session="7")
    trial = AtariHeadTrial(label)
    assert trial.frame_ids == ["ME_7_1", "ME_7_2", "ME_7_3"]
    np.testing.assert_array_equal(trial.frame("ME_7_2"), screens[1])
    np.testing.assert_allclose(trial.gaze("ME_7_1"), gaze[0])
    assert trial.gaze("ME_7_2") is None
    assert trial.report.null_gaze == ["ME_7_2"]


def test_write_trial_failure_keeps_previous(tmp_path):
    screen = np.zeros((210, 160, 3), dtype=np.uint8)
    label = write_trial(tmp_path, "mine", [screen], [np.array([[1.0, 1.0]])])
    before = label.read_bytes(), label.with_suffix(".tar.bz2").read_bytes()
    with pytest.raises(ValueError, match="210x160x3"):
        write_trial(tmp_path, "mine", [screen, np.zeros((84, 84), np.uint8)], [None, None])
    assert (label.read_bytes(), label.with_suffix(".tar.bz2").read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.tar.bz2", "mine.txt"]


def test_real_trial_counts():
    trial = AtariHeadTrial(shared_path(*REAL_TRIAL))
    assert len(trial.frame_ids) == 3000
    assert len(trial.labels) == 2982
    assert len(trial.report.frames_without_label) == 18
    assert trial.report.bad_rows == []
    assert trial.report.off_screen_samples == 529
    assert trial.frame(trial.frame_ids[0]).shape == (210, 160, 3)


def test_excerpt_copies_rows_unchanged(tmp_path):
    (tmp_path / "a").mkdir()
    source = AtariHeadTrial(messy_trial(tmp_path / "a"))
    out = tmp_path / "b"
    excerpt = AtariHeadTrial(export_excerpt(source, out, first=1, count=3))
    assert excerpt.frame_ids == ["AB_123_2", "AB_123_3", "AB_123_8"]
    assert excerpt.report.null_gaze == ["AB_123_2"]
    np.testing.assert_array_equal(excerpt.frame("AB_123_3"), source.frame("AB_123_3"))


def test_shipped_sample_reads():
    sample = AtariHeadTrial(
        REPO / "data" / "samples" / "atari_head" / "ms_pacman" / f"{REAL_TRIAL[-1]}"
    )
    assert len(sample.frame_ids) == 200
    assert len(sample.labelled_frame_ids) == 198
