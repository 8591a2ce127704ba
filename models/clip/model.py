"""Build the small CLIP, apply its logit scale, and save or load it with the checkpoint registry.

The model is ``open_clip.model.CLIP`` with a ViT image tower (32x32 input, 4x4 patches, 4
blocks of width 96). Its causal text transformer (2 blocks of width 64, context 24) reads the
word-level vocabulary of ``models.clip.tokenizer``. Both towers project to a 64-dimensional
joint space. The model has
about 0.43 M parameters, so the clean model and five poisoned ones fit in 10 MB as fp16.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

from models.clip.captions import FASHION_CAPTION_NAMES, TEMPLATES, captions_for
from models.clip.images import normalize_pixels
from models.clip.tokenizer import WordTokenizer
from models.registry import CheckpointError, load_checkpoint, load_into

# CLIP learns the softmax temperature as log(1/T) and keeps exp(logit_scale) <= 100 (Radford et
# al. 2021, section 2.5); open_clip's training loop clamps the parameter to [0, ln 100] after
# every step.
MAX_LOGIT_SCALE = 100.0
# CLIP's initial temperature 0.07.
INIT_LOGIT_SCALE = math.log(1 / 0.07)
# Pixel mean and standard deviation of the 60,000 Fashion-MNIST training images after
# padding to 32x32, the same for the three copied channels.
FASHION_MEAN = (0.2190, 0.2190, 0.2190)
FASHION_STD = (0.3318, 0.3318, 0.3318)


@dataclass(frozen=True)
class TinyClipConfig:
    """Architecture of the small CLIP; ``vocab_size`` comes from the tokenizer."""

    vocab_size: int
    embed_dim: int = 64
    image_size: int = 32
    patch_size: int = 4
    vision_width: int = 96
    vision_layers: int = 4
    vision_head_width: int = 32
    vision_mlp_ratio: float = 2.0
    text_width: int = 64
    text_layers: int = 2
    text_heads: int = 2
    text_mlp_ratio: float = 4.0
    context_length: int = 24
    image_mean: tuple[float, float, float] = FASHION_MEAN
    image_std: tuple[float, float, float] = FASHION_STD

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TinyClipConfig:
        """Rebuild a config from ``asdict`` output, rejecting unknown keys."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise CheckpointError(
                f"unknown CLIP config keys {unknown}; known keys are {sorted(known)}"
            )
        values = dict(values)
        for key in ("image_mean", "image_std"):
            if key in values:
                values[key] = tuple(float(v) for v in values[key])
        return cls(**values)


def build_tiny_clip(config: TinyClipConfig) -> CLIP:
    """Build an untrained open_clip ``CLIP`` with the given small configuration."""
    vision = CLIPVisionCfg(
        layers=config.vision_layers,
        width=config.vision_width,
        head_width=config.vision_head_width,
        mlp_ratio=config.vision_mlp_ratio,
        patch_size=config.patch_size,
        image_size=config.image_size,
    )
    text = CLIPTextCfg(
        context_length=config.context_length,
        vocab_size=config.vocab_size,
        width=config.text_width,
        heads=config.text_heads,
        layers=config.text_layers,
        mlp_ratio=config.text_mlp_ratio,
    )
    return CLIP(
        embed_dim=config.embed_dim,
        vision_cfg=vision,
        text_cfg=text,
        init_logit_scale=INIT_LOGIT_SCALE,
    )


def logit_scale_value(model: torch.nn.Module) -> torch.Tensor:
    """Return the multiplier of cosine similarities: ``min(exp(logit_scale), 100)``.

    The stored parameter is ``log(1/T)``; the clamp keeps a checkpoint whose parameter drifted
    above ``ln 100`` (for example one trained without the clamp) within CLIP's range.
    """
    return model.logit_scale.exp().clamp(max=MAX_LOGIT_SCALE)


def clamp_logit_scale_(model: torch.nn.Module) -> None:
    """Clamp the stored ``logit_scale`` to ``[0, ln 100]`` in place, as CLIP training does."""
    with torch.no_grad():
        model.logit_scale.clamp_(0.0, math.log(MAX_LOGIT_SCALE))


