"""``glimpse train atari``, ``glimpse eval atari`` and ``glimpse batch saliency``."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys

log = logging.getLogger(__name__)


def _command_line() -> str:
    args = sys.argv[1:]
    return "glimpse " + " ".join(shlex.quote(a) for a in args)


def _stages(text: str) -> tuple[int, ...]:
    try:
        stages = tuple(int(float(part)) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"--stages takes comma-separated frame counts such as 400000,800000; got {text!r}"
        ) from error
    if not stages:
        raise argparse.ArgumentTypeError("--stages needs at least one frame count")
    return stages


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="model", required=True)
    ppo = sub.add_parser("ppo", help="train PPO agents on live emulator frames")
    ppo.add_argument("--game", default="ms_pacman", help="Atari-HEAD game name (default ms_pacman)")
    ppo.add_argument("--variant", default="baseline", help="label of this hyperparameter setting")
    ppo.add_argument(
        "--stages",
        type=_stages,
        default=(400_000, 800_000, 1_200_000, 1_600_000, 2_000_000),
        help="emulator frames at which to save checkpoints; the last is the budget",
    )
    ppo.add_argument("--no-initial", action="store_true", help="do not save the untrained policy")
    ppo.add_argument("--gamma", type=float, default=0.99, help="discount factor (default 0.99)")
    ppo.add_argument(
        "--ent-coef", type=float, default=0.01, help="entropy coefficient (default 0.01)"
    )
    ppo.add_argument("--n-envs", type=int, default=8, help="parallel environments (default 8)")
    ppo.add_argument(
        "--eval-episodes", type=int, default=10, help="games per checkpoint after training"
    )
    ppo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ppo.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    ppo.add_argument("--out-dir", help="checkpoint folder (default: models/checkpoints/atari)")

    gaze = sub.add_parser("gaze", help="train the human gaze model on an Atari-HEAD trial")
    gaze.add_argument("--trial", help="trial .txt label file (its .tar.bz2 sits beside it)")
    gaze.add_argument("--epochs", type=int, default=30, help="passes over the training frames")
    gaze.add_argument("--batch-size", type=int, default=32, help="frames per step (default 32)")
    gaze.add_argument("--lr", type=float, default=1.0, help="Adadelta learning rate (default 1.0)")
    gaze.add_argument(
        "--held-out",
        type=float,
        default=0.2,
        help="fraction of frames, the trial's last block, held out",
    )
    gaze.add_argument(
        "--dropout", type=float, default=0.0, help="dropout after each hidden block (default 0)"
    )
    gaze.add_argument(
        "--patience",
        type=int,
        default=4,
        help="epochs without a lower validation KL before training stops (default 4)",
    )
    gaze.add_argument(
        "--limit", type=int, default=0, help="use only the first N labelled frames (0: all)"
    )
    gaze.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    gaze.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    gaze.add_argument("--out-dir", help="checkpoint folder (default: models/checkpoints/atari)")


def train_command(args: argparse.Namespace) -> int:
    if args.model == "ppo":
        from models.atari.train_ppo import PPOTrainConfig, train

        kwargs = {
            "variant": args.variant,
            "game": args.game,
            "stage_frames": args.stages,
            "save_initial": not args.no_initial,
            "gamma": args.gamma,
            "ent_coef": args.ent_coef,
            "n_envs": args.n_envs,
            "eval_episodes": args.eval_episodes,
            "seed": args.seed,
            "threads": args.threads,
            "command": _command_line(),
        }
        if args.out_dir:
            kwargs["out_dir"] = args.out_dir
        try:
            result = train(PPOTrainConfig(**kwargs))
        except ValueError as error:
            print(f"training failed: {error}", file=sys.stderr)
            return 2
        for stage in result["stages"]:
            print(
                f"{stage['name']}: return {stage['return_mean']:.1f} +- {stage['return_std']:.1f}"
            )
        return 0
    from models.atari.train_gaze import run_from_args

    return run_from_args(args, _command_line())


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--episodes", type=int, default=10, help="games per agent checkpoint (default 10)"
    )
    parser.add_argument("--seed", type=int, default=10_000, help="first game seed (default 10000)")
    parser.add_argument(
        "--trial", help="Atari-HEAD trial .txt for the gaze model's held-out metrics"
    )
    parser.add_argument(
        "--update-cards", action="store_true", help="write the results into the cards"
    )
    parser.add_argument(
        "--update-readme", action="store_true", help="rewrite the results table in README.md"
    )
    parser.add_argument(
        "--similarity-trial", help="trial for the similarity table (default: the shipped sample)"
    )
    parser.add_argument(
        "--stride", type=int, default=1, help="score every N-th trial frame (default 1)"
    )
    parser.add_argument("--no-similarity", action="store_true", help="skip the similarity table")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")


def eval_command(args: argparse.Namespace) -> int:
    from models.atari.report import run_from_args

    return run_from_args(args)
