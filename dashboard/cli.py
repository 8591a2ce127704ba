"""The ``glimpse`` command line: start the dashboard, train and evaluate models, fetch data.

Each subcommand imports its area lazily, so ``glimpse dashboard`` starts without loading
PyTorch in this process.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"

# Server options, the same as .streamlit/config.toml, passed explicitly so that they apply
# from any working folder and in an installed copy that has no .streamlit folder.
STREAMLIT_OPTIONS = {
    "server.headless": "true",
    "server.maxUploadSize": "200",
    "server.fileWatcherType": "none",
    "browser.gatherUsageStats": "false",
    "client.toolbarMode": "minimal",
    "theme.base": "light",
}

log = logging.getLogger("glimpse")


def _dashboard(args: argparse.Namespace) -> int:
    command = [sys.executable, "-m", "streamlit", "run", str(APP)]
    options = dict(STREAMLIT_OPTIONS)
    options["server.port"] = str(args.port)
    options["server.address"] = args.address
    for key, value in options.items():
        command += [f"--{key}", value]
    print(f"Glimpse dashboard: http://{args.address}:{args.port}", flush=True)
    # Replace this process with the server: stopping it (a test fixture's terminate(), a
    # service manager) then stops Streamlit instead of leaving it running as an orphan.
    os.execve(sys.executable, command, dict(os.environ))


def _add_dashboard(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("dashboard", help="start the Streamlit dashboard")
    parser.add_argument(
        "--port", type=int, default=8501, help="TCP port to listen on (default 8501)"
    )
    parser.add_argument(
        "--address",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; 0.0.0.0 for all)",
    )
    parser.set_defaults(func=_dashboard)


def _data_fetch(args: argparse.Namespace) -> int:
    from data import sources

    try:
        source = sources.get(args.name)
    except KeyError as error:
        print(error.args[0], file=sys.stderr)
        return 2
    dest = Path(args.dest) if args.dest else sources.data_dir() / source.name
    kwargs = {
        key: value for key, value in vars(args).items() if key in ("base_url", "game") and value
    }
    accepted = inspect.signature(source.fetch).parameters
    unknown = [key for key in kwargs if key not in accepted]
    if unknown:
        options = ", ".join("--" + key.replace("_", "-") for key in unknown)
        print(f"{args.name} does not take {options}; run it without", file=sys.stderr)
        return 2
    try:
        path = source.fetch(dest, **kwargs)
    except (OSError, ValueError) as error:
        print(f"fetch of {args.name} failed: {error}", file=sys.stderr)
        return 1
    print(f"{source.name} is ready in {path}")
    return 0


def _data_list(_args: argparse.Namespace) -> int:
    from data import sources

    for source in sources.sources().values():
        print(f"{source.name:14s} {source.description} [{source.licence}]")
    return 0


def _add_data(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("data", help="list or download public datasets")
    data_sub = parser.add_subparsers(dest="data_command", required=True)
    fetch = data_sub.add_parser("fetch", help="download a dataset and verify its checksums")
    fetch.add_argument("name", help="dataset name; `glimpse data list` shows them")
    fetch.add_argument(
        "--dest", help="folder to fill (default: $GLIMPSE_DATA_DIR/NAME or ~/.cache/glimpse/NAME)"
    )
    fetch.add_argument("--base-url", help="mirror to download from instead of the publisher")
    fetch.add_argument("--game", help="game to fetch, for datasets split by game")
    fetch.set_defaults(func=_data_fetch)
    listing = data_sub.add_parser("list", help="list the datasets that can be fetched")
    listing.set_defaults(func=_data_list)


# Each area adds its subcommands here: verb -> area -> (help, module). The module defines
# ``add_<verb>_arguments(parser)`` and ``<verb>_command(args) -> int`` and imports heavy
# libraries only inside the command, so building this parser stays fast.
AREA_COMMANDS: dict[str, dict[str, tuple[str, str]]] = {
    "train": {
        "vision": ("train spiking classifiers on Fashion-MNIST", "models.vision.cli"),
        "language": ("train the language models on the Austen novels", "models.language.cli"),
        "speech": ("train SpikCommander on the Free Spoken Digit Dataset", "models.speech.cli"),
        "backdoor": ("train poisoned CLIPs and their defences", "analysis.backdoor.cli"),
        "atari": ("train PPO agents on Ms. Pac-Man and the human gaze model", "models.atari.cli"),
    },
    "eval": {
        "vision": ("test accuracy of the shipped Fashion-MNIST classifiers", "models.vision.cli"),
        "language": ("validation metrics of the shipped language models", "models.language.cli"),
        "speech": ("test SpikCommander; --ablation runs the branch ablation", "models.speech.cli"),
        "backdoor": ("CA/ASR of the shipped CLIPs per attack", "analysis.backdoor.cli"),
        "atari": (
            "returns of the shipped agents and the gaze model's held-out metrics",
            "models.atari.cli",
        ),
    },
    "batch": {
        "saliency": (
            "saliency and similarity metrics over an Atari-HEAD trial",
            "analysis.atari.batch_cli",
        ),
    },
}
VERB_HELP = {
    "train": "train models of one area",
    "eval": "evaluate the shipped models of one area",
    "batch": "run an analysis over a whole dataset",
}


def _add_area_commands(sub: argparse._SubParsersAction, verb: str) -> None:
    import importlib

    table = AREA_COMMANDS[verb]
    if not table:
        return
    parser = sub.add_parser(verb, help=VERB_HELP[verb])
    area_sub = parser.add_subparsers(dest="area", required=True)
    for area, (help_text, module_name) in table.items():
        module = importlib.import_module(module_name)
        area_parser = area_sub.add_parser(area, help=help_text)
        getattr(module, f"add_{verb}_arguments")(area_parser)
        area_parser.set_defaults(func=getattr(module, f"{verb}_command"))


def build_parser() -> argparse.ArgumentParser:
    """Build the ``glimpse`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="glimpse", description="Glimpse: look inside spiking, multimodal and RL models."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_dashboard(sub)
    _add_data(sub)
    for verb in AREA_COMMANDS:
        _add_area_commands(sub, verb)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``glimpse`` command and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return int(args.func(args) or 0)
