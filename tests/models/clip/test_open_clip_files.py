"""Loading a real open_clip checkpoint from local files, with open_clip's own BPE tokenizer."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
from open_clip.model import CLIP
from open_clip.tokenizer import SimpleTokenizer
from safetensors.torch import save_file

from models.clip.captions import ClassNameError
from models.clip.open_clip_files import load_open_clip, read_state_dict
from models.clip.prompts import ClassWisePrompts
from models.registry import CheckpointError

# A small configuration in open_clip's format with the standard 49,408-token text vocabulary.
MODEL_CFG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 8},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}
PREPROCESS_CFG = {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
NAMES = ("t-shirt", "trouser", "bag")


@pytest.fixture(scope="module")
def reference():
    torch.manual_seed(0)
    return CLIP(**MODEL_CFG).eval()


@pytest.fixture(scope="module")
def hub_folder(tmp_path_factory, reference):
    folder = tmp_path_factory.mktemp("open_clip_hub")
    (folder / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": MODEL_CFG, "preprocess_cfg": PREPROCESS_CFG})
    )
    save_file(
        {k: v.contiguous() for k, v in reference.state_dict().items()},
        str(folder / "open_clip_model.safetensors"),
    )
    return folder


def test_hub_folder_loads_same_model(hub_folder, reference):
    bundle = load_open_clip(hub_folder, class_names=NAMES)
    assert bundle.image_size == 32
    assert bundle.mean == (0.5, 0.5, 0.5)
    assert isinstance(bundle.tokenizer, SimpleTokenizer)
    pixels = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        expected = reference.encode_image((pixels - 0.5) / 0.25, normalize=True)
        assert torch.allclose(bundle.encode_pixels(pixels), expected, atol=1e-6)
        tokens = SimpleTokenizer(context_length=16)(["a photo of a bag."])
        assert torch.allclose(
            bundle.encode_captions(["a photo of a bag."]),
            reference.encode_text(tokens, normalize=True),
            atol=1e-6,
        )


def test_prompts_work_with_bpe_tokenizer(hub_folder):
    bundle = load_open_clip(hub_folder, class_names=NAMES)
    prompts = ClassWisePrompts(
        bundle.model, bundle.tokenizer, bundle.class_names, 4, "a photo of a"
    )
    with torch.no_grad():
        expected = bundle.encode_captions([f"a photo of a {name}." for name in NAMES])
        assert torch.allclose(prompts(), expected, atol=1e-6)


def test_pytorch_file_with_model_config(tmp_path, hub_folder, reference):
    torch.save(
        {"state_dict": {f"module.{k}": v for k, v in reference.state_dict().items()}},
        tmp_path / "w.pt",
    )
    (tmp_path / "open_clip_config.json").write_text(json.dumps({"model_cfg": MODEL_CFG}))
    bundle = load_open_clip(tmp_path / "w.pt", class_names=NAMES)
    for key, value in reference.state_dict().items():
        assert torch.equal(bundle.model.state_dict()[key], value)


class _RunsCode:
    def __reduce__(self):
        return (print, ("this would run on load",))


def test_pickle_with_code_refused(tmp_path):
    path = tmp_path / "evil.bin"
    with open(path, "wb") as handle:
        pickle.dump({"weight": _RunsCode()}, handle)
    with pytest.raises(CheckpointError, match="tensors only"):
        read_state_dict(path)


def test_torchscript_archive_refused(tmp_path):
    scripted = torch.jit.script(torch.nn.Linear(2, 2))
    path = tmp_path / "scripted.pt"
    scripted.save(str(path))
    with pytest.raises(CheckpointError, match="TorchScript"):
        read_state_dict(path)


def test_shape_mismatch_named(tmp_path, reference):
    state = dict(reference.state_dict())
    state["text_projection"] = torch.zeros(32, 16)
    save_file(
        {k: v.contiguous() for k, v in state.items()}, str(tmp_path / "open_clip_model.safetensors")
    )
    (tmp_path / "open_clip_config.json").write_text(json.dumps({"model_cfg": MODEL_CFG}))
    with pytest.raises(
        CheckpointError, match="text_projection: checkpoint \\(32, 16\\) vs model \\(32, 32\\)"
    ):
        load_open_clip(tmp_path, class_names=NAMES)


def test_missing_config_and_name(tmp_path, reference):
    save_file(
        {k: v.contiguous() for k, v in reference.state_dict().items()},
        str(tmp_path / "w.safetensors"),
    )
    with pytest.raises(CheckpointError, match="pass the open_clip model name"):
        load_open_clip(tmp_path / "w.safetensors", class_names=NAMES)
    with pytest.raises(CheckpointError, match="unknown open_clip model 'no-such-model'"):
        load_open_clip(tmp_path / "w.safetensors", model_name="no-such-model", class_names=NAMES)


def test_hugging_face_text_tower_rejected(tmp_path):
    config = {"model_cfg": {**MODEL_CFG, "text_cfg": {"hf_model_name": "roberta-base"}}}
    (tmp_path / "open_clip_config.json").write_text(json.dumps(config))
    save_file({"x": torch.zeros(1)}, str(tmp_path / "open_clip_model.safetensors"))
    with pytest.raises(CheckpointError, match="Hugging Face"):
        load_open_clip(tmp_path, class_names=NAMES)


def test_duplicate_class_names_rejected(hub_folder):
    with pytest.raises(ClassNameError, match="duplicate"):
        load_open_clip(hub_folder, class_names=["bag", "bag"])
