"""TransPixar method tests on tiny random CogVideoX transformers (2B, 5B and 5B-I2V layouts)."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from tests.tiny_models import LATENT_F, random_inputs, rope_for, tiny_transformer
from vfxgen.errors import ModelError
from vfxgen.models.transpixar import (
    ATTENTION_MODES,
    apply_transpixar,
    load_rgba_lora,
    rgba_attention,
    rgba_attention_mask,
    rgba_lora_state_dict,
    save_rgba_lora,
)

KINDS = ["2b", "5b", "i2v"]


def run(model, x, text, t, rope):
    with torch.no_grad():
        return model(hidden_states=x, encoder_hidden_states=text, timestep=t, image_rotary_emb=rope).sample


@pytest.mark.parametrize("mode", ATTENTION_MODES)
@pytest.mark.parametrize("text_len,n_video", [(5, 7), (0, 4), (3, 1)])
def test_block_split_attention_equals_masked_sdpa(mode, text_len, n_video):
    g = torch.Generator().manual_seed(0)
    seq = text_len + 2 * n_video
    q, k, v = (torch.randn(2, 3, seq, 8, generator=g) for _ in range(3))
    mask = rgba_attention_mask(text_len, n_video, mode)
    reference = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    ours = rgba_attention(q, k, v, text_len, mode)
    assert torch.allclose(ours, reference, atol=1e-6)
    masks_something = mode == "rgb-isolated" or (mode == "transpixar" and text_len > 0)
    if masks_something:  # the mask is not a no-op: blocked queries really ignore alpha keys
        assert not torch.allclose(ours, F.scaled_dot_product_attention(q, k, v), atol=1e-4)


def test_official_mask_adds_one_instead_of_blocking():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 2, 4 + 2 * 6, 8, generator=g) for _ in range(3))
    allowed = rgba_attention_mask(4, 6, "transpixar")
    official = rgba_attention(q, k, v, 4, "transpixar", official_mask=True)
    additive = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed.float())
    assert torch.allclose(official, additive, atol=1e-6)
    assert not torch.allclose(official, rgba_attention(q, k, v, 4, "transpixar"), atol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_rgb_isolated_rgb_half_equals_stock_model(kind):
    stock = tiny_transformer(kind)
    rgba = apply_transpixar(copy.deepcopy(stock), rank=4, attention="rgb-isolated")
    x, text, t = random_inputs(stock, 2 * LATENT_F)
    rope = rope_for(stock)
    expected = run(stock, x[:, :LATENT_F], text, t, rope)
    out = run(rgba, x, text, t, rope)
    assert out.shape == (1, 2 * LATENT_F, 4, *x.shape[-2:])
    assert (out[:, :LATENT_F] - expected).abs().max() <= 1e-5


@pytest.mark.parametrize("kind", KINDS)
def test_rgba_forward_shapes_all_modes(kind):
    model = apply_transpixar(tiny_transformer(kind), rank=4)
    x, text, t = random_inputs(model, 2 * LATENT_F)
    for mode in ATTENTION_MODES:
        apply_transpixar(model, rank=4, attention=mode)
        out = run(model, x, text, t, rope_for(model))
        assert out.shape == (1, 2 * LATENT_F, 4, *x.shape[-2:])
        assert torch.isfinite(out).all()


def test_rope_for_2f_frames_matches_rope_for_f_frames():
    model = apply_transpixar(tiny_transformer("5b"), rank=4)
    x, text, t = random_inputs(model, 2 * LATENT_F)
    a = run(model, x, text, t, rope_for(model, LATENT_F))
    b = run(model, x, text, t, rope_for(model, 2 * LATENT_F))
    assert torch.equal(a, b)


def test_apply_freezes_base_and_is_zero_initialised():
    stock = tiny_transformer("5b")
    before = {k: v.clone() for k, v in stock.state_dict().items()}
    model = apply_transpixar(copy.deepcopy(stock), rank=4)
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable
    assert all(".rgba_lora." in n or n == "patch_embed.domain_emb" for n in trainable)
    assert "patch_embed.domain_emb" in trainable
    assert len([n for n in trainable if "lora_A" in n]) == 4 * len(model.transformer_blocks)
    state = model.state_dict()
    for key, value in before.items():
        assert torch.equal(state[key], value), key
    assert torch.count_nonzero(model.patch_embed.domain_emb) == 0
    assert all(torch.count_nonzero(p) == 0 for n, p in model.named_parameters() if "lora_B" in n)
    # Zero LoRA + zero domain embedding + full attention: alpha half behaves like the stock model on alpha.
    apply_transpixar(model, rank=4, attention="rgb-isolated")
    x, text, t = random_inputs(stock, 2 * LATENT_F)
    rope = rope_for(stock)
    out = run(model, x, text, t, rope)
    assert torch.allclose(out[:, :LATENT_F], run(stock, x[:, :LATENT_F], text, t, rope), atol=1e-5)


def _randomise_lora(model, seed=3):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".rgba_lora." in name or name == "patch_embed.domain_emb":
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)


def test_save_load_round_trip_is_exact(tmp_path):
    model = apply_transpixar(tiny_transformer("5b"), rank=4, lora_alpha=2.0)
    _randomise_lora(model)
    path = save_rgba_lora(model, tmp_path / "alpha_lora.safetensors")
    fresh = tiny_transformer("5b")  # plain transformer: load applies TransPixar itself
    load_rgba_lora(fresh, path)
    assert fresh.transformer_blocks[0].attn1.rgba_lora["to_q"].lora_alpha == 2.0
    for key, value in rgba_lora_state_dict(model).items():
        assert torch.equal(rgba_lora_state_dict(fresh)[key], value)
    x, text, t = random_inputs(model, 2 * LATENT_F)
    rope = rope_for(model)
    assert torch.equal(run(model, x, text, t, rope), run(fresh, x, text, t, rope))


def test_release_layout_loads_into_other_rank_and_changes_only_alpha(tmp_path):
    stock = tiny_transformer("5b")
    g = torch.Generator().manual_seed(7)
    state = {}
    for i in range(len(stock.transformer_blocks)):
        for target in ("to_q", "to_k", "to_v", "to_out.0"):
            prefix = f"transformer.transformer_blocks.{i}.attn1.{target}"
            state[f"{prefix}.lora_A.weight"] = torch.randn(8, 32, generator=g)
            state[f"{prefix}.lora_B.weight"] = torch.randn(32, 8, generator=g)
    state["domain_emb"] = torch.randn(1, 1, 32, generator=g)  # the release stores it 3-D
    path = tmp_path / "release.safetensors"
    save_file(state, str(path))  # no metadata: lora_alpha defaults to the release's 1.0

    model = apply_transpixar(copy.deepcopy(stock), rank=2, attention="rgb-isolated")
    load_rgba_lora(model, path)
    lora = model.transformer_blocks[0].attn1.rgba_lora["to_q"]
    assert lora.rank == 8 and lora.scale == pytest.approx(1 / 8)
    assert model.transformer_blocks[0].attn1.processor.mode == "rgb-isolated"

    x, text, t = random_inputs(stock, 2 * LATENT_F)
    rope = rope_for(stock)
    zero = apply_transpixar(copy.deepcopy(stock), rank=8, attention="rgb-isolated")
    loaded, unloaded = run(model, x, text, t, rope), run(zero, x, text, t, rope)
    assert torch.allclose(loaded[:, :LATENT_F], unloaded[:, :LATENT_F], atol=1e-5)  # RGB untouched
    assert (loaded[:, LATENT_F:] - unloaded[:, LATENT_F:]).abs().max() > 1e-2  # alpha changed


@pytest.mark.parametrize("shape", [(32,), (1, 32), (1, 1, 32)])
def test_domain_embedding_shapes_accepted(shape):
    model = apply_transpixar(tiny_transformer("5b"), rank=2)
    state = rgba_lora_state_dict(model)
    state["domain_emb"] = torch.full(shape, 0.25)
    load_rgba_lora(model, state)
    assert model.patch_embed.domain_emb.shape == (1, 32)
    assert torch.all(model.patch_embed.domain_emb == 0.25)


def test_per_token_domain_embedding_and_repeated_rows():
    model = apply_transpixar(tiny_transformer("5b"), rank=2)
    n_tokens = LATENT_F * 4 * 6
    state = rgba_lora_state_dict(model)
    state["domain_emb"] = torch.full((1, n_tokens, 32), 0.5)  # 1 x D expanded by repetition
    load_rgba_lora(model, state)
    assert model.patch_embed.domain_emb.shape == (1, 32)
    state["domain_emb"] = torch.randn(1, n_tokens, 32)  # genuinely per token
    load_rgba_lora(model, state)
    assert model.patch_embed.domain_emb.shape == (n_tokens, 32)
    x, text, t = random_inputs(model, 2 * LATENT_F)
    assert torch.isfinite(run(model, x, text, t, rope_for(model))).all()


def test_lora_for_other_model_size_is_refused_with_first_mismatch():
    big = apply_transpixar(tiny_transformer("5b"), rank=2)
    state = rgba_lora_state_dict(big)
    state["transformer.transformer_blocks.0.attn1.to_k.lora_A.weight"] = torch.zeros(2, 24)
    with pytest.raises(ModelError, match=r"to_k\.lora_A\.weight' has shape \[2, 24\], expected \[2, 32\]"):
        load_rgba_lora(tiny_transformer("5b"), state)
    state = rgba_lora_state_dict(big)
    del state["transformer.transformer_blocks.1.attn1.to_v.lora_B.weight"]
    with pytest.raises(ModelError, match="has no tensor"):
        load_rgba_lora(tiny_transformer("5b"), state)
    state = rgba_lora_state_dict(big)
    state["transformer.transformer_blocks.2.attn1.to_q.lora_A.weight"] = torch.zeros(2, 32)
    with pytest.raises(ModelError, match="unexpected tensor"):
        load_rgba_lora(tiny_transformer("5b"), state)


def test_pickle_weights_are_refused(tmp_path):
    bad = tmp_path / "lora.pt"
    bad.write_bytes(b"not even a pickle")
    with pytest.raises(ModelError, match="safetensors"):
        load_rgba_lora(tiny_transformer("5b"), bad)


def test_lora_gradients_reach_only_alpha_parameters():
    model = apply_transpixar(tiny_transformer("5b"), rank=4).train()
    _randomise_lora(model)
    x, text, t = random_inputs(model, 2 * LATENT_F)
    rope = rope_for(model)
    out = model(hidden_states=x, encoder_hidden_states=text, timestep=t, image_rotary_emb=rope).sample
    out[:, LATENT_F:].square().mean().backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.requires_grad}
    assert all(g is not None and torch.count_nonzero(g) > 0 for g in grads.values())
    assert all(p.grad is None for p in model.parameters() if not p.requires_grad)


@pytest.mark.parametrize("kind", KINDS)
def test_alpha_shares_rgb_positions(kind):
    """Zero LoRA and domain embedding, alpha latents = RGB latents: both halves must come out equal,
    which only holds when alpha token m+N has exactly the positional encoding of RGB token m."""
    model = apply_transpixar(tiny_transformer(kind), rank=4, attention="transpixar")
    x, text, t = random_inputs(model, LATENT_F)
    out = run(model, torch.cat([x, x], dim=1), text, t, rope_for(model))
    assert torch.allclose(out[:, :LATENT_F], out[:, LATENT_F:], atol=1e-5)
    with torch.no_grad():
        model.patch_embed.domain_emb.normal_()  # (a constant would vanish in LayerNorm)
    out = run(model, torch.cat([x, x], dim=1), text, t, rope_for(model))
    assert not torch.allclose(out[:, :LATENT_F], out[:, LATENT_F:], atol=1e-3)
