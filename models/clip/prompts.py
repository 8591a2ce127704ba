"""Class-wise learnable text prompts for a frozen CLIP text tower (CoOp, class-specific context).

Class ``c`` reads ``[SOT] v_1^c ... v_M^c <name tokens of c> . [EOT]``: the ``M`` context vectors
``v^c`` (width of the token embedding) replace the first ``M`` words of the prompt and are the
only trained parameters. Its text feature is

    t_c = normalize(g([v^c; CLASS_c]))

where ``g`` is CLIP's text transformer, final layer norm, pooling at the end-of-text position
and projection, exactly as ``CLIP.encode_text`` runs after the token embedding (Zhou et al.,
"Learning to Prompt for Vision-Language Models", IJCV 2022, class-specific context).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from open_clip.transformer import text_global_pool
from torch import nn

# Placeholder word whose token positions the context vectors take over.
PLACEHOLDER = "X"
# Context length for counting a prompt's tokens before truncation.
_LONG_CONTEXT = 512


def encode_text_embeddings(
    model: nn.Module, embeddings: torch.Tensor, tokens: torch.Tensor
) -> torch.Tensor:
    """Run CLIP's text tower on token embeddings ``[N, L, W]`` and return normalised features.

    ``tokens`` ``[N, L]`` only locate the pooled (end-of-text) position, as in
    ``CLIP.encode_text``.

    Raises:
        TypeError: the model is not an open_clip ``CLIP`` with a built-in text transformer.
    """
    if not hasattr(model, "token_embedding") or not hasattr(model, "positional_embedding"):
        raise TypeError(
            f"{type(model).__name__} has no built-in text transformer; prompt tuning needs an "
            "open_clip CLIP model (not CustomTextCLIP or a Hugging Face text tower)"
        )
    cast_dtype = model.transformer.get_cast_dtype()
    x = embeddings.to(cast_dtype) + model.positional_embedding.to(cast_dtype)  # [N, L, W]
    x = model.transformer(x, attn_mask=model.attn_mask)
    x = model.ln_final(x)
    x = text_global_pool(
        x, tokens, model.text_pool_type, eos_token_id=getattr(model, "text_eos_id", None)
    )
    if isinstance(model.text_projection, nn.Linear):
        x = model.text_projection(x)
    elif model.text_projection is not None:
        x = x @ model.text_projection
    return F.normalize(x, dim=-1)  # [N, D]


class ClassWisePrompts(nn.Module):
    """Learnable context vectors per class in front of each class name.

    Args:
        model: an open_clip ``CLIP``; its weights are read, never trained here.
        tokenizer: the model's tokenizer.
        class_names: one name per class.
        n_context: context vectors per class, ``M``.
        init_text: text whose token embeddings start every class's context, as CoOp's "a
            photo of a". It must tokenize to exactly ``n_context`` tokens. Without it the
            context starts as N(0, 0.02^2) noise, CoOp's random initialisation.
        generator: seeds the random initialisation.

    Raises:
        ValueError: ``init_text`` does not tokenize to ``n_context`` tokens, or a prompt does
            not fit the context length.
    """

    def __init__(
        self,
        model: nn.Module,
        tokenizer: Callable[[Sequence[str]], torch.Tensor],
        class_names: Sequence[str],
        n_context: int = 4,
        init_text: str | None = "a photo of a",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.class_names = tuple(class_names)
        self.n_context = n_context
        placeholder = " ".join([PLACEHOLDER] * n_context)
        prompts = [f"{placeholder} {name}." for name in self.class_names]
        tokens = tokenizer(prompts)  # [C, L]
        # Token counts without truncation, to reject prompts that the tokenizer would cut.
        lengths = (tokenizer(prompts, context_length=_LONG_CONTEXT) != 0).sum(dim=-1)
        if int(lengths.max()) > tokens.shape[1]:
            longest = self.class_names[int(lengths.argmax())]
            raise ValueError(
                f"the prompt for {longest!r} with {n_context} context vectors needs "
                f"{int(lengths.max())} tokens but the model's context length is {tokens.shape[1]}; "
                "use a shorter class name or fewer context vectors"
            )
        with torch.no_grad():
            embedded = model.token_embedding(tokens)  # [C, L, W]
        self.register_buffer("tokens", tokens, persistent=False)
        self.register_buffer("prefix", embedded[:, :1].clone(), persistent=False)  # SOT
        self.register_buffer("suffix", embedded[:, 1 + n_context :].clone(), persistent=False)
        width = embedded.shape[-1]
        if init_text:
            init_tokens = tokenizer([init_text])[0]
            words = init_tokens[(init_tokens != 0)][1:-1]  # drop SOT, EOT and padding
            if len(words) != n_context:
                raise ValueError(
                    f"init_text {init_text!r} has {len(words)} tokens but n_context is "
                    f"{n_context}; pass a text with one token per context vector or init_text=None"
                )
            with torch.no_grad():
                start = model.token_embedding(words)  # [M, W]
            context = start.unsqueeze(0).repeat(len(self.class_names), 1, 1)
        else:
            context = (
                torch.randn(len(self.class_names), n_context, width, generator=generator) * 0.02
            )
        self.context = nn.Parameter(context.clone())  # [C, M, W]
        # The text tower is held outside the module's parameters so that only the context trains
        # and state_dict() holds only the context.
        self._model = [model]

    def embeddings(self) -> torch.Tensor:
        """Return the prompt token embeddings ``[C, L, W]``."""
        return torch.cat([self.prefix, self.context, self.suffix], dim=1)

    def forward(self) -> torch.Tensor:
        """Return the normalised text features ``[C, D]`` of the class prompts."""
        return encode_text_embeddings(self._model[0], self.embeddings(), self.tokens)
