"""Page computations: PCA, tables, gallery choices and the README table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.backdoor.defence import draw_shots, summarise
from analysis.backdoor.evaluate import TABLE_END, TABLE_START, markdown_table, update_readme
from analysis.backdoor.inspection import (
    gallery_indices,
    pca_2d,
    per_seed_table,
    prediction_table,
    results_table,
)


def test_pca_matches_covariance_eigenvectors():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(200, 5)) * np.array([5.0, 3.0, 1.0, 0.5, 0.1])
    projected, other = pca_2d(data, data[:3])
    # Second route: eigenvectors of the covariance matrix, largest eigenvalues first.
    values, vectors = np.linalg.eigh(np.cov(data - data.mean(0), rowvar=False))
    axes = vectors[:, np.argsort(values)[::-1][:2]]
    expected = (data - data.mean(0)) @ axes
    for k in range(2):
        assert np.allclose(np.abs(projected[:, k]), np.abs(expected[:, k]), atol=1e-8)
    assert np.allclose(other, projected[:3])
    assert projected[:, 0].var() > projected[:, 1].var()


def test_pca_needs_two_rows():
    with pytest.raises(ValueError, match="at least two rows"):
        pca_2d(np.zeros((1, 3)))


def test_gallery_indices_modes():
    labels = np.array([0, 1, 8, 1, 0])
    result = {
        "before_triggered": np.array([8, 8, 8, 1, 8]),
        "after_triggered": np.array([0, 8, 8, 1, 0]),
    }
    assert gallery_indices("per_class", labels, result, target=8) == [0, 1, 2]
    assert gallery_indices("attack_succeeds", labels, result, target=8) == [0, 1, 4]
    assert gallery_indices("defence_fails", labels, result, target=8) == [1]
    with pytest.raises(ValueError, match="unknown gallery mode"):
        gallery_indices("all", labels, result, 8)


def test_prediction_table_names():
    labels = np.array([0, 1])
    result = {
        "before_clean": np.array([0, 0]),
        "before_triggered": np.array([1, 1]),
        "after_clean": np.array([0, 1]),
        "after_triggered": np.array([0, 1]),
    }
    table = prediction_table(labels, result, ("coat", "bag"))
    assert table["triggered_no_defence"].tolist() == ["bag", "bag"]
    assert table["clean_cbpt_style"].tolist() == ["coat", "bag"]


PER_SEED = {
    0: {"none": {"clean_accuracy": 0.8, "attack_success_rate": 0.9, "seconds": 0.1},
        "cbpt": {"clean_accuracy": 0.82, "attack_success_rate": 0.02, "seconds": 50.0}},
    1: {"none": {"clean_accuracy": 0.8, "attack_success_rate": 0.9, "seconds": 0.1},
        "cbpt": {"clean_accuracy": 0.78, "attack_success_rate": 0.04, "seconds": 70.0}},
}  # fmt: skip


def test_summarise_mean_and_population_std():
    summary = summarise(PER_SEED)
    assert list(summary) == ["none", "cbpt"]
    assert summary["cbpt"]["clean_accuracy_mean"] == pytest.approx(0.80)
    assert summary["cbpt"]["clean_accuracy_std"] == pytest.approx(0.02)
    assert summary["cbpt"]["attack_success_rate_mean"] == pytest.approx(0.03)
    assert summary["none"]["attack_success_rate_std"] == 0.0
    assert summary["cbpt"]["seeds"] == 2


def test_results_and_seed_tables():
    card = {
        "metrics": {
            "per_seed": {str(k): v for k, v in PER_SEED.items()},
            "summary": summarise(PER_SEED),
        }
    }
    table = results_table({"badnets": card}, clean_accuracy=0.81)
    assert table["defence"].tolist() == ["No defence", "CBPT-style"]
    assert table.loc[1, "asr_mean"] == pytest.approx(3.0)
    assert table.loc[1, "ca_drop"] == pytest.approx(1.0)
    seeds = per_seed_table(card, "badnets")
    assert len(seeds) == 4
    assert seeds[seeds["defence"] == "CBPT-style"]["asr"].tolist() == pytest.approx([2.0, 4.0])


def test_markdown_table_and_readme(tmp_path):
    rows = pd.DataFrame(
        [
            {
                "attack": "badnets",
                "target": "bag",
                "defence": defence,
                "seed": seed,
                "ca": metrics["clean_accuracy"],
                "asr": metrics["attack_success_rate"],
                "seconds": metrics["seconds"],
                "source": "card",
            }
            for seed, per in PER_SEED.items()
            for defence, metrics in per.items()
        ]
    )
    table = markdown_table(0.81, rows, 10_000)
    assert "clean model CA 81.00 %" in table
    assert "| BadNets | CBPT-style | 2 | 80.00 ± 2.00 | 3.00 ± 1.00 | 60.0 |" in table
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{TABLE_START}\nold\n{TABLE_END}\n\nafter\n")
    update_readme(table, readme)
    text = readme.read_text()
    assert "old" not in text and "| BadNets | No defence |" in text and text.endswith("after\n")
    bare = tmp_path / "bare.md"
    bare.write_text("no markers\n")
    with pytest.raises(ValueError, match="lacks the markers"):
        update_readme(table, bare)
    assert bare.read_text() == "no markers\n"


def test_draw_shots_per_class():
    labels = np.repeat(np.arange(3), 20)
    shots = draw_shots(labels, 5, seed=0)
    assert np.bincount(labels[shots]).tolist() == [5, 5, 5]
    assert np.array_equal(shots, draw_shots(labels, 5, seed=0))
    assert not np.array_equal(shots, draw_shots(labels, 5, seed=1))
    with pytest.raises(ValueError, match="fewer than 30 shots"):
        draw_shots(labels, 30, seed=0)


def test_strongest_attack_by_card_asr(tmp_path):
    from analysis.backdoor.inspection import strongest_attack

    for attack, asr in (("badnets", 0.01), ("sig", 0.68), ("blended", 0.42)):
        card = {
            "name": f"poisoned-{attack}",
            "area": "clip",
            "architecture": "CLIP",
            "config": {},
            "data": "test",
            "command": "test",
            "metrics": {"attack_success_rate": asr},
            "seed": 0,
            "commit": "test",
        }
        (tmp_path / f"poisoned-{attack}.json").write_text(json.dumps(card), encoding="utf-8")
    assert strongest_attack(tmp_path, ["badnets", "blended", "sig"]) == "sig"
    assert strongest_attack(tmp_path, ["badnets", "blended"]) == "blended"
    assert strongest_attack(tmp_path, ["badnets", "wanet"]) == "badnets"
