"""WSSA forward against softmax attention of the same shape, and the synaptic operations that
the energy estimate counts. Writes its table into docs/benchmarks.md.

Run with ``python -m pytest tests/benchmarks/test_language_attention.py -m benchmark -s``.
"""

from __future__ import annotations

import platform
import re
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from analysis.energy import EnergyCosts, count_ops, merge_calls
from models.language.wta import allowed_keys, wta_select
from models.layers import SpikeMatmul
from models.neurons import NILIF

LENGTHS = (128, 512, 1024)
HEADS, HEAD_DIM = 4, 32  # the shipped models' attention shape
SPIKE_RATE = 0.2  # share of filled binary sub-steps in the synthetic Q, K, V
REPEATS = 15
DOCS = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
START, END = "<!-- language-benchmark:start -->", "<!-- language-benchmark:end -->"
COMMAND = "python -m pytest tests/benchmarks/test_language_attention.py -m benchmark -s"


class _AttentionCore(torch.nn.Module):
    """Q, K, V as NILIF outputs, then the CWSSA products through SpikeMatmul."""

    def __init__(self) -> None:
        super().__init__()
        self.q, self.k, self.v = NILIF(), NILIF(), NILIF()
        self.qk, self.av = SpikeMatmul(), SpikeMatmul()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: [3, T, B, H, L, d] pre-activations of Q, K, V
        q, k, v = self.q(x[0]), self.k(x[1]), self.v(x[2])
        scores = self.qk(q, k.transpose(-2, -1)) * HEAD_DIM**-0.5
        return self.av(wta_select(scores, 1, True), v)


def _spiking_inputs(length: int) -> torch.Tensor:
    # integer pre-activations whose NILIF counts fill SPIKE_RATE of the sub-steps on average
    counts = torch.distributions.Binomial(
        4, torch.full((3, 1, 1, HEADS, length, HEAD_DIM), SPIKE_RATE)
    )
    return counts.sample().float()


def _best_seconds(fn, repeats: int = REPEATS) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.benchmark
def test_wssa_against_softmax():
    torch.set_num_threads(1)
    costs = EnergyCosts()
    rows = []
    for length in LENGTHS:
        torch.manual_seed(length)
        q = (torch.rand(1, HEADS, length, HEAD_DIM) < SPIKE_RATE).float()
        k = (torch.rand(1, HEADS, length, HEAD_DIM) < SPIKE_RATE).float()
        v = (torch.rand(1, HEADS, length, HEAD_DIM) < SPIKE_RATE).float()
        mask = allowed_keys(length, True)

        def wssa(q=q, k=k, v=v):
            with torch.no_grad():
                return wta_select(q @ k.transpose(-2, -1) * HEAD_DIM**-0.5, 1, True) @ v

        def softmax(q=q, k=k, v=v, mask=mask):
            with torch.no_grad():
                scores = (q @ k.transpose(-2, -1) * HEAD_DIM**-0.5).masked_fill(
                    ~mask, float("-inf")
                )
                return torch.softmax(scores, dim=-1) @ v

        def sdpa(q=q, k=k, v=v):
            with torch.no_grad():
                return F.scaled_dot_product_attention(q, k, v, is_causal=True)

        # the written-out softmax attention and torch SDPA compute the same output
        assert torch.allclose(softmax(), sdpa(), atol=1e-5)

        times = {
            "wssa": _best_seconds(wssa),
            "softmax": _best_seconds(softmax),
            "sdpa": _best_seconds(sdpa),
        }
        inputs = _spiking_inputs(length)
        counted = merge_calls(count_ops(_AttentionCore(), inputs, batch_size=1))
        ops = {op.name: op for op in counted}
        spiking_pj = sum(op.energy_pj(costs) for op in ops.values())
        ann_macs = 2 * HEADS * length * length * HEAD_DIM  # Q K^T and A V on real values
        rows.append(
            {
                "L": length,
                "wssa_ms": 1e3 * times["wssa"],
                "softmax_ms": 1e3 * times["softmax"],
                "sdpa_ms": 1e3 * times["sdpa"],
                "qk_acs": ops["qk"].acs,
                "av_acs": ops["av"].acs,
                "ann_macs": ann_macs,
                "energy_ratio": spiking_pj / (ann_macs * costs.mac_pj),
            }
        )

    table = [
        "| L | WSSA forward (ms) | softmax attention (ms) | WSSA / softmax | torch SDPA (ms) | "
        "WSSA / SDPA | WSSA Q·Kᵀ ACs | WSSA A_w·V ACs | ANN Q·Kᵀ + A·V MACs | "
        "energy WSSA / ANN |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        table.append(
            f"| {row['L']} | {row['wssa_ms']:.2f} | {row['softmax_ms']:.2f} | "
            f"{row['wssa_ms'] / row['softmax_ms']:.2f} | {row['sdpa_ms']:.2f} | "
            f"{row['wssa_ms'] / row['sdpa_ms']:.2f} | {row['qk_acs']:,.0f} | "
            f"{row['av_acs']:,.0f} | {row['ann_macs']:,.0f} | "
            f"{row['energy_ratio']:.3f} |"
        )
    text = "\n".join(table)
    print(text)
    _write(text)
    for row in rows:
        # one selected row of d values per query and head
        assert row["av_acs"] == pytest.approx(HEADS * row["L"] * HEAD_DIM)


def _write(table: str) -> None:
    machine = (
        f"{platform.machine()}, {torch.get_num_threads()} torch thread, torch {torch.__version__}"
    )
    body = (
        f"{START}\nCommand: `{COMMAND}` ({machine}; one sequence, {HEADS} heads of width "
        f"{HEAD_DIM}, causal, spike rate {SPIKE_RATE} of the 4 sub-steps; best of {REPEATS} "
        "runs). The peers are softmax attention written out in torch and "
        "`torch.nn.functional.scaled_dot_product_attention`, timed in the same run on the same "
        "spike-valued Q, K, V. Operation counts are per sequence from "
        "`analysis.energy.count_ops`; the energy ratio compares the WSSA products (ACs, 0.9 pJ) "
        "with the ANN's real-valued Q·Kᵀ and A·V (MACs, 4.6 pJ).\n\n"
        f"{table}\n{END}"
    )
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: body, text)
    else:
        text = text.rstrip("\n") + f"\n\n## Spiking language models\n\n{body}\n"
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text, encoding="utf-8")
