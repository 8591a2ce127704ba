"""Run the backdoor stages from the command line: clean training, poisoning, defences.

Checkpoints, under ``models/checkpoints/clip`` or the folder that ``--out-dir`` sets:

- ``clean``: the clean CLIP;
- ``poisoned-ATTACK``: the poisoned CLIP with its trigger's tensors stored as ``trigger.*``;
- ``defence-ATTACK``: the CBPT-style inverted trigger and prompt contexts of every seed
  (``seedN.mask``, ``seedN.pattern``, ``seedN.context``), with the CA/ASR of every defence and
  seed in its card.
"""

from __future__ import annotations

import argparse
import copy
import logging
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from analysis.backdoor.attacks import PoisonConfig, poison_clip
from analysis.backdoor.badclip import PatchOptimisation, optimise_patch
from analysis.backdoor.baselines import FineTuneConfig
from analysis.backdoor.defence import DefenceConfig, defend_once, summarise
from analysis.backdoor.evaluation import encode_test_set, score
from analysis.backdoor.inspection import load_attack
from analysis.backdoor.inversion import InversionConfig
from analysis.backdoor.prompt_tuning import PromptTuningConfig
from analysis.backdoor.triggers import ATTACKS, make_trigger
from data.fashion_mnist import default_root, load_split
from models.clip.model import (
    ClipBundle,
    TinyClipConfig,
    clip_card_config,
    load_clip_checkpoint,
    round_to_fp16_,
)
from models.clip.train import CHECKPOINT_AREA, CLEAN_NAME, CleanTrainConfig, train
from models.clip.training import ContrastiveSchedule
from models.clip.zero_shot import class_text_features
from models.registry import CHECKPOINT_ROOT, CheckpointError, git_commit, save_checkpoint

log = logging.getLogger(__name__)


def resolve_data_dir(value: str | None) -> str:
    """Return the Fashion-MNIST folder from ``--data-dir`` or the fetched copy.

    Raises:
        ValueError: neither is available.
    """
    if value:
        return value
    root = default_root()
    if root is None:
        raise ValueError(
            "no Fashion-MNIST folder given and none fetched; pass --data-dir FOLDER or run "
            "`glimpse data fetch fashion-mnist`"
        )
    return str(root)


def checkpoint_dir(value: str | None) -> Path:
    """Return the checkpoint folder from ``--out-dir`` or the shipped one."""
    return Path(value) if value else CHECKPOINT_ROOT / CHECKPOINT_AREA


def run_clean(args: argparse.Namespace, command: str) -> dict:
    """Train the clean CLIP with the command-line settings."""
    schedule = ContrastiveSchedule(
        epochs=args.epochs or 4,
        batch_size=args.batch_size,
        lr=args.lr or 1e-3,
        warmup_steps=300,
        seed=args.seed,
    )
    config = CleanTrainConfig(
        data_dir=resolve_data_dir(args.data_dir),
        schedule=schedule,
        limit=args.limit,
        test_limit=args.test_limit,
        out=str(checkpoint_dir(args.out_dir) / CLEAN_NAME),
        command=command,
    )
    return train(config)


def poisoned_name(attack: str) -> str:
    """Return the checkpoint name of the CLIP poisoned by ``attack``."""
    return f"poisoned-{attack}"


def defence_name(attack: str) -> str:
    """Return the checkpoint name of the defence results for ``attack``."""
    return f"defence-{attack}"


def target_index(bundle: ClipBundle, name: str) -> int:
    """Return the class index of caption name ``name``.

    Raises:
        ValueError: no class has that name.
    """
    names = [n.lower() for n in bundle.class_names]
    if name.lower() not in names:
        raise ValueError(
            f"target {name!r} is not a class; choose one of {', '.join(bundle.class_names)}"
        )
    return names.index(name.lower())


def _attacks(value: str) -> tuple[str, ...]:
    return ATTACKS if value == "all" else (value,)


