"""TransPixar on diffusers' Wan 2.1 transformer, as TransPixar's own `wan` branch does it
(docs/design/transpixar-on-wan.md lists the facts, read from branch `wan` at 703c5d5).

`apply_transpixar_wan` turns a stock `WanTransformer3DModel` into the RGBA model in place:

* the input is `[B, C, 2F, h, w]` latents, RGB frames then alpha frames on the frame axis (L1); the stock
  patch embedding embeds all of them (P1), so tokens `[0, N)` are RGB and `[N, 2N)` alpha;
* alpha tokens reuse the RGB positions: the RoPE table is built for F frames and used for both halves (R1);
* a zero-initialised `1 x D` domain embedding is added to every alpha token before the first block (D1, D2);
* a LoRA on `attn1.to_q/to_k/to_v/to_out.0`, `attn2.to_q`, `ffn.net.0.proj`, `ffn.net.2` acts on alpha tokens
  only, and one on `attn2.to_out.0` on every token, as the reference does (A1-A4; rank 256 and alpha 1 there);
* no attention mask: in Wan, text enters only as cross-attention keys and values, so the paper's
  text-to-alpha block has nothing to act on (M1, M2).

The output `[B, C, 2F, h, w]` is read back as RGB half then alpha half on the frame axis (H2). The weights file
uses the reference's original Wan names (`diffusion_model.blocks.N.self_attn.q.lora_A.weight`, ...), so an
adapter trained by either can be read by the other (`save_wan_alpha_weights`, `load_wan_alpha_weights`).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from vfxgen.atomic import atomic_path
from vfxgen.errors import ModelError

#: diffusers module (inside `blocks.N.`) -> (original Wan name, LoRA on alpha tokens only).
TARGETS: dict[str, tuple[str, bool]] = {
    "attn1.to_q": ("self_attn.q", True),
    "attn1.to_k": ("self_attn.k", True),
    "attn1.to_v": ("self_attn.v", True),
    "attn1.to_out.0": ("self_attn.o", True),
    "attn2.to_q": ("cross_attn.q", True),
    "attn2.to_out.0": ("cross_attn.o", False),  # the reference's mask misses it (A4): every token
    "ffn.net.0.proj": ("ffn.0", True),
    "ffn.net.2": ("ffn.2", True),
}
DOMAIN_KEY = "diffusion_model.modality_embedding"
LORA_ALPHA_METADATA = "vfxgen:lora_alpha"  # the LoRA's alpha (scale = alpha / rank); absent: the reference's 1
REFERENCE_RANK, REFERENCE_ALPHA = 256, 1.0


class AlphaLoRALinear(nn.Module):
    """`base(x) + scale * B(A(x))`, the update on the second half of the tokens only (`alpha_only`), or on all.

    Tokens are `[B, 2N, D]`: RGB then alpha. Computing the update for the alpha half alone is exactly the
    reference's "LoRA on all tokens times a 0/1 row mask", without the RGB half's wasted work.
    """

    def __init__(self, base: nn.Linear, rank: int, lora_alpha: float, alpha_only: bool) -> None:
        super().__init__()
        self.base = base
        self.alpha_only = alpha_only
        self.scale = lora_alpha / rank
        self.lora_A = nn.Linear(base.in_features, rank, bias=False, dtype=base.weight.dtype, device=base.weight.device)
        self.lora_B = nn.Linear(rank, base.out_features, bias=False, dtype=base.weight.dtype, device=base.weight.device)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))  # PEFT's default: B = 0, so a no-op at first
        nn.init.zeros_(self.lora_B.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base(x)
        if not self.alpha_only:
            return out + self.scale * self.lora_B(self.lora_A(x))
        half = x.shape[1] // 2
        update = self.scale * self.lora_B(self.lora_A(x[:, half:]))
        return torch.cat([out[:, :half], out[:, half:] + update], dim=1)


class SharedRope(nn.Module):
    """Wan's RoPE for the RGB half's F frames, used for both halves: alpha token m + N gets RGB token m's
    (t, h, w) position."""

    def __init__(self, rope: nn.Module) -> None:
        super().__init__()
        self.rope = rope

    def forward(self, hidden_states: torch.Tensor):
        frames = hidden_states.shape[2]
        if frames % 2:
            raise ModelError(
                f"a TransPixar Wan model takes RGB and alpha frames together (an even count), got {frames}",
                "pass [RGB | alpha] latents concatenated on the frame axis",
            )
        cos, sin = self.rope(hidden_states[:, :, : frames // 2])
        return torch.cat([cos, cos], dim=1), torch.cat([sin, sin], dim=1)


def apply_transpixar_wan(transformer: nn.Module, rank: int = REFERENCE_RANK, lora_alpha: float = REFERENCE_ALPHA):
    """Make a stock `WanTransformer3DModel` the RGBA model in place (module docstring); only the LoRA and the
    domain embedding train. Returns the transformer."""
    if getattr(transformer, "_vfxgen_transpixar_wan", False):
        return transformer
    transformer.requires_grad_(False)
    dim = transformer.config.num_attention_heads * transformer.config.attention_head_dim
    weight = transformer.patch_embedding.weight
    transformer.domain_embedding = nn.Parameter(torch.zeros(1, dim, dtype=weight.dtype, device=weight.device))
    transformer.rope = SharedRope(transformer.rope)

    def add_domain_embedding(_module, _inputs, output):  # [B, D, 2F, h, w]: alpha frames are the second half
        half = output.shape[2] // 2
        shift = transformer.domain_embedding.view(1, dim, 1, 1, 1).to(output.dtype)
        return torch.cat([output[:, :, :half], output[:, :, half:] + shift], dim=2)

    transformer.patch_embedding.register_forward_hook(add_domain_embedding)
    for block in transformer.blocks:
        for name, (_, alpha_only) in TARGETS.items():
            parent_name, _, child = name.rpartition(".")
            parent = block.get_submodule(parent_name)
            setattr(parent, child, AlphaLoRALinear(getattr(parent, child), rank, lora_alpha, alpha_only))
    transformer._vfxgen_transpixar_wan = True
    return transformer


def _lora_modules(transformer: nn.Module):
    """(original-name prefix, AlphaLoRALinear) for every adapted module."""
    for index, block in enumerate(transformer.blocks):
        for name, (original, _) in TARGETS.items():
            yield f"diffusion_model.blocks.{index}.{original}", block.get_submodule(name)


def save_wan_alpha_weights(transformer: nn.Module, path: str | Path, metadata: dict[str, str] | None = None) -> Path:
    """The trained LoRA and domain embedding with the reference's key names, as safetensors (atomic)."""
    from safetensors.torch import save_file

    tensors = {DOMAIN_KEY: transformer.domain_embedding.detach().float().cpu().contiguous()}
    for prefix, module in _lora_modules(transformer):
        tensors[f"{prefix}.lora_A.weight"] = module.lora_A.weight.detach().float().cpu().contiguous()
        tensors[f"{prefix}.lora_B.weight"] = module.lora_B.weight.detach().float().cpu().contiguous()
    first = next(module for _, module in _lora_modules(transformer))
    lora_alpha = first.scale * first.lora_A.out_features
    path = Path(path)
    with atomic_path(path, what=f"weights {path.name}") as tmp:
        save_file(tensors, str(tmp), metadata={**(metadata or {}), LORA_ALPHA_METADATA: repr(lora_alpha)})
    return path


