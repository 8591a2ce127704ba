"""The batch saliency command: Parquet per chunk, resuming, process pool and Ray."""

from __future__ import annotations

import os

import pandas as pd
import pytest
import torch

from analysis.atari.batch import BatchConfig, BatchError, read_results, result_dir, run_batch
from dashboard.cli import main
from models.atari.policy import ActorCriticConfig, NatureActorCritic
from models.registry import save_checkpoint
from tests.conftest import REPO

SAMPLE = (
    REPO / "data" / "samples" / "atari_head" / "ms_pacman" / "593_RZ_5037271_Aug-05-15-35-12.txt"
)
FRAMES = 12


@pytest.fixture(scope="module")
def agent_spec(tmp_path_factory):
    torch.manual_seed(0)
    model = NatureActorCritic(ActorCriticConfig(features_dim=32))
    stem = tmp_path_factory.mktemp("agent") / "tiny-agent"
    card = {
        "name": "tiny-agent",
        "area": "atari",
        "architecture": "NatureActorCritic",
        "config": {},
        "data": "none (random initialisation)",
        "command": "test fixture",
        "metrics": {},
        "seed": 0,
        "commit": "test",
        "game": "ms_pacman",
    }
    save_checkpoint(stem, model.state_dict(), card)
    return f"checkpoint:{stem}"


def _config(agent_spec, out, **kwargs):
    return BatchConfig(
        trial=str(SAMPLE),
        agents=(agent_spec,),
        methods=("saliency",),
        out_dir=str(out),
        chunk_size=4,
        limit=FRAMES,
        **kwargs,
    )


@pytest.fixture(scope="module")
def one_shot(agent_spec, tmp_path_factory):
    out = tmp_path_factory.mktemp("one_shot")
    result = run_batch(_config(agent_spec, out, with_emd=True))
    return result, read_results(result_dir(out, SAMPLE.stem, agent_spec, "saliency", "actor"))


def test_rows_for_every_labelled_frame(one_shot):
    result, frame = one_shot
    assert result["chunks_run"] == 3
    assert len(frame) == FRAMES
    assert frame["frame_index"].is_monotonic_increasing
    assert frame["nss"].notna().all()
    assert frame["emd"].notna().all()
    assert frame["auc_shuffled"].notna().all()
    assert set(frame["method"]) == {"saliency"}
    assert result["results"][0]["frames"] == FRAMES


def test_matches_page_pipeline(one_shot, agent_spec):
    from analysis.atari.batch import load_agent
    from analysis.atari.frames import TrialSequence
    from analysis.atari.pipeline import analyse_frames
    from data.atari_head import AtariHeadTrial

    _, frame = one_shot
    sequence = TrialSequence(AtariHeadTrial(SAMPLE))
    rows = pd.DataFrame(
        analyse_frames(
            load_agent(agent_spec), sequence, [int(frame.frame_index[5])], method="saliency"
        )
    )
    assert rows["nss"][0] == pytest.approx(frame["nss"][5], rel=1e-6)
    assert rows["kl"][0] == pytest.approx(frame["kl"][5], rel=1e-6)


def test_resume_skips_finished_chunks(agent_spec, one_shot, tmp_path):
    first = run_batch(_config(agent_spec, tmp_path, max_chunks=1))
    assert first["chunks_run"] == 1
    assert first["chunks_left"] == 2
    folder = result_dir(tmp_path, SAMPLE.stem, agent_spec, "saliency", "actor")
    finished = sorted(folder.glob("frames-*.parquet"))
    assert len(finished) == 1
    stamp = finished[0].stat().st_mtime_ns
    second = run_batch(_config(agent_spec, tmp_path))
    assert second["chunks_run"] == 2
    assert second["chunks_skipped"] == 1
    assert finished[0].stat().st_mtime_ns == stamp
    resumed = read_results(folder)
    pd.testing.assert_frame_equal(resumed.drop(columns="emd"), one_shot[1].drop(columns="emd"))
    assert not list(folder.glob(".*.tmp"))


def test_two_local_processes(agent_spec, one_shot, tmp_path):
    run_batch(_config(agent_spec, tmp_path, workers=2, with_emd=True))
    frame = read_results(result_dir(tmp_path, SAMPLE.stem, agent_spec, "saliency", "actor"))
    pd.testing.assert_frame_equal(frame, one_shot[1])


@pytest.mark.slow
def test_ray_tasks(agent_spec, one_shot, tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    # Ray's workers inherit the environment of the process that starts the local cluster.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        result = run_batch(_config(agent_spec, tmp_path, ray_address="auto", with_emd=True))
    finally:
        ray.shutdown()
    assert result["chunks_run"] == 3
    frame = read_results(result_dir(tmp_path, SAMPLE.stem, agent_spec, "saliency", "actor"))
    pd.testing.assert_frame_equal(frame, one_shot[1])


def test_mismatched_agent_rejected(tmp_path):
    from tests.conftest import shared_path

    breakout = shared_path("baby-a3c", "breakout-v4.model.80.tar")
    with pytest.raises(BatchError, match="4 actions but ms_pacman has 9"):
        run_batch(_config(f"baby-a3c:{breakout}", tmp_path))


def test_unknown_method_rejected(agent_spec, tmp_path):
    with pytest.raises(BatchError, match="unknown methods"):
        run_batch(
            BatchConfig(
                trial=str(SAMPLE), agents=(agent_spec,), methods=("lime",), out_dir=str(tmp_path)
            )
        )


def test_cli_batch(agent_spec, tmp_path, capsys):
    status = main(
        [
            "batch",
            "saliency",
            "--trial",
            str(SAMPLE),
            "--agent",
            agent_spec,
            "--methods",
            "saliency",
            "--out",
            str(tmp_path),
            "--limit",
            "4",
            "--chunk-size",
            "4",
        ]
    )
    assert status == 0
    assert "1 chunks computed" in capsys.readouterr().out
    status = main(
        [
            "batch",
            "saliency",
            "--trial",
            str(tmp_path / "none.txt"),
            "--agent",
            agent_spec,
            "--out",
            str(tmp_path),
        ]
    )
    assert status == 2
    assert "label file" in capsys.readouterr().err
