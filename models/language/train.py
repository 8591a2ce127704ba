"""Train the tokenizer and the six language models on the Austen novels.

``train(config) -> metrics`` trains one model and saves it with its card; the command line
(``glimpse train language``) wraps it. The six shipped models share one budget: the same
steps, batch, context, optimiser and schedule, so they differ only in attention and objective.
"""

from __future__ import annotations

import argparse
import logging
import math
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from data.austen import HELDOUT_FRACTION, CorpusSplit, default_root, load_corpus
from data.bpe import DEFAULT_VOCAB_SIZE, BPETokenizer, load_tokenizer, train_tokenizer
from models.language.batches import (
    IGNORE_INDEX,
    causal_pair,
    mask_tokens,
    random_windows,
    token_stream,
)
from models.language.config import LanguageModelConfig
from models.language.metrics import evaluate, token_bytes
from models.language.model import LanguageModel, build_model, count_parameters
from models.registry import CHECKPOINT_ROOT, git_commit, save_checkpoint

log = logging.getLogger(__name__)

AREA = "language"
TOKENIZER_DIR = "tokenizer"
PRESETS: dict[str, dict[str, str]] = {
    "wd-spikingformer": {"attention": "wssa", "objective": "causal"},
    "we-spikingformer": {"attention": "wssa", "objective": "masked"},
    "spikformer-causal": {"attention": "ssa", "objective": "causal"},
    "spikformer-masked": {"attention": "ssa", "objective": "masked"},
    "ann-causal": {"attention": "softmax", "objective": "causal"},
    "ann-masked": {"attention": "softmax", "objective": "masked"},
}
DATA_DESCRIPTION = (
    "Jane Austen, six novels (public domain); training text is the first 90 % of each novel, "
    "validation the last 10 % (cut at a paragraph boundary)"
)


@dataclass(frozen=True)
class TrainConfig:
    """One training run.

    Attributes:
        name: checkpoint name (a key of ``PRESETS`` for the shipped models).
        data_dir: folder with the novels (``emma.txt``, ...).
        out_dir: checkpoint folder; the tokenizer lives in ``out_dir/tokenizer``.
        attention, objective, neuron: see ``LanguageModelConfig``.
        steps: optimiser steps.
        batch_size: windows per step.
        lr: peak AdamW learning rate, reached after ``warmup`` steps, then cosine to 10 %.
        weight_decay: AdamW decay of weight matrices (not of norms, biases or positions).
        grad_clip: maximum gradient norm.
        seed: seed of initialisation and batch sampling.
        eval_windows: validation windows for the final metrics (0 for all).
        layers, width, heads, context, mlp_ratio, vocab_size, top_k, tau: model size and
            attention options (see ``LanguageModelConfig``).
        command: the command line recorded in the card.
    """

    name: str
    data_dir: str
    out_dir: str = str(CHECKPOINT_ROOT / AREA)
    attention: str = "wssa"
    objective: str = "causal"
    neuron: str = "nilif"
    steps: int = 400
    batch_size: int = 16
    lr: float = 2e-3
    warmup: int = 60
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    seed: int = 0
    eval_windows: int = 0
    layers: int = 4
    width: int = 128
    heads: int = 4
    context: int = 128
    mlp_ratio: int = 3
    vocab_size: int = DEFAULT_VOCAB_SIZE
    top_k: int = 1
    tau: float = 1.0
    command: str = ""


def learning_rate(step: int, config: TrainConfig) -> float:
    """Return the learning rate at ``step``: linear warmup, then cosine decay to 10 % of peak."""
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    progress = (step - config.warmup) / max(config.steps - config.warmup, 1)
    return config.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0))))


def ensure_tokenizer(
    out_dir: Path, corpus: CorpusSplit, vocab_size: int, command: str
) -> BPETokenizer:
    """Load the tokenizer in ``out_dir/tokenizer``, training it on the training split if absent.

    Raises:
        ValueError: an existing tokenizer has another vocabulary size; delete it to retrain.
    """
    folder = out_dir / TOKENIZER_DIR
    if (folder / "tokenizer.json").exists():
        tokenizer = load_tokenizer(folder)
        if tokenizer.vocab_size != vocab_size:
            raise ValueError(
                f"{folder} holds a tokenizer with {tokenizer.vocab_size} ids, but vocab_size is "
                f"{vocab_size}; delete that folder to retrain it, "
                f"or pass --vocab-size {tokenizer.vocab_size}"
            )
        return tokenizer
    log.info("training a %d-token byte-level BPE tokenizer", vocab_size)
    card = {"data": DATA_DESCRIPTION, "command": command, "commit": git_commit()}
    tokenizer = train_tokenizer(corpus.train_text(), vocab_size, card)
    tokenizer.save(folder)
    return tokenizer


def _param_groups(model: LanguageModel, weight_decay: float) -> list[dict]:
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        is_matrix = parameter.dim() >= 2 and name != "position"
        (decay if is_matrix else no_decay).append(parameter)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def _loss(model: LanguageModel, windows: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    if model.config.causal:
        inputs, targets = causal_pair(windows)
    else:
        inputs, targets = mask_tokens(windows, model.config.vocab_size, generator)
    logits = model(inputs)
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE_INDEX
    )


