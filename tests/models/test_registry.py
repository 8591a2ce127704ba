"""Checkpoints: safetensors + card round trip and the errors a user sees."""

import json

import pytest
import torch
from torch import nn

from models.registry import (
    CheckpointError,
    list_checkpoints,
    load_checkpoint,
    load_into,
    save_checkpoint,
)


def _card(name: str = "tiny") -> dict:
    return {
        "name": name,
        "area": "test",
        "architecture": "Linear",
        "config": {"in": 3, "out": 2},
        "data": {"dataset": "none"},
        "command": "glimpse train test --tiny",
        "metrics": {"accuracy": 1.0},
        "seed": 0,
        "commit": "abc",
    }


def test_round_trip_in_fp16(tmp_path):
    model = nn.Linear(3, 2)
    info = save_checkpoint(
        tmp_path / "test" / "tiny", model.state_dict(), _card(), dtype=torch.float16
    )
    state, card = load_checkpoint(tmp_path / "test" / "tiny")
    assert card["dtype"] == "float16" and card["parameters"] == 8
    assert state["weight"].dtype == torch.float32
    torch.testing.assert_close(state["weight"], model.weight.detach().half().float())
    assert [c.name for c in list_checkpoints("test", root=tmp_path)] == ["tiny"]
    assert info.weights.stat().st_size == card["bytes"]


def test_missing_weights_name_the_training_command(tmp_path):
    save_checkpoint(tmp_path / "tiny", nn.Linear(3, 2).state_dict(), _card())
    (tmp_path / "tiny.safetensors").unlink()
    with pytest.raises(CheckpointError, match="glimpse train test --tiny"):
        load_checkpoint(tmp_path / "tiny")


def test_corrupted_weights_are_reported(tmp_path):
    save_checkpoint(tmp_path / "tiny", nn.Linear(3, 2).state_dict(), _card())
    (tmp_path / "tiny.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(tmp_path / "tiny")


def test_card_without_required_keys_is_rejected(tmp_path):
    card = _card()
    del card["seed"]
    with pytest.raises(CheckpointError, match="lacks"):
        save_checkpoint(tmp_path / "tiny", {}, card)
    (tmp_path / "area").mkdir()
    (tmp_path / "area" / "broken.json").write_text(json.dumps({"name": "broken"}))
    (tmp_path / "area" / "bad.json").write_text("{not json")
    assert list_checkpoints("area", root=tmp_path) == []


def test_shape_mismatch_names_the_keys():
    state = nn.Linear(4, 2).state_dict()
    with pytest.raises(CheckpointError, match=r"weight: checkpoint \(2, 4\) vs model \(2, 3\)"):
        load_into(nn.Linear(3, 2), state, "checkpoint tiny")
    with pytest.raises(CheckpointError, match="missing keys"):
        load_into(nn.Linear(3, 2), {"weight": torch.zeros(2, 3)}, "checkpoint tiny")