def _test_split(args: argparse.Namespace, data_dir: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = load_split(data_dir, "test")
    if args.test_limit:
        images, labels = images[: args.test_limit], labels[: args.test_limit]
    return images, labels


def run_poison(args: argparse.Namespace, command: str) -> dict[str, dict]:
    """Fine-tune one poisoned CLIP per attack from the clean checkpoint and save each."""
    data_dir = resolve_data_dir(args.data_dir)
    folder = checkpoint_dir(args.out_dir)
    train_images, train_labels = load_split(data_dir, "train")
    if args.limit:
        train_images, train_labels = train_images[: args.limit], train_labels[: args.limit]
    test_images, test_labels = _test_split(args, data_dir)
    clean, clean_card, _ = load_clip_checkpoint(folder / CLEAN_NAME)
    target = target_index(clean, args.target)
    with torch.no_grad():
        target_text = class_text_features(clean)[target]
    results = {}
    for attack in _attacks(args.attack):
        # Trigger (the BadCLIP-style patch is optimised on the clean model first).
        started = time.perf_counter()
        bundle = copy.deepcopy(clean)
        trigger = make_trigger(attack, bundle.image_size, seed=args.seed)
        extra: dict = {}
        if attack == "badclip":
            patch = PatchOptimisation(seed=args.seed)
            losses = optimise_patch(
                bundle, trigger, train_images, train_labels, target, target_text, patch
            )
            extra = {"patch_optimisation": asdict(patch), "patch_loss": [losses[0], losses[-1]]}

        # Poisoned fine-tuning, then CA and ASR of the weights as they are saved (fp16).
        schedule = ContrastiveSchedule(
            epochs=args.epochs or 1,
            batch_size=args.batch_size,
            lr=args.lr or 1e-4,
            warmup_steps=50,
            seed=args.seed,
        )
        config = PoisonConfig(target=target, rate=args.poison_rate, schedule=schedule)
        poison_metrics = poison_clip(bundle, trigger, train_images, train_labels, config)
        round_to_fp16_(bundle.model)
        trigger.tensors = {key: value.half().float() for key, value in trigger.tensors.items()}
        encoded = encode_test_set(bundle, test_images, test_labels, trigger)
        with torch.no_grad():
            metrics = score(bundle, encoded, class_text_features(bundle), target)
        metrics.update(poison_metrics)
        metrics["seconds"] = round(time.perf_counter() - started, 1)
        metrics["clean_model_accuracy"] = clean_card["metrics"]["zero_shot_clean_accuracy"]
        log.info(
            "%s: CA %.4f ASR %.4f",
            trigger.label,
            metrics["clean_accuracy"],
            metrics["attack_success_rate"],
        )

        # Save the poisoned weights with the trigger's tensors beside them.
        attack_card = {
            "trigger": trigger.card(),
            "target": target,
            "target_name": bundle.class_names[target],
            "poison_rate": args.poison_rate,
            "schedule": asdict(schedule),
            "base": CLEAN_NAME,
            **extra,
        }
        data = (
            f"Fashion-MNIST train ({len(train_images)} images), "
            f"{poison_metrics['poisoned_images']} of them triggered with captions naming "
            f"{bundle.class_names[target]!r}; test {len(test_images)} images"
        )
        card = _poisoned_card(
            attack, bundle, clean_card, attack_card, data, command, metrics, args.seed
        )
        state = {**bundle.model.state_dict(), **trigger.state_dict()}
        save_checkpoint(folder / poisoned_name(attack), state, card, dtype=torch.float16)
        results[attack] = metrics
    return results


def _poisoned_card(
    attack: str,
    bundle: ClipBundle,
    clean_card: dict,
    attack_card: dict,
    data: str,
    command: str,
    metrics: dict,
    seed: int,
) -> dict:
    model_config = TinyClipConfig.from_dict(clean_card["config"]["model"])
    return {
        "name": poisoned_name(attack),
        "area": CHECKPOINT_AREA,
        "architecture": clean_card["architecture"],
        "config": {**clip_card_config(bundle, model_config), "attack": attack_card},
        "data": data,
        "command": command,
        "metrics": metrics,
        "seed": seed,
        "commit": git_commit(),
    }


def run_defend(args: argparse.Namespace, command: str) -> dict[str, dict]:
    """Run every defence on each poisoned checkpoint over ``--seeds`` and save the results."""
    data_dir = resolve_data_dir(args.data_dir)
    folder = checkpoint_dir(args.out_dir)
    train_images, train_labels = load_split(data_dir, "train")
    test_images, test_labels = _test_split(args, data_dir)
    config = DefenceConfig(
        shots_per_class=args.shots,
        inversion=InversionConfig(steps=args.inversion_steps),
        prompts=PromptTuningConfig(steps=args.prompt_steps),
        finetune=FineTuneConfig(epochs=args.finetune_epochs),
    )
    results = {}
    for attack in _attacks(args.attack):
        bundle, trigger, card = load_attack(folder, attack)
        target = int(card["config"]["attack"]["target"])
        encoded = encode_test_set(bundle, test_images, test_labels, trigger)
        per_seed, tensors = {}, {}
        for seed in args.seeds:
            result = defend_once(
                bundle,
                trigger,
                target,
                train_images,
                train_labels,
                test_images,
                test_labels,
                encoded,
                config,
                seed,
            )
            per_seed[seed] = result.metrics
            if result.inverted is not None:
                tensors.update(result.inverted.state_dict(prefix=f"seed{seed}."))
                tensors[f"seed{seed}.context"] = result.context
        summary = summarise(per_seed)
        defence_card = {
            "name": defence_name(attack),
            "area": CHECKPOINT_AREA,
            "architecture": "CBPT-style inverted triggers and class-wise prompt contexts",
            "config": {
                "attack": attack,
                "poisoned": poisoned_name(attack),
                "target": target,
                "seeds": list(args.seeds),
                "defence": asdict(config),
            },
            "data": (
                f"{args.shots} Fashion-MNIST training images per class drawn per seed; "
                f"scored on {len(test_labels)} test images"
            ),
            "command": command,
            "metrics": {"per_seed": {str(k): v for k, v in per_seed.items()}, "summary": summary},
            "seed": int(args.seeds[0]),
            "commit": git_commit(),
        }
        save_checkpoint(folder / defence_name(attack), tensors, defence_card, dtype=torch.float16)
        results[attack] = summary
    return results


def run_training(args: argparse.Namespace, command: str) -> int:
    """Run the stages that ``--stage`` names and return an exit status."""
    try:
        if args.stage in ("clean", "all"):
            run_clean(args, command)
        if args.stage in ("poison", "all"):
            run_poison(args, command)
        if args.stage in ("defend", "all"):
            run_defend(args, command)
    except (ValueError, CheckpointError) as error:
        log.error("%s", error)
        return 2
    return 0