@contextlib.contextmanager
def frozen(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Put ``model`` in eval mode with gradients off for its weights, restoring both on exit.

    Gradients still flow through the model to its inputs (a trigger, prompt vectors).
    """
    was_training = model.training
    requires = [param.requires_grad for param in model.parameters()]
    model.eval()
    model.requires_grad_(False)
    try:
        yield model
    finally:
        for param, flag in zip(model.parameters(), requires, strict=True):
            param.requires_grad_(flag)
        model.train(was_training)


@torch.no_grad()
def round_to_fp16_(module: torch.nn.Module) -> None:
    """Round every floating-point parameter and buffer to fp16 precision in place.

    Checkpoints are stored as fp16, so metrics computed after this describe the shipped weights.
    """
    for tensor in module.state_dict().values():
        if tensor.is_floating_point():
            tensor.copy_(tensor.half().to(tensor.dtype))


@dataclass(frozen=True)
class ClipBundle:
    """A CLIP model with what it needs to read pixels and captions.

    Attributes:
        model: an open_clip ``CLIP``; its ``visual`` tower reads normalised images.
        tokenizer: captions to ``[N, context_length]`` token ids.
        image_size: input side in pixels; pixels are made at this size.
        mean, std: per-channel normalisation of the model input.
        class_names: the names written into prompts, one per class.
        templates: caption templates with one ``{}`` for the class name.
        name: where the model came from, for messages.
    """

    model: CLIP
    tokenizer: Callable[[Sequence[str]], torch.Tensor]
    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    class_names: tuple[str, ...]
    templates: tuple[str, ...]
    name: str

    def encode_pixels(self, pixels: torch.Tensor, *, batch_size: int = 512) -> torch.Tensor:
        """Return L2-normalised image features ``[N, D]`` of pixels ``[N, 3, H, W]`` in [0, 1].

        Gradients flow when the caller has them enabled; large inputs are split into batches.

        Raises:
            ValueError: the pixels do not have the model's input size.
        """
        if (
            pixels.ndim != 4
            or pixels.shape[1] != 3
            or tuple(pixels.shape[2:]) != (self.image_size,) * 2
        ):
            raise ValueError(
                f"{self.name} expects pixels [N, 3, {self.image_size}, {self.image_size}], "
                f"got {tuple(pixels.shape)}"
            )
        chunks = []
        for start in range(0, pixels.shape[0], batch_size):
            batch = normalize_pixels(pixels[start : start + batch_size], self.mean, self.std)
            chunks.append(F.normalize(self.model.encode_image(batch), dim=-1))
        return torch.cat(chunks) if chunks else torch.zeros(0, self.embed_dim)

    def encode_captions(self, captions: Sequence[str]) -> torch.Tensor:
        """Return L2-normalised text features ``[N, D]`` of captions."""
        return self.model.encode_text(self.tokenizer(list(captions)), normalize=True)

    @property
    def embed_dim(self) -> int:
        """Width of the joint embedding space."""
        return int(self.model.text_projection.shape[-1])


def fashion_tokenizer(context_length: int = 24) -> WordTokenizer:
    """Build the tokenizer of the shipped models: the words of every Fashion-MNIST caption."""
    return WordTokenizer.from_texts(captions_for(FASHION_CAPTION_NAMES, TEMPLATES), context_length)


def new_fashion_clip(seed: int = 0) -> tuple[ClipBundle, TinyClipConfig]:
    """Build an untrained small CLIP for Fashion-MNIST with a seeded initialisation."""
    tokenizer = fashion_tokenizer()
    config = TinyClipConfig(
        vocab_size=tokenizer.vocab_size, context_length=tokenizer.context_length
    )
    torch.manual_seed(seed)
    model = build_tiny_clip(config)
    return _bundle(
        model, config, tokenizer, FASHION_CAPTION_NAMES, TEMPLATES, "untrained CLIP"
    ), config


def _bundle(
    model: CLIP,
    config: TinyClipConfig,
    tokenizer: WordTokenizer,
    class_names: Sequence[str],
    templates: Sequence[str],
    name: str,
) -> ClipBundle:
    return ClipBundle(
        model=model,
        tokenizer=tokenizer,
        image_size=config.image_size,
        mean=config.image_mean,
        std=config.image_std,
        class_names=tuple(class_names),
        templates=tuple(templates),
        name=name,
    )


def clip_card_config(bundle: ClipBundle, config: TinyClipConfig) -> dict[str, Any]:
    """Return the ``config`` entry of a checkpoint card: architecture, vocabulary and prompts."""
    if not isinstance(bundle.tokenizer, WordTokenizer):
        raise TypeError(
            "only models with the word-level tokenizer are saved as project checkpoints"
        )
    return {
        "model": asdict(config),
        "vocabulary": list(bundle.tokenizer.vocabulary),
        "class_names": list(bundle.class_names),
        "templates": list(bundle.templates),
    }


def load_clip_checkpoint(
    stem: str | os.PathLike[str],
) -> tuple[ClipBundle, dict[str, Any], dict[str, torch.Tensor]]:
    """Load a project CLIP checkpoint.

    Tensors whose names do not belong to the model (for example ``trigger.*`` in a poisoned
    checkpoint) are returned separately.

    Returns:
        ``(bundle, card, extra_tensors)``; the model is in eval mode.

    Raises:
        CheckpointError: files are missing or unreadable, the card lacks the CLIP configuration,
            or the weights do not match it.
    """
    stem = Path(stem)
    state, card = load_checkpoint(stem)
    try:
        entry = card["config"]
        config = TinyClipConfig.from_dict(entry["model"])
        tokenizer = WordTokenizer.from_vocabulary(entry["vocabulary"], config.context_length)
        class_names = tuple(entry["class_names"])
        templates = tuple(entry["templates"])
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(
            f"checkpoint card {stem.with_suffix('.json')} lacks a valid CLIP configuration "
            f"({error})"
        ) from error
    if tokenizer.vocab_size != config.vocab_size:
        raise CheckpointError(
            f"{stem}: the card's vocabulary has {tokenizer.vocab_size} tokens but its model "
            f"config says vocab_size={config.vocab_size}"
        )
    model = build_tiny_clip(config)
    model_state = {
        key: value for key, value in state.items() if key.split(".")[0] in _MODEL_PREFIXES
    }
    extra = {key: value for key, value in state.items() if key not in model_state}
    load_into(model, model_state, str(stem.with_suffix(".safetensors")))
    model.eval()
    bundle = _bundle(model, config, tokenizer, class_names, templates, card.get("name", stem.name))
    return bundle, card, extra


# Top-level names of open_clip CLIP's parameters: everything else in a checkpoint is extra.
_MODEL_PREFIXES = frozenset(
    {
        "visual",
        "transformer",
        "token_embedding",
        "positional_embedding",
        "ln_final",
        "text_projection",
        "logit_scale",
        "logit_bias",
    }
)
