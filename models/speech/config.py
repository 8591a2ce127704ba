"""Hyperparameters of the SpikCommander speech model, as one frozen dataclass."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

# SpikCommander's LIF settings (SpikingJelly LIFNode in the authors' configs).
LIF_TAU = 2.0
LIF_THRESHOLD = 1.0
LIF_V_RESET = 0.5  # hard reset to 0.5, which is also the resting potential
LIF_SURROGATE_ALPHA = 5.0  # ATan sharpness in the authors' configs

MLP_KINDS = ("scr", "plain")


@dataclass(frozen=True)
class SpikCommanderConfig:
    """Architecture of :class:`models.speech.spikcommander.SpikCommander`.

    The defaults are a CPU-sized version of the authors' settings (D = 128, 8 heads, one
    block, window radius 20 and T = 100 on SHD). Each MSTASA view can be switched off for the
    branch ablation, and SCR-MLP can be replaced by a plain two-layer spiking MLP.

    Attributes:
        in_features: input channels per time step (mel bands or binned cochlea channels).
        n_classes: output classes.
        dim: embedding width ``D``.
        heads: attention heads ``H``; ``D`` must be divisible by it.
        depths: MSTASA + MLP blocks.
        steps: time steps ``T`` the model expects (sets the global-view scale).
        window: radius ``w`` of the local view's centred window, in steps.
        see_kernel: depthwise kernel of the SEE embedding, in steps.
        v_kernel: (time, channel) kernel of the V-branch's depthwise Conv2d.
        mlp_ratio: hidden width of the MLP as a multiple of ``D``.
        scr_kernel: depthwise kernel of SCR-MLP along time, in steps.
        dropout: dropout probability after each spiking layer.
        local_view: use the sliding-window (local) gate.
        global_view: use the whole-sequence (global) gate.
        v_branch: add the shift-invariant V-branch.
        mlp: ``"scr"`` for SCR-MLP, ``"plain"`` for Linear-LIF-Linear-LIF.
    """

    in_features: int = 140
    n_classes: int = 10
    dim: int = 96
    heads: int = 8
    depths: int = 1
    steps: int = 100
    window: int = 20
    see_kernel: int = 7
    v_kernel: tuple[int, int] = (9, 3)
    mlp_ratio: int = 2
    scr_kernel: int = 31
    dropout: float = 0.1
    local_view: bool = True
    global_view: bool = True
    v_branch: bool = True
    mlp: Literal["scr", "plain"] = "scr"

    def __post_init__(self) -> None:
        if self.dim % self.heads:
            raise ValueError(f"dim {self.dim} must be divisible by heads {self.heads}")
        if not (self.local_view or self.global_view):
            raise ValueError("switch on at least one of local_view and global_view")
        if self.mlp not in MLP_KINDS:
            raise ValueError(f"mlp must be one of {MLP_KINDS}, got {self.mlp!r}")
        if (self.dim * self.mlp_ratio) % 2:
            raise ValueError(
                "SCR-MLP splits its hidden width in two, so dim * mlp_ratio must be even; got "
                f"{self.dim * self.mlp_ratio}"
            )
        for name in ("see_kernel", "scr_kernel"):
            if getattr(self, name) % 2 == 0:
                raise ValueError(
                    f"{name} must be odd to keep the sequence length, got {getattr(self, name)}"
                )
        if any(k % 2 == 0 for k in self.v_kernel):
            raise ValueError(f"v_kernel must be odd in both axes, got {self.v_kernel}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")

    @property
    def head_dim(self) -> int:
        """Channels per head, ``d_h = D / H``."""
        return self.dim // self.heads

    @property
    def variant(self) -> str:
        """Short name of the switched-on branches, such as ``local+global+V/scr``."""
        views = [
            name
            for name, on in (
                ("local", self.local_view),
                ("global", self.global_view),
                ("V", self.v_branch),
            )
            if on
        ]
        return "+".join(views) + f"/{self.mlp}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary (tuples become lists)."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in asdict(self).items()
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SpikCommanderConfig:
        """Build a config from :meth:`to_dict` output, ignoring unknown keys.

        Raises:
            ValueError: a value is invalid (see ``__post_init__``).
        """
        known = {f.name for f in fields(cls)}
        kwargs = {key: value for key, value in values.items() if key in known}
        if "v_kernel" in kwargs:
            kwargs["v_kernel"] = tuple(kwargs["v_kernel"])
        return cls(**kwargs)
