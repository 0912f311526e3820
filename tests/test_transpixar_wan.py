"""TransPixar on a tiny diffusers WanTransformer3DModel: shared RoPE, domain embedding, alpha-only LoRA, and the
reference's weights layout (`vfxgen.models.transpixar_wan`)."""

from __future__ import annotations

import pytest
import torch
from diffusers import WanTransformer3DModel

from vfxgen.errors import ModelError
from vfxgen.models.transpixar_wan import (
    DOMAIN_KEY,
    AlphaLoRALinear,
    apply_transpixar_wan,
    load_wan_alpha_weights,
    save_wan_alpha_weights,
)

F, H, W = 2, 8, 8


def tiny_wan(seed: int = 0) -> WanTransformer3DModel:
    torch.manual_seed(seed)
    return WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=32,
        freq_dim=32,
        ffn_dim=48,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        eps=1e-6,
    ).eval()


def inputs(seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    rgb = torch.randn(1, 16, F, H, W, generator=g)
    text = torch.randn(1, 7, 32, generator=g)
    return rgb, text, torch.tensor([500])


@torch.no_grad()
def test_untrained_rgba_model_on_a_copied_half_is_the_base_model():
    """With a zero LoRA and a zero domain embedding, alpha tokens that copy the RGB tokens carry the same
    positions (shared RoPE): every key appears twice, attention is unchanged, and both output halves are the
    base model's output for the RGB frames. Without the shared RoPE they would differ."""
    base = tiny_wan()
    rgb, text, t = inputs()
    expected = base(rgb, t, text, return_dict=False)[0]
    rgba = apply_transpixar_wan(tiny_wan(), rank=4, lora_alpha=1.0)
    out = rgba(torch.cat([rgb, rgb], dim=2), t, text, return_dict=False)[0]
    torch.testing.assert_close(out[:, :, :F], expected, atol=2e-5, rtol=1e-4)
    torch.testing.assert_close(out[:, :, F:], expected, atol=2e-5, rtol=1e-4)
    with pytest.raises(ModelError, match="an even count"):
        rgba(rgb[:, :, :1], t, text)


@torch.no_grad()
def test_the_lora_and_the_domain_embedding_act_on_alpha_tokens_only():
    model = apply_transpixar_wan(tiny_wan(), rank=4, lora_alpha=4.0)
    layer = model.blocks[0].attn1.to_q
    assert isinstance(layer, AlphaLoRALinear) and layer.alpha_only
    layer.lora_B.weight.normal_()
    x = torch.randn(1, 10, layer.base.in_features)
    out, plain = layer(x), layer.base(x)
    torch.testing.assert_close(out[:, :5], plain[:, :5], atol=0, rtol=0)  # RGB rows: the frozen projection
    assert (out[:, 5:] - plain[:, 5:]).abs().max() > 1e-3
    unmasked = model.blocks[0].attn2.to_out[0]  # the reference adapts cross_attn.o on every token
    unmasked.lora_B.weight.normal_()
    assert (unmasked(x)[:, :5] - unmasked.base(x)[:, :5]).abs().max() > 1e-3
    model.domain_embedding.normal_()
    latents = torch.randn(1, 16, 2 * F, H, W)
    embedded = model.patch_embedding(latents)
    plain_embedding = torch.nn.functional.conv3d(
        latents, model.patch_embedding.weight, model.patch_embedding.bias, stride=(1, 2, 2)
    )
    torch.testing.assert_close(embedded[:, :, :F], plain_embedding[:, :, :F], atol=0, rtol=0)
    shift = model.domain_embedding.view(1, -1, 1, 1, 1)
    torch.testing.assert_close(embedded[:, :, F:], plain_embedding[:, :, F:] + shift)


def test_only_the_lora_and_the_domain_embedding_train():
    model = apply_transpixar_wan(tiny_wan(), rank=4)
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert "domain_embedding" in trainable
    assert all(name == "domain_embedding" or ".lora_" in name for name in trainable)
    assert len([n for n in trainable if n.endswith("lora_A.weight")]) == 2 * 8  # 2 blocks x 8 modules


def test_weights_round_trip_in_the_references_key_names(tmp_path):
    model = apply_transpixar_wan(tiny_wan(), rank=4)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.normal_()
    path = save_wan_alpha_weights(model, tmp_path / "adapter_model.safetensors")
    from safetensors.torch import load_file

    keys = set(load_file(str(path)))
    assert DOMAIN_KEY in keys and "diffusion_model.blocks.1.self_attn.q.lora_A.weight" in keys
    assert (
        "diffusion_model.blocks.0.cross_attn.o.lora_B.weight" in keys
        and "diffusion_model.blocks.0.ffn.2.lora_A.weight" in keys
    )
    other = apply_transpixar_wan(tiny_wan(seed=3), rank=4)
    load_wan_alpha_weights(other, path)
    for (name, a), (_, b) in zip(model.named_parameters(), other.named_parameters(), strict=True):
        if a.requires_grad:
            torch.testing.assert_close(a, b, atol=0, rtol=0, msg=name)
    with pytest.raises(ModelError, match="has shape"):
        load_wan_alpha_weights(apply_transpixar_wan(tiny_wan(), rank=8), path)
