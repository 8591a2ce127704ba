"""Saliency and similarity metrics for every labelled frame of a trial, on many processes.

The labelled frames of a trial are split into chunks of consecutive frames. Each chunk is one
task: it loads the trial and the agent (once per process), runs
:func:`analysis.atari.pipeline.analyse_frames` and writes its rows to a Parquet file through
a temporary file that replaces the target only when complete. A chunk whose file exists is
finished, so a run that was interrupted resumes where it stopped without redoing any frame.

Layout of the results::

    OUT/<trial>/<agent>/<method>-<target>/frames-<first>-<last>.parquet
    OUT/<trial>/<agent>/<method>-<target>/run.json      # configuration of the run
    OUT/<trial>/<agent>/<method>-<target>/summary.json  # written when every chunk exists

Tasks run in this process (one worker), on a pool of local processes, or as Ray tasks when a
Ray address is given (``"auto"`` joins a running cluster; a Ray already initialised in this
process is used as it is). Ray workers import this package, so it must be installed (or on
``PYTHONPATH``) on every node.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from data.atari_head import AtariHeadTrial
from data.atomic import atomic_path, write_json

log = logging.getLogger(__name__)

DEFAULT_CHUNK = 50  # frames per task


class BatchError(ValueError):
    """Raised for a batch request that cannot run; the message names the fix."""


@dataclass(frozen=True)
class BatchConfig:
    """One batch run.

    Attributes:
        trial: the trial's ``.txt`` label file.
        agents: agent specs: a shipped checkpoint name, ``checkpoint:STEM`` (a checkpoint
            trained with ``--out-dir``, path without suffix), ``zip:PATH`` or
            ``baby-a3c:PATH``.
        methods: saliency methods (:data:`analysis.saliency.compute.METHODS`).
        targets: ``"actor"`` and/or ``"critic"``.
        out_dir: results folder.
        game: the trial's game.
        workers: local processes (1 runs in this process).
        ray_address: run chunks as Ray tasks on this cluster instead of local processes.
        chunk_size: frames per task.
        with_emd: also compute EMD (the slowest metric).
        limit: only the first ``limit`` labelled frames (0: all).
        max_chunks: stop after this many new chunks (0: no limit), to split long runs.
    """

    trial: str
    agents: tuple[str, ...]
    methods: tuple[str, ...] = ("perturbation",)
    targets: tuple[str, ...] = ("actor",)
    out_dir: str = "results/atari"
    game: str = "ms_pacman"
    workers: int = 1
    ray_address: str | None = None
    chunk_size: int = DEFAULT_CHUNK
    with_emd: bool = False
    limit: int = 0
    max_chunks: int = 0


@dataclass(frozen=True)
class ChunkTask:
    """The frames of one chunk and where their rows go."""

    trial: str
    game: str
    agent: str
    method: str
    target: str
    indices: tuple[int, ...]
    out_path: str
    with_emd: bool
    states: np.ndarray | None = None  # [n, memory] recurrent state before each frame


def agent_slug(spec: str) -> str:
    """Return a folder name for an agent spec (letters, digits, ``.``, ``_``, ``-``)."""
    name = Path(spec.split(":", 1)[1]).name if ":" in spec else spec
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def load_agent(spec: str):
    """Load the agent named by ``spec`` (see :class:`BatchConfig`)."""
    from models.atari.agents import (
        load_baby_a3c_agent,
        load_checkpoint_agent,
        load_shipped,
        load_zoo_agent,
    )

    if spec.startswith("checkpoint:"):
        return load_checkpoint_agent(spec[len("checkpoint:") :])
    if spec.startswith("zip:"):
        return load_zoo_agent(spec[4:])
    if spec.startswith("baby-a3c:"):
        return load_baby_a3c_agent(spec[len("baby-a3c:") :])
    return load_shipped(spec.removeprefix("shipped:"))


_CACHE: dict[tuple[str, str], Any] = {}


def _cached(kind: str, key: str, build):
    if (kind, key) not in _CACHE:
        _CACHE[(kind, key)] = build()
    return _CACHE[(kind, key)]


def run_chunk(task: ChunkTask) -> str:
    """Compute one chunk and write its Parquet file atomically; return the file path."""
    from analysis.atari.compare import fixation_indices
    from analysis.atari.frames import TrialSequence
    from analysis.atari.pipeline import analyse_frames

    torch.set_num_threads(1)
    sequence = _cached(
        "trial", task.trial, lambda: TrialSequence(AtariHeadTrial(task.trial), task.game)
    )
    agent = _cached("agent", task.agent, lambda: load_agent(task.agent))
    cells = _cached(
        "cells",
        task.trial,
        lambda: fixation_indices([sequence.gaze(i) for i in range(len(sequence))]),
    )
    states: list[torch.Tensor | None] = [None] * len(sequence)
    if task.states is not None:
        for index, state in zip(task.indices, task.states, strict=True):
            states[index] = torch.from_numpy(state)[None]
    rows = analyse_frames(
        agent,
        sequence,
        list(task.indices),
        method=task.method,
        target=task.target,
        states=states,
        cells=cells,
        with_emd=task.with_emd,
    )
    frame = pd.DataFrame(rows)
    frame.insert(0, "trial", sequence.name)
    frame.insert(1, "agent", agent_slug(task.agent))
    frame.insert(2, "method", task.method)
    frame.insert(3, "target", task.target)
    path = Path(task.out_path)
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)
    return str(path)


def result_dir(
    out_dir: str | os.PathLike[str], trial: str, agent: str, method: str, target: str
) -> Path:
    """Return the folder of one (trial, agent, method, target) result."""
    return Path(out_dir) / trial / agent_slug(agent) / f"{method}-{target}"


def read_results(folder: str | os.PathLike[str]) -> pd.DataFrame:
    """Read every finished chunk of a result folder, ordered by frame index.

    Raises:
        BatchError: the folder has no finished chunk.
    """
    parts = sorted(Path(folder).glob("frames-*.parquet"))
    if not parts:
        raise BatchError(f"{folder} holds no finished chunk; run `glimpse batch saliency` first")
    frame = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    return frame.sort_values("frame_index").reset_index(drop=True)


def _plan(config: BatchConfig) -> tuple[list[ChunkTask], int]:
    from analysis.atari.frames import TrialSequence, recurrent_states
    from models.atari.agents import AgentMismatchError

    trial = AtariHeadTrial(config.trial)
    sequence = TrialSequence(trial, config.game)
    position = {frame_id: i for i, frame_id in enumerate(sequence.ids)}
    labelled = [position[f] for f in trial.labelled_frame_ids]
    if config.limit:
        labelled = labelled[: config.limit]
    if not labelled:
        raise BatchError(f"trial {trial.name} has no labelled frame with a PNG")
    from data.atari import AtariEnvConfig, action_meanings

    n_actions = len(action_meanings(AtariEnvConfig(game=config.game)))
    tasks, done = [], 0
    for spec in config.agents:
        agent = load_agent(spec)
        try:
            agent.check_game(config.game, n_actions)
        except AgentMismatchError as error:
            raise BatchError(str(error)) from error
        states = None
        if agent.recurrent:
            states = torch.cat(recurrent_states(agent, sequence)).numpy()  # [frames, memory]
        for method in config.methods:
            for target in config.targets:
                folder = result_dir(config.out_dir, trial.name, spec, method, target)
                folder.mkdir(parents=True, exist_ok=True)
                write_json(
                    folder / "run.json",
                    {**asdict(config), "agent": spec, "method": method, "target": target},
                )
                for start in range(0, len(labelled), config.chunk_size):
                    indices = tuple(labelled[start : start + config.chunk_size])
                    path = folder / f"frames-{indices[0]:06d}-{indices[-1]:06d}.parquet"
                    if path.exists():
                        done += 1
                        continue
                    tasks.append(
                        ChunkTask(
                            trial=str(config.trial),
                            game=config.game,
                            agent=spec,
                            method=method,
                            target=target,
                            indices=indices,
                            out_path=str(path),
                            with_emd=config.with_emd,
                            states=None if states is None else states[list(indices)],
                        )
                    )
    return tasks, done


def _run_ray(tasks: list[ChunkTask], address: str) -> list[str]:
    try:
        import ray
    except ImportError as error:
        raise BatchError(
            "--ray-address needs Ray; install it with `pip install glimpse-lab[cluster]`"
        ) from error
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    remote = ray.remote(num_cpus=1)(run_chunk)
    return list(ray.get([remote.remote(task) for task in tasks]))


def run_batch(config: BatchConfig) -> dict[str, Any]:
    """Run every unfinished chunk, then write a summary for each finished result.

    Returns:
        ``{"chunks_run", "chunks_skipped", "chunks_left", "results": [{folder, frames, means}]}``.

    Raises:
        BatchError: the trial has no labelled frames, an agent does not fit the game, or an
            option is invalid.
    """
    from analysis.saliency.compute import METHODS, TARGETS

    bad = [m for m in config.methods if m not in METHODS] + [
        t for t in config.targets if t not in TARGETS
    ]
    if bad:
        raise BatchError(
            f"unknown methods or targets {bad}; methods: {METHODS}, targets: {TARGETS}"
        )
    if config.workers < 1 or config.chunk_size < 1:
        raise BatchError(
            f"workers and chunk_size must be at least 1, got {config.workers}, {config.chunk_size}"
        )
    tasks, skipped = _plan(config)
    pending = tasks[: config.max_chunks] if config.max_chunks else tasks
    log.info("%d chunks to run, %d already finished", len(pending), skipped)

    if config.ray_address:
        _run_ray(pending, config.ray_address)
    elif config.workers == 1:
        for number, task in enumerate(pending, start=1):
            run_chunk(task)
            log.info("chunk %d/%d written: %s", number, len(pending), Path(task.out_path).name)
    else:
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(config.workers, mp_context=context) as pool:
            for number, path in enumerate(pool.map(run_chunk, pending), start=1):
                log.info("chunk %d/%d written: %s", number, len(pending), Path(path).name)

    summaries = []
    trial_name = Path(config.trial).stem
    left = len(tasks) - len(pending)
    for spec in config.agents:
        for method in config.methods:
            for target in config.targets:
                folder = result_dir(config.out_dir, trial_name, spec, method, target)
                if left:
                    continue
                frame = read_results(folder)
                summaries.append(write_summary(folder, frame))
    return {
        "chunks_run": len(pending),
        "chunks_skipped": skipped,
        "chunks_left": left,
        "results": summaries,
    }


def write_summary(folder: Path, frame: pd.DataFrame) -> dict[str, Any]:
    """Write ``summary.json`` (mean of each metric over frames that have it) and return it."""
    from analysis.atari.compare import ALL_METRICS

    means = {m: (float(frame[m].mean()) if frame[m].notna().any() else None) for m in ALL_METRICS}
    counts = {m: int(frame[m].notna().sum()) for m in ALL_METRICS}
    summary = {"folder": str(folder), "frames": len(frame), "means": means, "counts": counts}
    write_json(folder / "summary.json", summary)
    return summary
