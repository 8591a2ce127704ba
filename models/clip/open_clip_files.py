"""Load a real open_clip checkpoint from local files, with its own BPE tokenizer.

Two layouts are read:

- a folder as open_clip publishes on the Hugging Face Hub: ``open_clip_config.json`` (with
  ``model_cfg`` and optionally ``preprocess_cfg``) beside ``open_clip_model.safetensors`` or
  ``open_clip_pytorch_model.bin``;
- a weights file (``.safetensors``, ``.bin``, ``.pt``, ``.pth``) with a built-in open_clip model
  name such as ``ViT-B-32``.

Nothing is downloaded. Pickled files are read with ``torch.load(weights_only=True)``, which
refuses files that would run code; TorchScript archives (OpenAI's original ``.pt`` releases)
are not read. Captions go through open_clip's ``SimpleTokenizer``, whose BPE vocabulary ships
inside the package. Models with a Hugging Face text tower or tokenizer are not supported,
because those need a download.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import open_clip
import torch
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
from open_clip.model import CLIP
from open_clip.tokenizer import SimpleTokenizer
from safetensors import SafetensorError
from safetensors.torch import load_file

from models.clip.captions import TEMPLATES, validate_class_names
from models.clip.model import ClipBundle
from models.registry import CheckpointError, load_into

log = logging.getLogger(__name__)

CONFIG_FILE = "open_clip_config.json"
WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read tensors from a safetensors file or a tensors-only PyTorch file.

    A ``state_dict`` entry of a training checkpoint is unwrapped and a ``module.`` prefix (from
    DistributedDataParallel) is removed.

    Raises:
        CheckpointError: the file is missing or unreadable, contains objects other than
            tensors, or is a TorchScript archive.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"open_clip weights {path} not found")
    if path.suffix == ".safetensors":
        try:
            state: Any = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as error:
            raise CheckpointError(f"{path} is not a readable safetensors file ({error})") from error
    else:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                if any(name.endswith("constants.pkl") for name in archive.namelist()):
                    raise CheckpointError(
                        f"{path} is a TorchScript archive, which is not read because loading it "
                        "runs code; use the open_clip release of these weights (safetensors)"
                    )
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as error:
            raise CheckpointError(
                f"{path} could not be read as tensors only ({error.__class__.__name__}: "
                f"{str(error).splitlines()[0] if str(error) else ''}); convert it to safetensors"
            ) from error
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise CheckpointError(f"{path} does not hold a flat dictionary of tensors")
    if state and next(iter(state)).startswith("module."):
        state = {key.removeprefix("module."): value for key, value in state.items()}
    return state


def _find_weights(folder: Path) -> Path:
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return folder / name
    raise CheckpointError(
        f"no open_clip weights in {folder}; expected one of {', '.join(WEIGHT_FILES)}"
    )


def _read_config(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    path = folder / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{path} could not be read as JSON ({error})") from error
    if not isinstance(config, dict) or not isinstance(config.get("model_cfg"), dict):
        raise CheckpointError(f"{path} lacks a 'model_cfg' object")
    return config["model_cfg"], config.get("preprocess_cfg") or {}


def load_open_clip(
    weights: str | os.PathLike[str],
    model_name: str | None = None,
    class_names: Sequence[str] = (),
    templates: Sequence[str] = TEMPLATES,
) -> ClipBundle:
    """Load an open_clip CLIP from local files into a ``ClipBundle``.

    Args:
        weights: a folder holding ``open_clip_config.json`` and weights, or a weights file.
        model_name: built-in open_clip model name; needed when ``weights`` is a file without a
            config beside it.
        class_names: names written into prompts.
        templates: caption templates with one ``{}``.

    Raises:
        CheckpointError: files are missing or unreadable, the configuration is unsupported, or
            the weights do not match it.
        ClassNameError: the class list is empty or has duplicates.
    """
    names = validate_class_names(class_names)
    source = Path(weights)
    folder = source if source.is_dir() else source.parent
    preprocess: dict[str, Any] = {}
    if (folder / CONFIG_FILE).is_file() and (source.is_dir() or model_name is None):
        model_cfg, preprocess = _read_config(folder)
        weight_path = _find_weights(folder) if source.is_dir() else source
        label = f"open_clip model in {folder}"
    elif model_name:
        model_cfg = open_clip.get_model_config(model_name)
        if model_cfg is None:
            raise CheckpointError(
                f"unknown open_clip model {model_name!r}; open_clip.list_models() lists the "
                f"built-in names, or put an {CONFIG_FILE} beside the weights"
            )
        weight_path = source
        label = f"open_clip {model_name}"
    else:
        raise CheckpointError(
            f"{source} has no {CONFIG_FILE} beside it; pass the open_clip model name (for example "
            "ViT-B-32)"
        )
    text_cfg = model_cfg.get("text_cfg", {})
    if (
        model_cfg.get("custom_text")
        or text_cfg.get("hf_model_name")
        or text_cfg.get("hf_tokenizer_name")
    ):
        raise CheckpointError(
            f"{label} uses a Hugging Face text tower or tokenizer, which needs a download; only "
            "CLIP models with open_clip's own text transformer are supported"
        )
    model_cfg = {key: value for key, value in model_cfg.items() if key not in ("custom_text",)}
    try:
        model = CLIP(**model_cfg)
    except TypeError as error:
        raise CheckpointError(
            f"{label}: model_cfg is not a CLIP configuration ({error})"
        ) from error
    load_into(model, read_state_dict(weight_path), str(weight_path))
    model.eval()
    image_size = model.visual.image_size
    size = image_size[0] if isinstance(image_size, tuple | list) else int(image_size)
    context_length = int(text_cfg.get("context_length", 77))
    return ClipBundle(
        model=model,
        tokenizer=SimpleTokenizer(context_length=context_length),
        image_size=size,
        mean=tuple(preprocess.get("mean", OPENAI_DATASET_MEAN)),
        std=tuple(preprocess.get("std", OPENAI_DATASET_STD)),
        class_names=names,
        templates=tuple(templates),
        name=label,
    )