def adapter_shape(path: str | Path) -> tuple[int, float]:
    """(rank, lora_alpha) of a TransPixar Wan adapter: the rank from a LoRA tensor's shape, alpha from the
    metadata vfxgen writes, else the reference's 1."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
        key = next((k for k in handle.keys() if k.endswith(".lora_A.weight")), None)
        if key is None:
            raise ModelError(f"{path} holds no LoRA tensors", "pass a TransPixar Wan adapter")
        rank = int(handle.get_slice(key).get_shape()[0])
    return rank, float(metadata.get(LORA_ALPHA_METADATA, REFERENCE_ALPHA))


def load_wan_alpha_weights(transformer: nn.Module, path: str | Path) -> None:
    """Read an adapter in the reference's key names into a transformer made by `apply_transpixar_wan` (rank
    from the tensors' shapes must match); a missing or misshapen tensor is one ModelError."""
    from safetensors.torch import load_file

    state = load_file(str(path))
    wanted = {DOMAIN_KEY: transformer.domain_embedding}
    for prefix, module in _lora_modules(transformer):
        wanted[f"{prefix}.lora_A.weight"] = module.lora_A.weight
        wanted[f"{prefix}.lora_B.weight"] = module.lora_B.weight
    missing = [key for key in wanted if key not in state]
    if missing:
        raise ModelError(f"{path} lacks {missing[0]} ({len(missing)} tensors missing)", "pass a TransPixar Wan adapter")
    with torch.no_grad():
        for key, target in wanted.items():
            if tuple(state[key].shape) != tuple(target.shape):
                raise ModelError(
                    f"{path}: {key} has shape {list(state[key].shape)}, the model needs {list(target.shape)}",
                    "use an adapter trained for this model and rank",
                )
            target.copy_(state[key].to(target.dtype))