def train(config: TrainConfig) -> dict[str, float]:
    """Train one model, save it as ``out_dir/NAME`` with its card, and return its metrics.

    The metrics are the validation metrics of its objective (see ``models.language.metrics``)
    plus ``train_loss`` (mean of the last 50 steps), ``steps``, ``train_tokens`` and
    ``train_seconds``.

    Raises:
        data.austen.CorpusError: the novels are not in ``data_dir``.
    """
    torch.manual_seed(config.seed)
    out_dir = Path(config.out_dir)
    corpus = load_corpus(config.data_dir, HELDOUT_FRACTION)
    tokenizer = ensure_tokenizer(out_dir, corpus, config.vocab_size, config.command)
    train_stream = token_stream(tokenizer, corpus.train_text())
    val_stream = token_stream(tokenizer, corpus.validation_text())
    log.info(
        "%s: %d training and %d validation tokens",
        config.name,
        train_stream.numel(),
        val_stream.numel(),
    )

    model_config = LanguageModelConfig(
        vocab_size=tokenizer.vocab_size,
        width=config.width,
        layers=config.layers,
        heads=config.heads,
        context=config.context,
        mlp_ratio=config.mlp_ratio,
        attention=config.attention,
        objective=config.objective,
        neuron=config.neuron,
        top_k=config.top_k,
        tau=config.tau,
    )
    model = build_model(model_config)
    optimizer = torch.optim.AdamW(
        _param_groups(model, config.weight_decay), lr=config.lr, betas=(0.9, 0.95)
    )
    generator = torch.Generator().manual_seed(config.seed)
    window = config.context + 1 if model_config.causal else config.context
    log.info("%s: %d parameters, %s", config.name, count_parameters(model), model_config)

    recent: list[float] = []
    started = time.time()
    model.train()
    for step in range(config.steps):
        # sample a batch and set the scheduled learning rate
        windows = random_windows(train_stream, config.batch_size, window, generator)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, config)

        # forward, backward, clipped update
        loss = _loss(model, windows, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()

        recent = [*recent[-49:], float(loss.detach())]
        if step % 50 == 0 or step == config.steps - 1:
            log.info(
                "%s step %d/%d loss %.4f lr %.2e (%.0f s)",
                config.name,
                step,
                config.steps,
                recent[-1],
                learning_rate(step, config),
                time.time() - started,
            )
    train_seconds = time.time() - started

    metrics = evaluate(model, val_stream, token_bytes(tokenizer), config.eval_windows)
    metrics.update(
        train_loss=sum(recent) / max(len(recent), 1),
        steps=float(config.steps),
        train_tokens=float(config.steps * config.batch_size * config.context),
        train_seconds=train_seconds,
    )
    log.info("%s validation: %s", config.name, {k: round(v, 4) for k, v in metrics.items()})

    card = {
        "name": config.name,
        "area": AREA,
        "architecture": _architecture(model_config),
        "config": model_config.to_dict(),
        "training": {
            k: v for k, v in asdict(config).items() if k not in ("command", "data_dir", "out_dir")
        },
        "data": DATA_DESCRIPTION,
        "tokenizer": f"{TOKENIZER_DIR}/tokenizer.json",
        "command": config.command,
        "metrics": metrics,
        "seed": config.seed,
        "commit": git_commit(),
    }
    save_checkpoint(out_dir / config.name, model.checkpoint_state(), card, dtype=torch.float16)
    return metrics


def _architecture(config: LanguageModelConfig) -> str:
    kind = {
        ("wssa", "causal"): "WD-Spikingformer (CWSSA, our reconstruction)",
        ("wssa", "masked"): "WE-Spikingformer (WSSA, our reconstruction)",
        ("ssa", "causal"): "Spikformer-SSA decoder (causal Q K^T V)",
        ("ssa", "masked"): "Spikformer-SSA encoder (Q K^T V)",
        ("softmax", "causal"): "ANN transformer decoder (softmax attention)",
        ("softmax", "masked"): "ANN transformer encoder (softmax attention)",
    }[(config.attention, config.objective)]
    neuron = (
        f", {config.neuron.upper()}({config.time_steps}x{config.spike_steps})"
        if config.spiking
        else ""
    )
    return f"{kind}{neuron}, {config.layers} layers, width {config.width}, {config.heads} heads"


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``glimpse train language`` and return the exit status."""

    if args.threads:
        torch.set_num_threads(args.threads)
    data_dir = args.data_dir or default_root()
    if data_dir is None:
        print(
            "no Austen novels found: pass --data-dir FOLDER (with emma.txt, persuasion.txt, ...) "
            "or download them with `glimpse data fetch austen`",
            file=sys.stderr,
        )
        return 2
    command = "glimpse " + " ".join(shlex.quote(arg) for arg in sys.argv[1:])
    names = list(PRESETS) if args.model == "all" else [args.model]
    out_dir = Path(args.out_dir) if args.out_dir else CHECKPOINT_ROOT / AREA
    try:
        if args.model == "tokenizer":
            corpus = load_corpus(data_dir)
            tokenizer = ensure_tokenizer(out_dir, corpus, args.vocab_size, command)
            print(f"tokenizer with {tokenizer.vocab_size} ids in {out_dir / TOKENIZER_DIR}")
            return 0
        for name in names:
            config = TrainConfig(
                name=name,
                data_dir=str(data_dir),
                out_dir=str(out_dir),
                neuron=args.neuron,
                steps=args.steps,
                batch_size=args.batch_size,
                lr=args.lr,
                seed=args.seed,
                vocab_size=args.vocab_size,
                top_k=args.top_k,
                command=command,
                **PRESETS[name],
            )
            metrics = train(config)
            print(f"{name}: " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
    except (OSError, ValueError) as error:
        print(f"training failed: {error}", file=sys.stderr)
        return 1
    return 0
