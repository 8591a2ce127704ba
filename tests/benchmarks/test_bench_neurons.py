"""Benchmarks of the neurons and the classifier: NASN(1x4) training against LIF (T = 4), and
our LIF against SpikingJelly's LIFNode. Run with ``pytest tests/benchmarks -m benchmark -s``."""

from __future__ import annotations

import time

import pytest
import torch
import torch.nn.functional as F

from models.neurons import LIF
from models.vision.classifier import ClassifierConfig, SpikingConvNet
from tests.benchmarks.report import machine, update_section

pytestmark = pytest.mark.benchmark

REPEATS = 15


def _median_seconds(step, repeats: int = REPEATS, warmup: int = 3) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def _training_step(kind: str, batch: int = 128):
    torch.manual_seed(0)
    model = SpikingConvNet(ClassifierConfig(neuron=kind))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    images = torch.rand(batch, 1, 28, 28)
    labels = torch.randint(0, 10, (batch,))

    def step():
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def test_training_step_nasn_against_lif():
    # interleave the two measurements so that background load hits both alike
    nasn, lif = _training_step("nasn"), _training_step("lif")
    nasn_times, lif_times = [], []
    for _ in range(3):
        nasn_times.append(_median_seconds(nasn, repeats=5, warmup=1))
        lif_times.append(_median_seconds(lif, repeats=5, warmup=1))
    nasn_s, lif_s = min(nasn_times), min(lif_times)
    ratio = lif_s / nasn_s
    update_section(
        "training-step",
        f"""## One training step: NASN (1x4) against LIF (T = 4)

The Fashion-MNIST classifier (`models/vision/classifier.py`), batch 128, forward, backward and
AdamW step; best of three medians of five steps each, the two networks interleaved.
Machine: {machine()}.

| network | seconds per step |
| --- | --- |
| LIF, T = 4 | {lif_s:.4f} |
| NASN, 1x4 | {nasn_s:.4f} |

NASN is **{ratio:.2f}x** faster per step (goal: at least 2.5x).""",
    )
    print(f"NASN {nasn_s:.4f} s, LIF {lif_s:.4f} s, ratio {ratio:.2f}")


@pytest.mark.parametrize("shape", [(4, 128, 32, 14, 14), (4, 64, 4096)], ids=["conv", "linear"])
def test_lif_against_spikingjelly(shape):
    sj_neuron = pytest.importorskip("spikingjelly.activation_based.neuron")
    sj_surrogate = pytest.importorskip("spikingjelly.activation_based.surrogate")
    x = torch.randn(shape).requires_grad_()
    ours = LIF(tau=2.0, v_reset=0.0, detach_reset=True)
    peer = sj_neuron.LIFNode(
        tau=2.0,
        v_reset=0.0,
        detach_reset=True,
        surrogate_function=sj_surrogate.ATan(),
        step_mode="m",
    )

    def run(module, backward: bool):
        def step():
            if hasattr(module, "reset"):
                module.reset()
            spk = module(x)
            if backward:
                spk.sum().backward()
                x.grad = None

        return step

    results = {}
    for label, backward in (("forward", False), ("forward + backward", True)):
        ours_s = min(_median_seconds(run(ours, backward)) for _ in range(2))
        peer_s = min(_median_seconds(run(peer, backward)) for _ in range(2))
        results[label] = (ours_s, peer_s)
    name = "x".join(map(str, shape))
    rows = "\n".join(
        f"| {label} | {1e3 * o:.2f} | {1e3 * p:.2f} | {p / o:.2f}x |"
        for label, (o, p) in results.items()
    )
    update_section(
        f"lif-{name}",
        f"""## LIF multi-step against SpikingJelly 2.0 `LIFNode` (torch backend), input {name}

tau 2, hard reset to 0, detached reset, ATan surrogate; median of {REPEATS} runs, best of two.
Machine: {machine()}.

| pass | ours (ms) | SpikingJelly (ms) | speed-up |
| --- | --- | --- | --- |
{rows}

Goal: at least 1.0x.""",
    )
    print(results)
