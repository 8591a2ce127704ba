"""``glimpse batch saliency``: saliency and similarity metrics over a whole Atari-HEAD trial."""

from __future__ import annotations

import argparse
import logging
import sys

log = logging.getLogger(__name__)


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trial", required=True, help="the trial's .txt label file (.tar.bz2 beside it)"
    )
    parser.add_argument(
        "--agent",
        action="append",
        required=True,
        help="shipped checkpoint name, checkpoint:STEM, zip:PATH (SB3 / RL Zoo) or "
        "baby-a3c:PATH; repeatable",
    )
    parser.add_argument(
        "--methods",
        type=_csv,
        default=("perturbation",),
        help="comma-separated saliency methods: perturbation, saliency, ig-black, ig-blur, "
        "gradient-shap, occlusion (default perturbation)",
    )
    parser.add_argument(
        "--targets", type=_csv, default=("actor",), help="actor, critic or both, comma-separated"
    )
    parser.add_argument("--out", required=True, help="results folder (Parquet files per chunk)")
    parser.add_argument("--game", default="ms_pacman", help="the trial's game (default ms_pacman)")
    parser.add_argument("--workers", type=int, default=1, help="local processes (default 1)")
    parser.add_argument(
        "--ray-address", help="run chunks as Ray tasks on this cluster ('auto' joins a running one)"
    )
    parser.add_argument("--chunk-size", type=int, default=50, help="frames per task (default 50)")
    parser.add_argument(
        "--emd", action="store_true", help="also compute EMD (slow: ~0.5 s per frame)"
    )
    parser.add_argument(
        "--limit", type=int, default=0, help="only the first N labelled frames (0: all)"
    )
    parser.add_argument(
        "--max-chunks", type=int, default=0, help="stop after N new chunks (0: all)"
    )


def batch_command(args: argparse.Namespace) -> int:
    from analysis.atari.batch import BatchConfig, BatchError, run_batch
    from data.atari_head import TrialError

    config = BatchConfig(
        trial=args.trial,
        agents=tuple(args.agent),
        methods=args.methods,
        targets=args.targets,
        out_dir=args.out,
        game=args.game,
        workers=args.workers,
        ray_address=args.ray_address,
        chunk_size=args.chunk_size,
        with_emd=args.emd,
        limit=args.limit,
        max_chunks=args.max_chunks,
    )
    try:
        result = run_batch(config)
    except (BatchError, TrialError, ValueError) as error:
        print(f"batch saliency failed: {error}", file=sys.stderr)
        return 2
    print(
        f"{result['chunks_run']} chunks computed, {result['chunks_skipped']} already finished, "
        f"{result['chunks_left']} left"
    )
    for summary in result["results"]:
        means = ", ".join(f"{k} {v:.3f}" for k, v in summary["means"].items() if v is not None)
        print(f"{summary['folder']}: {summary['frames']} frames; {means}")
    return 0
