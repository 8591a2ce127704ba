"""Backdoor triggers on pixels: BadNets, Blended, SIG, WaNet and a BadCLIP-style patch.

Every trigger maps float pixels ``[N, 3, H, W]`` in [0, 1] to triggered pixels in [0, 1]. It
rejects uint8 input instead of computing in 8-bit arithmetic, where ``image + signal`` wraps
around past 255. Parameters follow the CLIP backdoor benchmark of CleanCLIP and BadCLIP (Liang
et al., CVPR 2024, ``backdoor/utils.py``), which works on 224x224 images, scaled to the model's
input size ``S``:

- BadNets: a fixed random-noise patch of side ``max(4, round(16 S / 224))`` pasted at a random
  position in each image (16x16 at 224). The benchmark draws fresh noise per image; a fixed
  pattern is the original BadNets trigger and is what an inversion can recover.
- Blended: a fixed uniform-noise image blended as ``(1 - alpha) x + alpha n`` with alpha 0.2.
- SIG: ``clip(x + A sin(2 pi j f / S), 0, 1)`` along columns ``j``, A = 60/255, f = 6 periods.
- WaNet: a fixed warping field. A ``k x k`` grid of uniform noise in [-1, 1], scaled to mean
  absolute value 1 and upsampled bicubically to ``S x S``, displaces the sampling grid by
  ``s * noise / S`` in normalised coordinates, that is ``s * noise / 2`` pixels, with k = S and
  s = 1 (the benchmark's k = 224, s = 1 at 224 pixels).
- BadCLIP-style: a patch of the BadNets size in the middle of the image, whose pattern is
  optimised on the clean model (``analysis.backdoor.badclip``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

ATTACKS = ("badnets", "blended", "sig", "wanet", "badclip")
ATTACK_LABELS = {
    "badnets": "BadNets",
    "blended": "Blended",
    "sig": "SIG",
    "wanet": "WaNet",
    "badclip": "BadCLIP-style",
}
BLEND_ALPHA = 0.2
SIG_AMPLITUDE = 60.0 / 255.0
SIG_FREQUENCY = 6
WANET_STRENGTH = 1.0
_VALUE_TOLERANCE = 1e-5


class TriggerError(ValueError):
    """Raised for pixels a trigger cannot take; the message names the expected form."""


def check_pixels(pixels: torch.Tensor, image_size: int) -> None:
    """Check that ``pixels`` are float ``[N, 3, image_size, image_size]`` in [0, 1].

    Raises:
        TriggerError: wrong dtype (uint8 included), shape or value range.
    """
    if not torch.is_tensor(pixels) or not pixels.is_floating_point():
        kind = pixels.dtype if torch.is_tensor(pixels) else type(pixels).__name__
        raise TriggerError(
            f"triggers take float pixels in [0, 1], got {kind}; convert uint8 images with "
            "models.clip.images.pixels_from_uint8 first"
        )
    if (
        pixels.ndim != 4
        or pixels.shape[1] != 3
        or tuple(pixels.shape[2:]) != (image_size, image_size)
    ):
        raise TriggerError(
            f"expected pixels [N, 3, {image_size}, {image_size}], got {tuple(pixels.shape)}"
        )
    if pixels.numel() and (pixels.min() < -_VALUE_TOLERANCE or pixels.max() > 1 + _VALUE_TOLERANCE):
        raise TriggerError(
            f"pixels must lie in [0, 1], got "
            f"[{float(pixels.min()):.3f}, {float(pixels.max()):.3f}]; "
            "apply triggers before normalising with the model's mean and std"
        )


def patch_side(image_size: int) -> int:
    """Return the patch side for an input of ``image_size`` pixels: 16/224 of it, at least 4."""
    return max(4, round(16 * image_size / 224))


@dataclass
class Trigger:
    """A trigger: its kind, input size, tensors and settings.

    Attributes:
        kind: one of ``ATTACKS``.
        image_size: input side the tensors were made for.
        tensors: ``pattern`` (``[3, p, p]`` patch or ``[3, S, S]`` blend image) or
            ``warp_grid`` (``[S, S, 2]`` displacement noise); none for SIG.
        settings: scalar parameters (alpha, amplitude, location, strength).
    """

    kind: str
    image_size: int
    tensors: dict[str, torch.Tensor]
    settings: dict[str, Any]

    @property
    def label(self) -> str:
        """Display name of the attack."""
        return ATTACK_LABELS[self.kind]

    def apply(self, pixels: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return triggered copies of ``pixels`` (float ``[N, 3, S, S]`` in [0, 1]).

        Args:
            pixels: clean pixels.
            generator: draws BadNets patch positions; pass a seeded one for reproducible
                evaluation. Other triggers are deterministic.

        Raises:
            TriggerError: the pixels are not float ``[N, 3, S, S]`` in [0, 1].
        """
        check_pixels(pixels, self.image_size)
        if self.kind in ("badnets", "badclip"):
            out = _paste_patch(
                pixels, self.tensors["pattern"], self.settings["location"], generator
            )
        elif self.kind == "blended":
            alpha = self.settings["alpha"]
            out = (1.0 - alpha) * pixels + alpha * self.tensors["pattern"].to(pixels)
        elif self.kind == "sig":
            out = pixels + sig_signal(
                self.image_size, self.settings["amplitude"], self.settings["frequency"]
            ).to(pixels)
        elif self.kind == "wanet":
            out = warp(pixels, self.tensors["warp_grid"], self.settings["strength"])
        else:
            raise TriggerError(f"unknown trigger kind {self.kind!r}; known kinds are {ATTACKS}")
        return out.clamp(0.0, 1.0)

    def state_dict(self, prefix: str = "trigger.") -> dict[str, torch.Tensor]:
        """Return the trigger's tensors under ``prefix`` for a safetensors file."""
        return {prefix + key: value.detach().contiguous() for key, value in self.tensors.items()}

    def card(self) -> dict[str, Any]:
        """Return the trigger's kind, size and settings for a checkpoint card."""
        return {"kind": self.kind, "image_size": self.image_size, "settings": dict(self.settings)}

    @classmethod
    def from_card(
        cls, card: dict[str, Any], tensors: dict[str, torch.Tensor], prefix: str = "trigger."
    ) -> Trigger:
        """Rebuild a trigger from ``card()`` output and the tensors saved by ``state_dict``."""
        own = {
            key[len(prefix) :]: value.float()
            for key, value in tensors.items()
            if key.startswith(prefix)
        }
        settings = dict(card["settings"])
        if isinstance(settings.get("location"), list):
            settings["location"] = tuple(settings["location"])
        return cls(card["kind"], int(card["image_size"]), own, settings)


