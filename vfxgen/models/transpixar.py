"""TransPixar on diffusers' CogVideoX: RGB + alpha tokens in one DiT (paper Sec. 3, design Sec. 4).

`apply_transpixar` turns a stock `CogVideoXTransformer3DModel` into the RGBA model in place:

* the input is `[B, 2F, C, H, W]` latents, RGB frames then alpha frames; each half is patch-embedded on
  its own by the stock patch embedding (so sincos / learned positional embeddings fit one video) and a
  zero-initialised learnable domain embedding is added to every alpha token;
* alpha tokens reuse the RGB RoPE: the caller passes the RoPE for F frames and the processor applies
  the same frequencies to both halves;
* a LoRA on `to_q`, `to_k`, `to_v`, `to_out.0` acts on alpha tokens only, so text and RGB tokens see
  the frozen pretrained projections;
* attention is masked by splitting it into blocks that each run a fused, unmasked
  `scaled_dot_product_attention`; no N x N mask is ever built (except for `official_mask=True`,
  which reproduces the release's additive 0/1 mask for bit-for-bit parity).

The token layout inside every block is `[text (T) | rgb (N) | alpha (N)]`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers.hooks import HookRegistry, ModelHook
from diffusers.models.embeddings import apply_rotary_emb
from torch import nn

from vfxgen.atomic import atomic_path
from vfxgen.errors import ModelError, UsageError
from vfxgen.request import ATTENTION_MODES  # one list, torch-free

LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")
RELEASE_LORA_ALPHA = 1.0
_PATCH_HOOK = "vfxgen_rgba_patch_embed"


# --- maths: the masked attention as blocks --------------------------------------------------------
def rgba_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    text_len: int,
    mode: str = "transpixar",
    official_mask: bool = False,
) -> torch.Tensor:
    """Attention over `[text | rgb | alpha]` tokens with the TransPixar masking, as unmasked blocks.

    `query/key/value`: `[B, heads, T + 2N, d]`. Modes (which query groups may attend to alpha keys):
    `full` everyone; `transpixar` RGB and alpha but not text (paper Eq. 7); `rgb-isolated` only alpha.
    Because the blocked keys are always the alpha suffix, each query group is one contiguous slice that
    attends to a key prefix, i.e. one `scaled_dot_product_attention` call without a mask.
    """
    if mode not in ATTENTION_MODES:
        raise UsageError(f"unknown attention mode {mode!r}", f"use one of {', '.join(ATTENTION_MODES)}")
    seq = query.shape[2]
    n_video = (seq - text_len) // 2
    alpha_start = text_len + n_video
    if official_mask:
        mask = rgba_attention_mask(text_len, n_video, mode, device=query.device).to(query.dtype)
        return F.scaled_dot_product_attention(query, key, value, attn_mask=mask)
    if mode == "full":
        return F.scaled_dot_product_attention(query, key, value)
    # Queries [0, split) see keys [0, alpha_start); queries [split, end) see everything.
    split = text_len if mode == "transpixar" else alpha_start
    head = F.scaled_dot_product_attention(query[:, :, :split], key[:, :, :alpha_start], value[:, :, :alpha_start])
    tail = F.scaled_dot_product_attention(query[:, :, split:], key, value)
    return torch.cat([head, tail], dim=2)


def rgba_attention_mask(
    text_len: int, n_video: int, mode: str = "transpixar", device: torch.device | str | None = None
) -> torch.Tensor:
    """The dense boolean mask `[S, S]` (True = may attend) that `rgba_attention` computes blockwise.

    Only for tests and for `official_mask=True`: at full size it is (2 x 17,550 + 226)^2 ~ 1.25 G entries.
    """
    seq = text_len + 2 * n_video
    allowed = torch.ones(seq, seq, dtype=torch.bool, device=device)
    alpha_start = text_len + n_video
    if mode == "transpixar":
        allowed[:text_len, alpha_start:] = False
    elif mode == "rgb-isolated":
        allowed[:alpha_start, alpha_start:] = False
    elif mode != "full":
        raise UsageError(f"unknown attention mode {mode!r}", f"use one of {', '.join(ATTENTION_MODES)}")
    return allowed


# --- modules ----------------------------------------------------------------------------------------
class AlphaLoRA(nn.Module):
    """`scale * B(A(x))` with B zero-initialised, applied by the processor to alpha tokens only.

    Not a peft layer on purpose: peft's `LoraLayer` wraps the Linear and adds the update to every token,
    while TransPixar's update must skip text and RGB tokens; adding the delta to the alpha slice is both
    exact and cheaper (no LoRA compute on the other 50%+ of tokens).
    """

    def __init__(self, in_features: int, out_features: int, rank: int, lora_alpha: float) -> None:
        super().__init__()
        self.rank = rank
        self.lora_alpha = float(lora_alpha)
        self.scale = self.lora_alpha / rank
        self.lora_A = nn.Linear(in_features, rank, bias=False)
        self.lora_B = nn.Linear(rank, out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lora_B(self.lora_A(x)) * self.scale


class RGBAAttnProcessor:
    """CogVideoX attention for `[text | rgb | alpha]` tokens: alpha-only LoRA, shared RoPE, block mask.

    The mode is data held by the processor (design: behaviour that varies is a swappable object).
    """

    def __init__(self, mode: str = "transpixar", official_mask: bool = False) -> None:
        if mode not in ATTENTION_MODES:
            raise UsageError(f"unknown attention mode {mode!r}", f"use one of {', '.join(ATTENTION_MODES)}")
        self.mode = mode
        self.official_mask = official_mask

    def __call__(
        self,
        attn: nn.Module,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        image_rotary_emb: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        text_len = encoder_hidden_states.shape[1]
        n_video = hidden_states.shape[1] // 2
        alpha_start = text_len + n_video
        lora = getattr(attn, "rgba_lora", None)

        x = torch.cat([encoder_hidden_states, hidden_states], dim=1)  # [B, T + 2N, D]
        batch = x.shape[0]
        x_alpha = x[:, alpha_start:]
        projected = []
        for name, proj in (("to_q", attn.to_q), ("to_k", attn.to_k), ("to_v", attn.to_v)):
            y = proj(x)
            if lora is not None:
                y[:, alpha_start:] += lora[_module_key(name)](x_alpha)
            projected.append(y)
        query, key, value = (
            y.view(batch, -1, attn.heads, y.shape[-1] // attn.heads).transpose(1, 2) for y in projected
        )  # [B, heads, T + 2N, d]
        if attn.norm_q is not None:
            query = attn.norm_q(query)
        if attn.norm_k is not None:
            key = attn.norm_k(key)

        if image_rotary_emb is not None:
            rope = _rope_for_both_halves(image_rotary_emb, n_video)
            query[:, :, text_len:] = apply_rotary_emb(query[:, :, text_len:], rope)
            key[:, :, text_len:] = apply_rotary_emb(key[:, :, text_len:], rope)

        out = rgba_attention(query, key, value, text_len, self.mode, self.official_mask)
        out = out.transpose(1, 2).reshape(batch, -1, out.shape[1] * out.shape[3])  # [B, T + 2N, D]
        y = attn.to_out[0](out)
        if lora is not None:
            y[:, alpha_start:] += lora[_module_key("to_out.0")](out[:, alpha_start:])
        y = attn.to_out[1](y)
        return y[:, text_len:], y[:, :text_len]


def _rope_for_both_halves(rope: tuple[torch.Tensor, torch.Tensor], n_video: int) -> tuple[torch.Tensor, ...]:
    """The RoPE of F frames, repeated so alpha token m+N gets the frequencies of RGB token m.

    A RoPE computed for 2F frames (what diffusers' stock pipeline computes when handed 2F latent frames)
    is also accepted: its first N rows are exactly the F-frame RoPE (temporal positions 0..F-1), and the
    rest, which would give alpha its own later frame positions, is dropped as the paper prescribes.
    """
    cos, sin = rope
    if cos.shape[0] == 2 * n_video:
        cos, sin = cos[:n_video], sin[:n_video]
    elif cos.shape[0] != n_video:
        raise UsageError(
            f"RoPE covers {cos.shape[0]} tokens but each half has {n_video}",
            "pass the RoPE the stock pipeline computes for the F frames of one half",
        )
    return torch.cat([cos, cos], dim=0), torch.cat([sin, sin], dim=0)


class RGBAPatchEmbedHook(ModelHook):
    """Patch-embeds the RGB and alpha halves separately and adds the domain embedding to alpha tokens.

    A diffusers hook on `transformer.patch_embed`, so parameter names stay those of the stock model and
    offloading hooks compose with it.
    """

    def new_forward(self, module: nn.Module, text_embeds: torch.Tensor, image_embeds: torch.Tensor):
        frames = image_embeds.shape[1]
        if frames % 2:
            raise UsageError(
                f"the RGBA transformer needs an even number of latent frames (RGB then alpha), got {frames}",
                "concatenate RGB and alpha latents along the frame axis",
            )
        text_len = text_embeds.shape[1]
        half = frames // 2
        rgb = self.fn_ref.original_forward(text_embeds, image_embeds[:, :half])  # [B, T + N, D]
        alpha = self.fn_ref.original_forward(text_embeds, image_embeds[:, half:])[:, text_len:]  # [B, N, D]
        return torch.cat([rgb, alpha + _expand_domain(module.domain_emb, alpha.shape[1])], dim=1)


def _expand_domain(domain_emb: torch.Tensor, n_tokens: int) -> torch.Tensor:
    """`[L, D]` -> broadcastable to `[B, N, D]`: L = 1 is repeated over tokens (paper: 1 x D -> L x D)."""
    if domain_emb.shape[0] == 1:
        return domain_emb
    if domain_emb.shape[0] != n_tokens:
        raise UsageError(
            f"the domain embedding has {domain_emb.shape[0]} positions but the video has {n_tokens} tokens",
            "generate at the size the LoRA was trained for",
        )
    return domain_emb.unsqueeze(0)


# --- public API -------------------------------------------------------------------------------------
def apply_transpixar(
    transformer: nn.Module,
    rank: int = 128,
    lora_alpha: float = 1.0,
    attention: str = "transpixar",
    official_mask: bool = False,
) -> nn.Module:
    """Make a diffusers `CogVideoXTransformer3DModel` the TransPixar RGBA model, in place; returns it.

    Adds a zero-initialised domain embedding (`patch_embed.domain_emb`, shape `[1, D]`), an alpha-only
    LoRA (`attn1.rgba_lora`) on every block, and the RGBA attention processor. Only the LoRA and the
    domain embedding are trainable afterwards. Calling it again on an RGBA model changes the attention
    mode and, when `rank`/`lora_alpha` differ, replaces the LoRA with a fresh zero one.
    """
    _check_is_cogvideox(transformer)
    if rank < 1:
        raise UsageError(f"LoRA rank must be at least 1, got {rank}", "pass --rank 128 (the paper's value)")
    set_attention_mode(transformer, attention, official_mask)
    transformer.requires_grad_(False)
    patch_embed = transformer.patch_embed
    weight = patch_embed.text_proj.weight
    if not hasattr(patch_embed, "domain_emb"):
        patch_embed.domain_emb = nn.Parameter(torch.zeros(1, weight.shape[0], dtype=weight.dtype, device=weight.device))
        HookRegistry.check_if_exists_or_initialize(patch_embed).register_hook(RGBAPatchEmbedHook(), _PATCH_HOOK)
    patch_embed.domain_emb.requires_grad_(True)
    for block in transformer.transformer_blocks:
        attn = block.attn1
        current = getattr(attn, "rgba_lora", None)
        if current is None or _lora_rank(attn) != rank or current["to_q"].lora_alpha != float(lora_alpha):
            attn.rgba_lora = _make_lora(attn, rank, lora_alpha)
        attn.rgba_lora.requires_grad_(True)
    return transformer


def set_attention_mode(transformer: nn.Module, attention: str = "transpixar", official_mask: bool = False) -> None:
    """Swap the RGBA processor on every block (`transpixar`, `full`, `rgb-isolated`)."""
    processor = RGBAAttnProcessor(attention, official_mask)
    for block in transformer.transformer_blocks:
        block.attn1.set_processor(processor)


def is_transpixar(transformer: nn.Module) -> bool:
    """True when `apply_transpixar` has been applied."""
    return hasattr(transformer.patch_embed, "domain_emb")


def rgba_lora_state_dict(transformer: nn.Module) -> dict[str, torch.Tensor]:
    """The LoRA and domain embedding in the release's key layout (`transformer.transformer_blocks...`)."""
    if not is_transpixar(transformer):
        raise ModelError("the transformer has no TransPixar LoRA", "call apply_transpixar first")
    state: dict[str, torch.Tensor] = {}
    for i, block in enumerate(transformer.transformer_blocks):
        for target in LORA_TARGETS:
            lora = block.attn1.rgba_lora[_module_key(target)]
            for part in ("lora_A", "lora_B"):
                key = f"transformer.transformer_blocks.{i}.attn1.{target}.{part}.weight"
                state[key] = getattr(lora, part).weight.detach().contiguous()
    state["domain_emb"] = transformer.patch_embed.domain_emb.detach().unsqueeze(0).contiguous()  # [1, L, D]
    return state


def save_rgba_lora(transformer: nn.Module, path: str | os.PathLike, metadata: Mapping[str, str] | None = None) -> Path:
    """Write the LoRA + domain embedding as safetensors in the release layout, with rank/alpha metadata
    (plus `metadata`, e.g. the RGBA recipe it was trained for)."""
    from safetensors.torch import save_file

    state = {k: v.cpu() for k, v in rgba_lora_state_dict(transformer).items()}
    lora = transformer.transformer_blocks[0].attn1.rgba_lora["to_q"]
    metadata = {
        **(metadata or {}),
        "format": "transpixar-rgba-lora",
        "rank": str(lora.rank),
        "lora_alpha": repr(lora.lora_alpha),
    }
    path = Path(path)
    with atomic_path(path, what=f"LoRA {path}") as tmp:
        save_file(state, str(tmp), metadata=metadata)
    return path


def read_rgba_lora(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Read a LoRA file (safetensors only: pickles can run code) -> (tensors, metadata)."""
    from safetensors import safe_open

    path = Path(path)
    if path.suffix.lower() != ".safetensors":
        raise ModelError(
            f"{path} is not a .safetensors file",
            "vfxgen loads weights only from safetensors; convert pickled .bin/.pt files first",
        )
    if not path.is_file():
        raise ModelError(f"LoRA file {path} does not exist", "check the --lora path")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = dict(handle.metadata() or {})
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as exc:  # safetensors raises its own error types for corrupt headers
        raise ModelError(f"cannot read LoRA {path}: {exc}", "the file is corrupt or not safetensors") from exc
    return tensors, metadata


def rgba_lora_shape(path: str | os.PathLike) -> tuple[int, float]:
    """(rank, lora_alpha) of a TransPixar CogVideoX LoRA file from its header alone (no tensor is read): the
    rank from the first block's `to_q.lora_A` shape, alpha from the metadata, else the release's 1.0."""
    from safetensors import safe_open

    key = f"transformer.transformer_blocks.0.attn1.{LORA_TARGETS[0]}.lora_A.weight"
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = dict(handle.metadata() or {})
            if key not in handle.keys():
                raise ModelError(f"{path} holds no TransPixar LoRA ({key} is missing)", "pass a TransPixar LoRA")
            rank = int(handle.get_slice(key).get_shape()[0])
    except ModelError:
        raise
    except Exception as exc:  # safetensors raises its own error types for corrupt headers
        raise ModelError(f"cannot read LoRA {path}: {exc}", "the file is corrupt or not safetensors") from exc
    return rank, float(metadata.get("lora_alpha", RELEASE_LORA_ALPHA))


def load_rgba_lora(
    transformer: nn.Module,
    path_or_state_dict: str | os.PathLike | Mapping[str, torch.Tensor],
    lora_alpha: float | None = None,
) -> nn.Module:
    """Load released TransPixar weights (or ours) into `transformer`, applying TransPixar if needed.

    Rank comes from the tensors; `lora_alpha` from the argument, else the file's metadata, else 1.0 (the
    release's value). Every key and shape is checked before anything is changed; the first mismatch is
    reported in one line.
    """
    metadata: dict[str, str] = {}
    if isinstance(path_or_state_dict, Mapping):
        state = dict(path_or_state_dict)
    else:
        state, metadata = read_rgba_lora(path_or_state_dict)
    check_finite_tensors(state.items(), "LoRA" if isinstance(path_or_state_dict, Mapping) else path_or_state_dict)
    _check_is_cogvideox(transformer)
    rank = _validate_lora_state(transformer, state)
    if lora_alpha is None:
        lora_alpha = float(metadata.get("lora_alpha", RELEASE_LORA_ALPHA))
    attention = "transpixar"
    official = False
    current = transformer.transformer_blocks[0].attn1.processor
    if isinstance(current, RGBAAttnProcessor):
        attention, official = current.mode, current.official_mask
    apply_transpixar(transformer, rank=rank, lora_alpha=lora_alpha, attention=attention, official_mask=official)
    with torch.no_grad():
        for i, block in enumerate(transformer.transformer_blocks):
            for target in LORA_TARGETS:
                lora = block.attn1.rgba_lora[_module_key(target)]
                for part in ("lora_A", "lora_B"):
                    tensor = state[f"transformer.transformer_blocks.{i}.attn1.{target}.{part}.weight"]
                    getattr(lora, part).weight.copy_(tensor)
        domain = _domain_rows(state["domain_emb"])
        patch_embed = transformer.patch_embed
        if patch_embed.domain_emb.shape != domain.shape:
            patch_embed.domain_emb = nn.Parameter(domain.to(patch_embed.domain_emb))
        else:
            patch_embed.domain_emb.copy_(domain)
    return transformer


def check_finite_tensors(named: Iterable[tuple[str, torch.Tensor]], source: str | os.PathLike) -> None:
    """Refuse weights holding NaN or inf (a broken download, a diverged training run): they would only
    produce black or NaN frames after a whole generation. Checked tensor by tensor (no big temporaries)."""
    for name, tensor in named:
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ModelError(
                f"{source} holds NaN or inf values (first in {name})",
                "the weights are damaged: re-download them or use an earlier checkpoint",
            )


# --- helpers ----------------------------------------------------------------------------------------
def _module_key(target: str) -> str:
    return target.replace(".", "_")  # ModuleDict keys cannot hold dots: "to_out.0" -> "to_out_0"


def _make_lora(attn: nn.Module, rank: int, lora_alpha: float) -> nn.ModuleDict:
    weight = attn.to_q.weight
    layers = {}
    for target in LORA_TARGETS:
        linear = attn.to_out[0] if target == "to_out.0" else getattr(attn, target)
        layers[_module_key(target)] = AlphaLoRA(linear.in_features, linear.out_features, rank, lora_alpha)
    return nn.ModuleDict(layers).to(device=weight.device, dtype=weight.dtype)


def _lora_rank(attn: nn.Module) -> int:
    return attn.rgba_lora["to_q"].rank


def _check_is_cogvideox(transformer: nn.Module) -> None:
    if not (hasattr(transformer, "transformer_blocks") and hasattr(transformer, "patch_embed")):
        raise ModelError(
            f"{type(transformer).__name__} is not a CogVideoX transformer",
            "pass a diffusers CogVideoXTransformer3DModel",
        )


def _domain_rows(tensor: torch.Tensor) -> torch.Tensor:
    """Any accepted domain-embedding shape -> `[L, D]`; identical rows (1 x D repeated) collapse to L = 1."""
    rows = tensor.reshape(-1, tensor.shape[-1])
    if rows.shape[0] > 1 and torch.equal(rows, rows[:1].expand_as(rows)):
        rows = rows[:1]
    return rows.clone()


def _validate_lora_state(transformer: nn.Module, state: Mapping[str, torch.Tensor]) -> int:
    """Check keys and shapes against the transformer; return the rank; ModelError on the first mismatch."""
    blocks = transformer.transformer_blocks
    inner = transformer.patch_embed.text_proj.weight.shape[0]
    size_hint = (
        "this LoRA was made for another CogVideoX size or is not a TransPixar LoRA; "
        f"the model has {len(blocks)} blocks of width {inner}"
    )
    if "domain_emb" not in state:
        raise ModelError("the LoRA has no 'domain_emb' tensor", size_hint)
    domain = state["domain_emb"]
    if domain.ndim not in (1, 2, 3) or domain.shape[-1] != inner or (domain.ndim == 3 and domain.shape[0] != 1):
        raise ModelError(f"'domain_emb' has shape {list(domain.shape)}, expected [..., {inner}]", size_hint)
    if domain.ndim == 2 and domain.shape[0] != 1:
        raise ModelError(f"'domain_emb' has shape {list(domain.shape)}, expected [1, {inner}]", size_hint)
    expected = {"domain_emb"}
    rank = None
    for i, block in enumerate(blocks):
        attn = block.attn1
        for target in LORA_TARGETS:
            linear = attn.to_out[0] if target == "to_out.0" else getattr(attn, target)
            for part in ("lora_A", "lora_B"):
                key = f"transformer.transformer_blocks.{i}.attn1.{target}.{part}.weight"
                expected.add(key)
                if key not in state:
                    raise ModelError(f"the LoRA has no tensor {key!r}", size_hint)
                shape = tuple(state[key].shape)
                if rank is None:
                    rank = shape[0] if part == "lora_A" else shape[-1]
                want = (rank, linear.in_features) if part == "lora_A" else (linear.out_features, rank)
                if shape != want:
                    raise ModelError(f"LoRA tensor {key!r} has shape {list(shape)}, expected {list(want)}", size_hint)
    extra = sorted(set(state) - expected)
    if extra:
        raise ModelError(f"the LoRA has an unexpected tensor {extra[0]!r}", size_hint)
    assert rank is not None
    return int(rank)
