"""Speech benchmarks: latency of one second of audio, front end included, and training
throughput, each against the same model built with SpikingJelly's LIFNode in the same run.

Run with ``python -m pytest -m benchmark tests/benchmarks/test_speech_benchmark.py``; the
results replace the speech section of docs/benchmarks.md.
"""

from __future__ import annotations

import copy
import os
import platform
import statistics
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from analysis.speech import analyse_waveform
from data.audio import prepare_waveform
from data.spectrogram import FrontEndConfig, LogMel
from data.speech_samples import list_samples
from models.neurons import LIF
from models.speech.ablation import replace_between
from models.speech.config import SpikCommanderConfig
from models.speech.spikcommander import SpikCommander, spikcommander_loss

pytestmark = pytest.mark.benchmark

DOC = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
START = "<!-- speech-benchmarks:start -->"
END = "<!-- speech-benchmarks:end -->"
THREADS = 2
COMMAND = "python -m pytest -m benchmark tests/benchmarks/test_speech_benchmark.py"
RESULTS: dict[str, float] = {}


class _SpikingJellyLIF(nn.Module):
    """SpikingJelly's multi-step LIFNode with SpikCommander's settings, as a drop-in peer."""

    def __init__(self) -> None:
        super().__init__()
        from spikingjelly.activation_based import neuron, surrogate

        self.node = neuron.LIFNode(
            tau=2.0,
            decay_input=False,
            v_threshold=1.0,
            v_reset=0.5,
            surrogate_function=surrogate.ATan(alpha=5.0),
            detach_reset=True,
            step_mode="m",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.node.reset()
        return self.node(x)


def _with_spikingjelly(model: SpikCommander) -> nn.Module:
    peer = copy.deepcopy(model)
    for module in list(peer.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, LIF):
                setattr(module, child_name, _SpikingJellyLIF())
    return peer


def _median_seconds(function, repeats: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@pytest.fixture(scope="module")
def model():
    pytest.importorskip("spikingjelly")
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    return SpikCommander(SpikCommanderConfig()).eval()


def test_latency_one_second(model):
    audio = list_samples()[0].path.read_bytes()
    log_mel = LogMel()
    peer = _with_spikingjelly(model).eval()

    def predict(network):
        prepared = prepare_waveform(audio)
        with torch.no_grad():
            x = log_mel(torch.from_numpy(prepared.waveform)[None]).transpose(0, 1)
            return network(x).softmax(-1).sum(0).argmax(-1)

    assert int(predict(model)) == int(predict(peer))
    RESULTS["latency_ms"] = 1000 * _median_seconds(lambda: predict(model), 30)
    RESULTS["peer_latency_ms"] = 1000 * _median_seconds(lambda: predict(peer), 30)
    prepared = prepare_waveform(audio)
    RESULTS["page_ms"] = 1000 * _median_seconds(
        lambda: analyse_waveform(model, FrontEndConfig(), prepared), 10
    )


def test_training_throughput(model):
    batch = 32
    x = torch.rand(100, batch, 140)
    y = torch.randint(0, 10, (batch,))

    def throughput(network) -> float:
        network = copy.deepcopy(network).train()
        optimizer = torch.optim.AdamW(network.parameters(), lr=1e-3)

        def step():
            loss = spikcommander_loss(network(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        return batch / _median_seconds(step, 8)

    RESULTS["train_samples_per_s"] = throughput(model)
    RESULTS["peer_train_samples_per_s"] = throughput(_with_spikingjelly(model))


def test_write_results():
    if len(RESULTS) < 5:
        pytest.skip("the timing tests above did not run")
    load = os.getloadavg()[0]
    body = "\n".join(
        [
            f"Command: `{COMMAND}` ({platform.machine()}, {os.cpu_count()} cores, torch "
            f"{torch.__version__}, {THREADS} torch threads, load average {load:.1f} at the end).",
            "Model: SpikCommander D = 96, 8 heads, 1 block, T = 100 (the shipped configuration). "
            "Peer: the same model with every LIF layer replaced by SpikingJelly's multi-step "
            "`LIFNode` (torch backend, same settings), measured in the same run.",
            "",
            "| measure | Glimpse LIF | SpikingJelly LIFNode | ratio |",
            "| --- | ---: | ---: | ---: |",
            f"| latency, 1 s of audio: checks, resampling, log-mel and forward (median, ms) | "
            f"{RESULTS['latency_ms']:.1f} | {RESULTS['peer_latency_ms']:.1f} | "
            f"{RESULTS['peer_latency_ms'] / RESULTS['latency_ms']:.2f}x faster |",
            f"| training throughput, batch 32 (samples/s) | {RESULTS['train_samples_per_s']:.0f} | "
            f"{RESULTS['peer_train_samples_per_s']:.0f} | "
            f"{RESULTS['train_samples_per_s'] / RESULTS['peer_train_samples_per_s']:.2f}x |",
            "",
            "The page's full analysis of one recording (recording every layer, counting "
            f"operations) takes {RESULTS['page_ms']:.0f} ms. Goal for the prediction: under 50 ms.",
        ]
    )
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if START not in text:
        text += f"\n## Speech commands\n\n{START}\n{END}\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(replace_between(text, START, END, body), encoding="utf-8")
    assert RESULTS["latency_ms"] > 0