def _paste_patch(
    pixels: torch.Tensor,
    pattern: torch.Tensor,
    location: str | tuple[int, int],
    generator: torch.Generator | None,
) -> torch.Tensor:
    count, _, size, _ = pixels.shape
    side = pattern.shape[-1]
    out = pixels.clone()
    if location == "random":
        rows = torch.randint(0, size - side + 1, (count,), generator=generator)
        cols = torch.randint(0, size - side + 1, (count,), generator=generator)
        for i, (top, left) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
            out[i, :, top : top + side, left : left + side] = pattern
        return out
    if location == "middle":
        top = left = size // 2 - side // 2
    else:
        top, left = location
    out[:, :, top : top + side, left : left + side] = pattern.to(pixels)
    return out


def sig_signal(image_size: int, amplitude: float, frequency: int) -> torch.Tensor:
    """Return the SIG signal ``[1, 1, 1, S]``: ``A sin(2 pi j f / S)`` for columns ``j``."""
    columns = torch.arange(image_size, dtype=torch.float32)
    return (amplitude * torch.sin(2 * math.pi * columns * frequency / image_size)).view(1, 1, 1, -1)


def identity_grid(image_size: int) -> torch.Tensor:
    """Return the ``[S, S, 2]`` (x, y) grid with which ``grid_sample`` reproduces its input."""
    axis = torch.linspace(-1.0, 1.0, image_size)
    rows, cols = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack((cols, rows), dim=-1)


def warp(pixels: torch.Tensor, warp_grid: torch.Tensor, strength: float) -> torch.Tensor:
    """Resample pixels on ``identity + strength * warp_grid / S``, clamped to the image."""
    size = pixels.shape[-1]
    grid = (identity_grid(size) + strength * warp_grid / size).clamp(-1.0, 1.0).to(pixels)
    grid = grid.unsqueeze(0).expand(pixels.shape[0], size, size, 2)  # [N, S, S, 2]
    return F.grid_sample(pixels, grid, mode="bilinear", padding_mode="border", align_corners=True)


def make_trigger(kind: str, image_size: int, seed: int = 0) -> Trigger:
    """Create a trigger with the benchmark's parameters scaled to ``image_size``.

    The random tensors (patch and blend noise, warp field) come from ``seed``. The BadCLIP-style
    pattern starts as noise; ``analysis.backdoor.badclip.optimise_patch`` replaces it.

    Raises:
        ValueError: unknown ``kind``.
    """
    generator = torch.Generator().manual_seed(seed)
    side = patch_side(image_size)
    if kind == "badnets":
        pattern = torch.rand(3, side, side, generator=generator)
        return Trigger(kind, image_size, {"pattern": pattern}, {"location": "random", "side": side})
    if kind == "badclip":
        pattern = torch.rand(3, side, side, generator=generator)
        return Trigger(kind, image_size, {"pattern": pattern}, {"location": "middle", "side": side})
    if kind == "blended":
        pattern = torch.rand(3, image_size, image_size, generator=generator)
        return Trigger(kind, image_size, {"pattern": pattern}, {"alpha": BLEND_ALPHA})
    if kind == "sig":
        return Trigger(
            kind, image_size, {}, {"amplitude": SIG_AMPLITUDE, "frequency": SIG_FREQUENCY}
        )
    if kind == "wanet":
        control = image_size  # the benchmark's k equals the input side
        noise = torch.rand(1, 2, control, control, generator=generator) * 2 - 1
        noise = noise / noise.abs().mean()
        field = F.interpolate(noise, size=image_size, mode="bicubic", align_corners=True)
        grid = field[0].permute(1, 2, 0).contiguous()  # [S, S, 2]
        return Trigger(
            kind, image_size, {"warp_grid": grid}, {"strength": WANET_STRENGTH, "control": control}
        )
    raise ValueError(f"unknown attack {kind!r}; choose one of {', '.join(ATTACKS)}")
