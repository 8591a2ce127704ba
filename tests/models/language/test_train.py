"""Training entry point with a tiny budget, the schedule, MLM corruption, metrics and the
evaluation table."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from data.austen import load_sample
from models.language.batches import IGNORE_INDEX, mask_tokens, random_windows, tiled_windows
from models.language.checkpoints import available_models, load_model, load_shipped_tokenizer
from models.language.evaluate import evaluate_all, format_table, update_readme
from models.language.metrics import evaluate_causal, token_bytes
from models.language.train import TrainConfig, learning_rate, train
from tests.models.language.tiny import tiny

TINY = {"layers": 1, "width": 16, "heads": 2, "context": 16, "mlp_ratio": 2, "vocab_size": 300}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two tiny models trained for three steps on the shipped excerpt, split into two novels."""
    root = tmp_path_factory.mktemp("checkpoints")
    corpus = tmp_path_factory.mktemp("austen")
    paragraphs = load_sample().split("\n")
    half = len(paragraphs) // 2
    (corpus / "emma.txt").write_text("\n\n".join(paragraphs[:half]), encoding="utf-8")
    (corpus / "persuasion.txt").write_text("\n\n".join(paragraphs[half:]), encoding="utf-8")
    metrics = {}
    for name, attention, objective in (
        ("wd-spikingformer", "wssa", "causal"),
        ("ann-masked", "softmax", "masked"),
    ):
        config = TrainConfig(
            name=name,
            data_dir=str(corpus),
            out_dir=str(root / "language"),
            attention=attention,
            objective=objective,
            steps=3,
            batch_size=2,
            warmup=1,
            eval_windows=4,
            command="test",
            **TINY,
        )
        metrics[name] = train(config)
    return root, corpus, metrics


def test_train_writes_checkpoint_and_card(trained):
    root, _corpus, metrics = trained
    assert available_models(root) == ["wd-spikingformer", "ann-masked"]
    model, card = load_model("wd-spikingformer", root)
    assert card["config"]["width"] == 16
    assert card["command"] == "test"
    assert card["metrics"]["steps"] == 3
    assert math.isfinite(metrics["wd-spikingformer"]["perplexity"])
    assert 0 <= metrics["ann-masked"]["accuracy"] <= 1
    assert model.head.weight is model.embed.weight
    assert load_shipped_tokenizer(root).vocab_size == 300


def test_evaluation_table(trained, tmp_path):
    root, corpus, _metrics = trained
    rows = evaluate_all(str(corpus), max_windows=2, root=root)
    assert [row["name"] for row in rows] == ["wd-spikingformer", "ann-masked"]
    assert all(row["energy_pj_per_token"] > 0 for row in rows)
    table = format_table(rows)
    assert table.count("\n") == 3
    readme = tmp_path / "README.md"
    readme.write_text(
        "intro\n<!-- language-results:start -->\nold\n<!-- language-results:end -->\nend\n",
        encoding="utf-8",
    )
    update_readme(table, readme)
    text = readme.read_text(encoding="utf-8")
    assert "old" not in text
    assert table in text
    assert text.endswith("end\n")


def test_readme_without_markers_raises(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lacks the markers"):
        update_readme("| table |", readme)


def test_learning_rate_schedule():
    config = TrainConfig(name="x", data_dir=".", steps=110, warmup=10, lr=1.0)
    assert learning_rate(0, config) == pytest.approx(0.1)
    assert learning_rate(9, config) == pytest.approx(1.0)
    assert learning_rate(10, config) == pytest.approx(1.0)
    # halfway through the cosine: 0.1 + 0.9 * 0.5
    assert learning_rate(60, config) == pytest.approx(0.55)
    assert learning_rate(110, config) == pytest.approx(0.1)


def test_mask_tokens_corruption():
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randint(3, 100, (400, 64), generator=generator)
    inputs, targets = mask_tokens(tokens, 100, generator)
    chosen = targets != IGNORE_INDEX
    assert chosen.any(dim=1).all()
    assert 0.13 < chosen.float().mean() < 0.17
    assert torch.equal(targets[chosen], tokens[chosen])
    assert torch.equal(inputs[~chosen], tokens[~chosen])
    masked_share = (inputs[chosen] == 2).float().mean()
    assert 0.75 < masked_share < 0.85
    assert (inputs >= 2).all()  # no padding or end-of-text id is inserted


def test_windows():
    stream = torch.arange(50)
    tiles = tiled_windows(stream, 16)
    assert tiles.shape == (3, 16)
    assert torch.equal(tiles[1], torch.arange(16, 32))
    windows = random_windows(stream, 5, 10, torch.Generator().manual_seed(1))
    assert torch.equal(windows[:, 1:] - windows[:, :-1], torch.ones(5, 9, dtype=torch.long))
    with pytest.raises(ValueError, match="shorter than one window"):
        random_windows(stream, 1, 60, torch.Generator())


def test_causal_metrics_by_hand():
    model = tiny("wssa", "causal")
    stream = torch.randint(0, 64, (13 * 3 + 5,), generator=torch.Generator().manual_seed(2))
    lengths = torch.arange(64) % 3 + 1
    metrics = evaluate_causal(model, stream, lengths)
    total, count, total_bytes = 0.0, 0, 0
    for window in tiled_windows(stream, 13):
        with torch.no_grad():
            logits = model(window[:-1].unsqueeze(0))[0]
        total += float(F.cross_entropy(logits, window[1:], reduction="sum"))
        count += 12
        total_bytes += int(lengths[window[1:]].sum())
    assert metrics["tokens"] == count
    assert metrics["loss"] == pytest.approx(total / count, rel=1e-5)
    assert metrics["perplexity"] == pytest.approx(math.exp(total / count), rel=1e-5)
    assert metrics["bits_per_byte"] == pytest.approx(total / math.log(2) / total_bytes, rel=1e-5)


def test_token_bytes_of_shipped_tokenizer():
    tokenizer = load_shipped_tokenizer()
    lengths = token_bytes(tokenizer)
    assert lengths[:3].tolist() == [0, 0, 0]
    for token_id in (10, 300, 1000):
        assert lengths[token_id] == len(tokenizer.decode([token_id]).encode("utf-8"))
