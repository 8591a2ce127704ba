"""Run the CBPT-style defence and the baselines on one poisoned CLIP for one seed.

Every defence uses the same clean shots (``shots_per_class`` training images per class drawn
with the seed) and is scored on the same encoded test set:

- ``none``: zero-shot prompts of the poisoned model;
- ``cbpt``: CBPT-style, trigger inversion then class-wise prompt tuning with the inverted
  trigger (our reconstruction);
- ``prompts``: class-wise prompt tuning on the clean shots only (the CBPT-style defence without
  its inverted trigger, an ablation);
- ``finetune``: full fine-tuning; ``cleanclip``: CleanCLIP-style fine-tuning.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from analysis.backdoor.baselines import FineTuneConfig, cleanclip_finetune, finetune
from analysis.backdoor.evaluation import EncodedTestSet, encode_test_set, score
from analysis.backdoor.inversion import InversionConfig, InvertedTrigger, invert_trigger
from analysis.backdoor.prompt_tuning import PromptTuningConfig, tune_prompts
from analysis.backdoor.triggers import Trigger
from models.clip.model import ClipBundle, round_to_fp16_
from models.clip.zero_shot import class_text_features

log = logging.getLogger(__name__)

DEFENCES = ("none", "cbpt", "prompts", "finetune", "cleanclip")
DEFENCE_LABELS = {
    "none": "No defence",
    "cbpt": "CBPT-style",
    "prompts": "Class-wise prompts, no inversion",
    "finetune": "Fine-tuning",
    "cleanclip": "CleanCLIP-style",
}


@dataclass(frozen=True)
class DefenceConfig:
    """Settings shared by the defences of one run."""

    shots_per_class: int = 16
    inversion: InversionConfig = field(default_factory=InversionConfig)
    prompts: PromptTuningConfig = field(default_factory=PromptTuningConfig)
    finetune: FineTuneConfig = field(default_factory=FineTuneConfig)
    defences: tuple[str, ...] = DEFENCES


@dataclass
class SeedResult:
    """Outputs of one seed: metrics and seconds per defence, and the CBPT-style artefacts."""

    seed: int
    shot_indices: np.ndarray
    metrics: dict[str, dict[str, float]]
    inverted: InvertedTrigger | None = None
    context: torch.Tensor | None = None
    history: dict[str, Any] = field(default_factory=dict)


def draw_shots(labels: np.ndarray, shots_per_class: int, seed: int) -> np.ndarray:
    """Return sorted indices of ``shots_per_class`` images of every class, drawn with ``seed``.

    Raises:
        ValueError: a class has fewer images than ``shots_per_class``.
    """
    rng = np.random.default_rng(seed)
    picks = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        if len(members) < shots_per_class:
            raise ValueError(
                f"class {cls} has {len(members)} images, fewer than {shots_per_class} shots"
            )
        picks.append(rng.choice(members, size=shots_per_class, replace=False))
    return np.sort(np.concatenate(picks))


def _with_seed(config: Any, seed: int) -> Any:
    return type(config)(**{**config.__dict__, "seed": seed})


def defend_once(
    bundle: ClipBundle,
    trigger: Trigger,
    target: int,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    encoded: EncodedTestSet,
    config: DefenceConfig,
    seed: int,
) -> SeedResult:
    """Run every defence in ``config.defences`` on the poisoned ``bundle`` with one seed.

    ``encoded`` is the poisoned model's encoded test set; defences that change the image
    encoder encode the test set again. ``bundle`` itself is not changed.
    """
    shot_index = draw_shots(train_labels, config.shots_per_class, seed)
    shots, labels = train_images[shot_index], train_labels[shot_index]
    result = SeedResult(seed, shot_index, {})

    def record(name: str, started: float, metrics: dict[str, float]) -> None:
        metrics = {**metrics, "seconds": round(time.perf_counter() - started, 2)}
        result.metrics[name] = metrics
        log.info(
            "seed %d %s: CA %.4f ASR %.4f (%.1f s)",
            seed,
            name,
            metrics["clean_accuracy"],
            metrics["attack_success_rate"],
            metrics["seconds"],
        )

    if "none" in config.defences:
        started = time.perf_counter()
        with torch.no_grad():
            record("none", started, score(bundle, encoded, class_text_features(bundle), target))

    if "cbpt" in config.defences:
        started = time.perf_counter()
        inverted, inversion_history = invert_trigger(
            bundle, shots, _with_seed(config.inversion, seed)
        )
        prompts, prompt_history = tune_prompts(
            bundle, shots, labels, inverted, _with_seed(config.prompts, seed)
        )
        # The context ships as fp16; score what ships.
        round_to_fp16_(prompts)
        with torch.no_grad():
            record("cbpt", started, score(bundle, encoded, prompts(), target))
        result.inverted = inverted
        result.context = prompts.context.detach().clone()
        result.history = {"inversion": inversion_history, "prompts": prompt_history}

    if "prompts" in config.defences:
        started = time.perf_counter()
        prompts, _ = tune_prompts(bundle, shots, labels, None, _with_seed(config.prompts, seed))
        with torch.no_grad():
            record("prompts", started, score(bundle, encoded, prompts(), target))

    for name, method in (("finetune", finetune), ("cleanclip", cleanclip_finetune)):
        if name not in config.defences:
            continue
        started = time.perf_counter()
        tuned = copy.deepcopy(bundle)
        method(tuned, shots, labels, _with_seed(config.finetune, seed))
        tuned_encoded = encode_test_set(tuned, test_images, test_labels, trigger)
        with torch.no_grad():
            record(name, started, score(tuned, tuned_encoded, class_text_features(tuned), target))
    return result


def summarise(per_seed: dict[int, dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Return mean and population standard deviation of CA, ASR and seconds per defence."""
    summary: dict[str, dict[str, float]] = {}
    names = sorted({name for metrics in per_seed.values() for name in metrics}, key=_defence_order)
    for name in names:
        rows = [metrics[name] for metrics in per_seed.values() if name in metrics]
        entry: dict[str, float] = {"seeds": len(rows)}
        for key in ("clean_accuracy", "attack_success_rate", "seconds"):
            values = np.array([row[key] for row in rows], dtype=float)
            entry[f"{key}_mean"] = float(values.mean())
            entry[f"{key}_std"] = float(values.std())
        summary[name] = entry
    return summary


def _defence_order(name: str) -> int:
    return DEFENCES.index(name) if name in DEFENCES else len(DEFENCES)
