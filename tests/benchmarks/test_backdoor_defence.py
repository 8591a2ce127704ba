"""Time the CBPT-style defence's two steps against full fine-tuning, and write the results.

Run with ``python -m pytest tests/benchmarks/test_backdoor_defence.py -m benchmark -s``. It
needs the shipped backdoor checkpoints and the Fashion-MNIST files, uses one torch thread,
and rewrites the "Backdoor defence" section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import copy
import os
import platform
import time
from pathlib import Path

import pytest
import torch

from analysis.backdoor.baselines import FineTuneConfig, cleanclip_finetune, finetune
from analysis.backdoor.defence import draw_shots
from analysis.backdoor.evaluation import encode_test_set, score
from analysis.backdoor.inspection import (
    available_attacks,
    defence_cards,
    load_attack,
    results_table,
)
from analysis.backdoor.inversion import InversionConfig, invert_trigger
from analysis.backdoor.prompt_tuning import PromptTuningConfig, tune_prompts
from dashboard.cache.backdoor import CHECKPOINTS
from data.atomic import atomic_open
from data.fashion_mnist import load_split
from models.clip.zero_shot import class_text_features
from tests.conftest import shared_path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
SECTION = "## Backdoor defence"
COMMAND = "python -m pytest tests/benchmarks/test_backdoor_defence.py -m benchmark -s"


def _replace_section(text: str, body: str) -> str:
    start = text.find(SECTION)
    if start < 0:
        return text.rstrip("\n") + ("\n\n" if text.strip() else "") + body
    end = text.find("\n## ", start + len(SECTION))
    return text[:start] + body + (text[end + 1 :] if end >= 0 else "")


@pytest.mark.benchmark
def test_defence_cost_against_fine_tuning():
    attacks = available_attacks(CHECKPOINTS)
    if "sig" not in attacks:
        pytest.skip("needs the shipped SIG checkpoint")
    root = shared_path("fashion-mnist")
    torch.set_num_threads(1)
    train_images, train_labels = load_split(root, "train")
    test_images, test_labels = load_split(root, "test")
    bundle, trigger, card = load_attack(CHECKPOINTS, "sig")
    target = int(card["config"]["attack"]["target"])
    shots_index = draw_shots(train_labels, 16, seed=0)
    shots, labels = train_images[shots_index], train_labels[shots_index]
    encoded = encode_test_set(bundle, test_images, test_labels, trigger)

    # CBPT-style: inversion, then prompt tuning, timed apart.
    started = time.perf_counter()
    inverted, _ = invert_trigger(bundle, shots, InversionConfig(seed=0))
    inversion_s = time.perf_counter() - started
    started = time.perf_counter()
    prompts, _ = tune_prompts(bundle, shots, labels, inverted, PromptTuningConfig(seed=0))
    prompt_s = time.perf_counter() - started
    with torch.no_grad():
        cbpt = score(bundle, encoded, prompts(), target)

    # Peers in the same run: full fine-tuning and CleanCLIP-style fine-tuning.
    peers = {}
    for name, method in (("Fine-tuning", finetune), ("CleanCLIP-style", cleanclip_finetune)):
        tuned = copy.deepcopy(bundle)
        started = time.perf_counter()
        method(tuned, shots, labels, FineTuneConfig(seed=0))
        seconds = time.perf_counter() - started
        tuned_encoded = encode_test_set(tuned, test_images, test_labels, trigger)
        with torch.no_grad():
            peers[name] = (seconds, score(tuned, tuned_encoded, class_text_features(tuned), target))

    # Rows: name, seconds, CA and ASR (None for the two CBPT-style steps on their own).
    reference = peers["Fine-tuning"][0]
    rows = [
        ("CBPT-style: trigger inversion (300 steps)", inversion_s, None),
        ("CBPT-style: prompt tuning (300 steps)", prompt_s, None),
        ("CBPT-style, total", inversion_s + prompt_s, cbpt),
        *((f"{name} (20 epochs)", seconds, metrics) for name, (seconds, metrics) in peers.items()),
    ]
    lines = [
        SECTION,
        "",
        f"Command: `{COMMAND}`, one torch thread on {platform.machine()} with {os.cpu_count()} "
        "logical CPUs shared with other jobs, so seconds vary from run to run.",
        "",
        "Defence cost on the SIG CLIP (the attack with the highest ASR at the shipped budget), seed 0, 16 shots per class, CA and ASR on the 10,000 "
        "test images:",
        "",
        "| defence | seconds | ratio to fine-tuning | CA (%) | ASR (%) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, seconds, metrics in rows:
        ca = f"{100 * metrics['clean_accuracy']:.2f}" if metrics else ""
        asr = f"{100 * metrics['attack_success_rate']:.2f}" if metrics else ""
        lines.append(f"| {name} | {seconds:.1f} | {seconds / reference:.2f} | {ca} | {asr} |")

    table = results_table(defence_cards(CHECKPOINTS))
    if not table.empty:
        lines += [
            "",
            "CA and ASR against cost for every attack, from the shipped defence cards (mean over "
            "the seeds of `glimpse train backdoor --stage defend`):",
            "",
            "| attack | defence | seconds | CA (%) | ASR (%) |",
            "| --- | --- | --- | --- | --- |",
        ]
        for row in table.itertuples():
            lines.append(
                f"| {row.attack} | {row.defence} | {row.seconds_mean:.1f} | "
                f"{row.ca_mean:.2f} | {row.asr_mean:.2f} |"
            )
    body = "\n".join(lines) + "\n"
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    with atomic_open(DOCS, "w", encoding="utf-8") as handle:
        handle.write(_replace_section(text, body))
    print(body)
    assert inversion_s > 0 and prompt_s > 0
