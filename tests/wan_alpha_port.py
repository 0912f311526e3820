"""Independent reference port of the released Wan-Alpha inference (github.com/WeChatCV/Wan-Alpha).

This is a helper module for parity tests, not a test file: it defines no ``test_`` functions and must not import
anything from ``vfxgen``, so that a bug cannot be shared between the product and its reference.  It is written from
a reading of the release (snapshot HEAD 5804410, "Update readme.md"); no code was copied.  Forward passes use
diffusers' ``WanTransformer3DModel`` / ``AutoencoderKLWan`` (diffusers 0.42.1 here); everything Wan-Alpha adds on top
(weight merging, schedule, noise, mask, decoding, uint8 output) is re-implemented below.

Release layout: v2 lives at the repository root (``generate_dora_lightx2v_mask.py``, ``wan/...``); v1 lives in
``Wan-Alpha_v1.0/`` (``generate_dora_lightx2v.py``, ``wan/...``).  The v1 and v2 copies of ``wan/modules/vae.py``,
``wan/modules/model_dora_lightx2v.py``, ``wan/modules/lightx2v_lora_adapter.py``, ``wan/utils/fm_solvers_unipc.py`` and
``wan/utils/fm_solvers.py`` are byte-identical (the last also equals Wan2.1's, github.com/Wan-Video/Wan2.1 9737cba);
v2's ``wan/text2video_dora_lightx2v.py`` only adds the method ``generate_mask``.

Facts used (file :: function -> fact)
=====================================
Pipeline assembly
  F1  wan/text2video_dora_lightx2v.py :: WanT2V_dora_lightx2v.__init__ -> order of operations: load Wan DiT
      (``WanModel_dora_lightx2v.from_pretrained(ckpt_dir)``), then ``load_dora(lora_path, lora_ratio)``, then
      ``load_lightx2v_lora(lightx2v_path)``.  VAE = ``WanVAE(vae_pth=<ckpt>/Wan2.1_VAE.pth,
      vae_lora_path=<decoder.bin>)``.
  F2  test_lightx2v_dora_mask.sh, Wan-Alpha_v1.0/test_lightx2v_dora.sh, readme.md -> released settings:
      --sample_guide_scale 1.0, --sample_steps 4, --lora_ratio 1.0, --frame_num 81, --size 832*480,
      --lora_prefix "" and (v2 only) --alpha_shift_mean 0.05.  The shift is not passed, so
      generate_dora_lightx2v_mask.py :: _validate_args sets sample_shift = 5.0; sample_solver defaults to 'unipc'
      (choices 'unipc', 'dpm++'; dpm++ in F25-F28); without --sample_steps _validate_args sets 50.
  F3  wan/configs/shared_config.py -> num_train_timesteps 1000, param_dtype bfloat16, text_len 512;
      wan/configs/wan_t2v_14B.py -> vae_stride (4, 8, 8), patch_size (1, 2, 2), dim 5120, ffn 13824, 40 heads,
      40 layers, qk_norm, cross_attn_norm, eps 1e-6.  wan/configs/__init__.py :: SIZE_CONFIGS['832*480'] = (832, 480)
      i.e. (width, height).

DoRA merge (item 1)
  F4  wan/modules/model_dora_lightx2v.py :: WanModel_dora_lightx2v.load_dora.get_name_dict -> every key containing
      ".lora_B." defines a target: split on ".", drop the token after "lora_B" if more than two tokens follow
      "lora_B" (the PEFT adapter name, e.g. "default"), drop "lora_B", drop a leading "diffusion_model".  Partner keys:
      ".lora_B." -> ".lora_A." and ".lora_B." -> ".lora_magnitude_vector.".  All other keys are ignored.
  F5  same :: load_dora -> delta = ratio * (B @ A), computed with torch.mm in the DoRA file's dtype (no cast), NO
      lora_alpha / rank scaling; W' = W + delta (type promotion: fp32 W + bf16 delta -> fp32); norm =
      torch.linalg.norm(W', dim=1, keepdim=True) i.e. one L2 norm per OUTPUT row (over input features); clamped at
      1e-8; W_new = (magnitude.view_as(norm) / norm) * W'.  4-D LoRA tensors (1x1 convs) are squeezed to 2-D, the
      delta unsqueezed back and the norm taken over all dims but 0.  The magnitude is not scaled by the ratio.
  F6  Wan-Alpha-train/diffsynth/trainers/utils.py :: DiffusionTrainingModule.add_lora_to_model -> training used
      LoraConfig(r=rank, lora_alpha=rank, use_dora=True) i.e. PEFT scaling 1, consistent with F5's unscaled merge;
      readme.md / Wan-Alpha-train/train.sh -> targets "q,k,v,o,ffn.0,ffn.2", rank 32; saved keys are the PEFT names
      with "pipe.dit." removed (export_trainable_state_dict), e.g. "blocks.0.self_attn.q.lora_A.default.weight".
      Wan-Alpha-train/examples/wanvideo/model_training/train_gauss_ellipse.py -> DiT trained in bfloat16.

LightX2V merge (item 2)
  F7  wan/modules/lightx2v_lora_adapter.py :: WanLoraWrapper._load_lora_file -> every tensor of the file is cast to
      ``self.model.dtype`` BEFORE any arithmetic (so B @ A runs in the model dtype, not the file dtype).
  F8  same :: WanLoraWrapper._apply_lora_weights -> prefixes "" and "diffusion_model." are both tried; pairs
      (lora_A.weight, lora_B.weight) and (lora_down.weight, lora_up.weight) map to "<module>.weight"; suffix "diff"
      -> "weight", "diff_b" -> "bias", "diff_m" -> "modulation" (so "blocks.N.diff_m" patches "blocks.N.modulation");
      the mapped name is built with str.replace of the suffix (all occurrences).  For each model state-dict entry: a
      LoRA pair wins over a diff; pair applied only if param.shape == (B.shape[0], A.shape[1]): W += (B @ A) * alpha;
      diff applied only if shapes match: p += diff * alpha.  Shape mismatches are skipped silently; "alpha" keys and
      every other key are ignored (no alpha/rank scaling).  Asserts at least one tensor was patched.
  F9  wan/modules/model_dora_lightx2v.py :: load_lightx2v_lora -> alpha (strength) is hard-wired to 1.0.

VAE decoders (item 3)
  F10 wan/modules/vae.py :: WanVAE.__init__ -> two full WanVAE_ models (colour ``model_fgr``, alpha ``model_pha``)
      are both loaded from the same Wan2.1_VAE.pth (``load_state_dict(..., assign=True)``, strict); the decoder file
      is torch.load-ed; keys starting with "vae_fgr." / "vae_pha." AND containing "decoder" are kept with the 8-char
      prefix removed; each set is merged into its model by load_decoder_lora.
  F11 same :: load_decoder_lora -> only ".lora_B." keys define targets (same token dropping as F4, without the
      "diffusion_model" rule); target weight = name with ".conv3D." replaced by "."; r = lora_B.shape[1]; for 5-D
      (4-D) kernels: per kernel tap (i, j, k): delta[:, :, i, j, k] = alpha * mm(B[:, :, 0, 0, 0], A[:, :, i, j, k])
      with mm in the file dtype, written into zeros_like(W) (model dtype); W_new = W + delta / r; alpha = 1.0.  2-D
      case: W + (alpha * B @ A) / r.  Biases and any non-LoRA keys in the file are ignored.
  F12 Wan-Alpha-VAE-train/train_vae.py :: LightningModelForTrain.__init__ -> every CausalConv3d of both decoders is
      wrapped so its nn.Conv3d lives at "<path>.conv3D" (explains F11's ".conv3D." rename); LoRA targets = every
      Conv2d/Conv3d in the decoder; LoraConfig(r=rank, lora_alpha=1.0) i.e. PEFT scaling 1/r (consistent with F11);
      readme.md VAE training uses --lora_rank 128.  PEFT conv LoRA: A is a conv with the full kernel, B a 1x1x1 conv.
  F13 wan/modules/vae.py :: WanVAE.__init__ / WanVAE_.decode -> mean/std tables (16 values each, copied as data
      below); scale = [mean, 1/std]; z = z / scale[1] + scale[0]; conv2 (post-quant 1x1x1) then one latent frame at
      a time through the causal decoder with a feature cache; WanVAE.decode -> .float().clamp_(-1, 1).
  F14 wan/modules/vae.py :: _video_vae -> VAE config dim 96, z_dim 16, dim_mult [1, 2, 4, 4], 2 res blocks,
      no attention scales, temperal_downsample [False, True, True].

Sampler (item 4)
  F15 wan/text2video_dora_lightx2v.py :: generate / generate_mask -> target_shape = (16, (F - 1) // 4 + 1, H // 8,
      W // 8); seed_g = torch.Generator(device=self.device) (the CUDA device); noise = ONE torch.randn(target_shape,
      dtype=float32, device=cuda, generator=seed_g); seed -1 -> random.randint(0, sys.maxsize).
  F16 same -> scheduler = FlowUniPCMultistepScheduler(num_train_timesteps=1000, shift=1, use_dynamic_shifting=False)
      then set_timesteps(steps, shift=5.0); loop ``for t in timesteps``: model(latents, t=stack([t]), context,
      seq_len); if guide_scale != 1: uncond + g * (cond - uncond) with the negative prompt, else the conditional
      output alone (one DiT call per step); scheduler.step(pred[None], t, latent[None], generator=seed_g) (the
      generator is unused by UniPC).  Final latents are decoded by both decoders.
  F17 wan/utils/fm_solvers_unipc.py :: FlowUniPCMultistepScheduler.__init__ / set_timesteps -> training sigma table
      1 - linspace(1, 1/1000, 1000)[::-1] (float32), so sigma_max = float32(0.999), sigma_min = 0; inference sigmas
      = linspace(sigma_max, sigma_min, steps + 1)[:-1] (float64), shifted s' = 5 s / (1 + 4 s); timesteps =
      int64(s' * 1000) (truncation); sigmas = float32(concat(s', [0])).  With 4 steps: timesteps [999, 937, 833, 624]
      (verified numerically in ``check_release_timesteps``).
  F18 same :: step / multistep_uni_p_bh_update / multistep_uni_c_bh_update / convert_model_output -> solver_order 2,
      predict_x0, solver_type 'bh2' (B(h) = expm1(-h)), lower_order_final, no disabled corrector, flow prediction:
      x0 = x - sigma * v; alpha = 1 - sigma, lambda = log(alpha) - log(sigma); order-2 predictor uses rho = 0.5;
      order-1 corrector uses rho = 0.5, higher orders solve R rho = b; last step (sigma_next = 0) returns x0.
  F19 wan/modules/model_dora_lightx2v.py :: forward -> text context is zero-padded to text_len (512) tokens BEFORE
      text_embedding, context_lens = None (padding tokens are attended); time embedding = sinusoid computed in
      float64 as cat(cos, sin) with freqs 10000^(-i/half), then cast to float32 (reproduced exactly here by replacing
      diffusers' ``timesteps_proj``); the timestep passed in is the int64 schedule value.

Gaussian mask, v2 (item 5)
  F20 generate_dora_lightx2v_mask.py :: generate -> mask = torch.load(path, weights_only=False); torch.tensor(mask)
      .to(cuda, dtype=bfloat16); alpha_shift_mean default 0.03 on the CLI, 0.05 in the released shell/readme.
  F21 wan/text2video_dora_lightx2v.py :: generate_mask -> alpha_shift_mean = torch.tensor(value, dtype=bfloat16);
      mask (T', h, w) -> unsqueeze(1) -> F.interpolate(size=(H/8, W/8), mode='bilinear', align_corners=False) in
      bfloat16 -> squeeze(1); noise = noise + (1 - mask) * alpha_shift_mean: the product is bfloat16, the sum is
      float32 (promotion); the (T', H', W') shift broadcasts over the 16 channels.  No temporal resize: the mask must
      have T' (or 1) frames.  The shifted noise is the initial latent; nothing else differs from v1.
  F22 gauss_mask (example in the repo) -> float32 tensor of shape (21, 96, 170), values in [0, 1]; gen_gaussian_mask.py
      :: create_gaussian_mask_from_ellipse -> masks are min-max normalised Gaussian ellipses, 1 = subject.
  F23 Wan-Alpha-train/diffsynth/pipelines/wan_video_new_1010_ellipse.py -> training used noise' = (1 - m)(noise + a)
      + m * noise, the same as F21.

Decoding / output (item 6)
  F24 generate_dora_lightx2v_mask.py :: render_video (identical in v1 except the preview checkerboard colours) ->
      each decoder output is clamped to [-1, 1], mapped by torchvision make_grid(normalize=True, value_range=(-1, 1))
      to (x + 1) / 2, multiplied by 255 and cast with .type(torch.uint8) (truncation); alpha = ((0.0 + a0 + a1 + a2) /
      3.).astype(np.uint8) over the three TRUNCATED uint8 alpha-decoder channels (float64 mean, truncated again);
      frame = concat(rgb[..., ::-1], alpha) = BGRA in memory, written with cv2.imencode('.png') so the PNG on disk is
      RGBA.  The float path below is the same arithmetic before the truncations.

Alternative sampler --sample_solver dpm++ (not the released setting; item 4b)
  F25 wan/text2video_dora_lightx2v.py :: generate / generate_mask (same block in v1 and in Wan2.1 wan/text2video.py ::
      WanT2V.generate) -> sample_solver == 'dpm++': scheduler = FlowDPMSolverMultistepScheduler(num_train_timesteps=
      1000, shift=1, use_dynamic_shifting=False), every other argument default; sampling_sigmas =
      get_sampling_sigmas(steps, shift); timesteps = retrieve_timesteps(scheduler, device, sigmas=sampling_sigmas)[0]
      i.e. set_timesteps(sigmas=..., device=...) with no shift.  Loop, DiT call, CFG and step call are those of F16.
      Any other solver name raises NotImplementedError.
  F26 wan/utils/fm_solvers.py :: get_sampling_sigmas / FlowDPMSolverMultistepScheduler.set_timesteps -> s =
      np.linspace(1, 0, steps + 1)[:steps] (float64; starts at 1.0 exactly, NOT at F17's float32(0.999)), s' = shift s /
      (1 + (shift - 1) s); set_timesteps re-shifts with config shift 1 (identity, bit for bit); final_sigmas_type 'zero'
      appends 0; timesteps = int64(s' * 1000) from float64 (truncation); sigmas = float32(concat(s', [0])).  4 steps,
      shift 5: timesteps [1000, 937, 833, 625], sigmas [1, 0.9375, 0.8333333, 0.625, 0]; 8 steps, shift 5: [1000, 972,
      937, 892, 833, 750, 625, 416]; shift 3: [1000, 900, 750, 500] / [1000, 954, 900, 833, 750, 642, 500, 300].  So
      the first DiT call gets t = 1000 (UniPC: 999).  The __init__ train table only feeds the unused sigmas=None path.
  F27 same :: __init__ defaults / step / convert_model_output -> solver_order 2, algorithm_type 'dpmsolver++',
      solver_type 'midpoint', lower_order_final True, euler_at_final False, final_sigmas_type 'zero', thresholding
      False, prediction_type 'flow_prediction': x0 = x - sigma_i * v (in the incoming dtype); alpha = 1 - sigma, lambda
      = log(alpha) - log(sigma) on float32 0-d tensors; step index from (timesteps == t).nonzero() (second hit if
      duplicated); first order on step 1 (no history) and on the last step whatever the step count ('zero' final sigma
      alone forces it); sample upcast to float32, result cast to the model output dtype; generator unused (ODE).
  F28 same :: dpm_solver_first_order_update / multistep_dpm_solver_second_order_update -> h = lambda_next -
      lambda_cur; first order x' = (sigma_next / sigma_cur) x - alpha_next (e^-h - 1) x0; second order (midpoint) also
      subtracts 0.5 alpha_next (e^-h - 1) D1, D1 = (x0 - x0_prev) / r, r = (lambda_cur - lambda_prev) / h.  Since
      sigma_0 = 1 (alpha 0, lambda -inf): step 1 is flow Euler x + (s1 - s0) v (to rounding), and on step 2 r = inf
      makes D1 = 0, so step 2 is first order too, bitwise; the last step (sigma 0, lambda +inf) returns x0 exactly.
      With 4 steps only step 3 is second order.

Could NOT confirm (stated plainly, not guessed)
==============================================
  U1  The exact key set / dtypes of the real files (Wan-Alpha DoRA .safetensors, Wan-Alpha-VAE.bin /
      Wan-Alpha-v2-VAE.bin, Kijai's lightx2v_T2V_14B_cfg_step_distill_v2_lora_rank64_bf16.safetensors): model hubs are
      unreachable here.  The tiny writers follow the training code (F6, F12) and the loader's accepted patterns (F8);
      in particular whether the real LightX2V file carries "diff_m" / "diff" / "diff_b" / ".alpha" entries, and
      whether the real decoder file holds bf16 or fp32 LoRA tensors (DeepSpeed zero_to_fp32 exports would be fp32),
      is unconfirmed.
  U2  The DiT weight dtype at merge time: the release relies on diffusers==0.31 ``ModelMixin.from_pretrained``
      without torch_dtype, which (as far as I know) materialises float32; the Wan2.1-T2V-14B shards are believed to be
      float32.  If either is wrong, F5's promotion and F7's cast change.  This port merges in float32.
  U3  Compute precision of the release forward passes: the DiT runs under torch.cuda.amp.autocast(bfloat16) and, with
      --dit_fsdp (as in the released script), FSDP MixedPrecision(param_dtype=bf16); attention is flash-attn in bf16;
      the VAE decode runs nested inside that bf16 autocast but re-enters autocast(dtype=float32), which I believe
      yields float32 convolutions on CUDA, not verified for the pinned torch.  This port computes in float32 by
      default (``dit_dtype`` lets a caller choose bf16 weights, which is still not the release's mixed precision).
  U4  Noise values: the release draws on a CUDA generator (F15).  On CPU this port draws the same shape/dtype/seed
      from a CPU generator, which gives different numbers; pass ``noise_device='cuda'`` on a GPU machine to match.
      The bf16 bilinear resize of F21 also runs on CUDA in the release; CPU bf16 interpolation may round differently.
  U5  Forward-pass equivalence of diffusers' classes with the release's own WanModel / WanVAE_ was checked only on
      CPU, float32, tiny configs (see "Verification" below), not at full size or in bf16: diffusers applies RoPE in
      real arithmetic against float64 tables (release: float64 complex, then float), uses SDPA instead of flash-attn,
      and its converters (loaders/single_file_utils.py :: convert_wan_transformer_to_diffusers /
      convert_wan_vae_to_diffusers) define the key mapping used here.
  U6  Sequence padding under Ulysses parallelism (seq_len rounded up to a multiple of the SP size): for 832x480x81 the
      token count 32760 divides by 8, so no padding occurs in the released setting; other sizes are not modelled.
  U7  The seed used for the released sample videos is unknown (the shell scripts pass no --base_seed, so it is random).

Verification done once while writing this port (script kept outside the repository)
====================================================================================
  The release's own modules (wan/modules/model_dora_lightx2v.py, lightx2v_lora_adapter.py, vae.py and
  wan/utils/fm_solvers_unipc.py from the snapshot, with flash_attention swapped for SDPA because it asserts CUDA)
  were run on the tiny files written by this module, on CPU in float32:
    * DoRA + LightX2V merge (load_dora, load_lightx2v_lora) vs merge_dora/merge_lightx2v: bitwise identical.
    * Decoder LoRA merge (load_decoder_lora) vs merge_vae_decoder_lora, both decoders: bitwise identical.
    * FlowUniPCMultistepScheduler(shift=1).set_timesteps(4, shift=5) vs FlowUniPC: same timesteps [999, 937, 833,
      624], same sigmas, bitwise identical steps on a random trajectory.
    * Release WanModel forward vs converted diffusers WanTransformer3DModel (+ ReleaseTimeSinusoid): max abs diff
      8.3e-7; whole 4-step loop (release model + release scheduler vs ``denoise``): 9.5e-7 on the final latent.
      Without the sinusoid swap, diffusers' float32 Timesteps differs from the release's embedding by up to 4.3e-5.
    * Release WanVAE_.decode (both merged decoders) vs converted diffusers AutoencoderKLWan: bitwise identical.
    * dpm++ (F25-F28): FlowDPMSolverMultistepScheduler(shift=1) + retrieve_timesteps(sigmas=get_sampling_sigmas(n,
      shift)) from the snapshot vs release_dpm_schedule / FlowDPMpp, n in {4, 8} x shift in {5, 3}, two random
      trajectories each (1x16x3x6x5, float32): same timesteps and sigmas, latents bitwise identical after every step
      (max abs diff 0); also bitwise with bf16 inputs.  ``denoise(solver='dpm++')`` on the tiny DiT vs a loop over the
      release scheduler with the same DiT, 4 and 8 steps: bitwise identical.  Order 2 equals order 1 bitwise through
      step 2 and differs from step 3 on (F28); the last step equals x - sigma * v bitwise.
    * diffusers 0.42.1 DPMSolverMultistepScheduler(prediction_type='flow_prediction', use_flow_sigmas=True,
      flow_shift=shift, algorithm_type='dpmsolver++', solver_order=2, solver_type='midpoint', lower_order_final=True,
      euler_at_final=False, final_sigmas_type='zero') with the release grid written into ``.timesteps`` / ``.sigmas``
      after set_timesteps(n) (``diffusers_dpm_for_release``): bitwise identical to the release in all 8 runs above.
      It cannot be fed the grid directly: 0.42.1's set_timesteps has no sigmas= parameter, set_timesteps(timesteps=...)
      raises TypeError under use_flow_sigmas, and its own use_flow_sigmas grid is 1 - linspace(1, 1/1000, n + 1)
      reversed, starting at 0.999 shifted (sigma_0 0.99980 at shift 5): 4 steps shift 5 -> [999, 937, 833, 624], shift
      3 -> [999, 899, 749, 499]; 8 steps shift 5 -> [999, 972, 937, 892, 833, 749, 624, 416].  On the same random
      velocities that grid ends 5.8e-2 (4 steps / shift 5), 8.7e-2 (4/3), 1.6e-2 (8/5), 2.5e-2 (8/3) away from the
      release (max abs).
  Not verified against the release code: render_video's uint8 path (torchvision is not installed here; the helper
  follows make_grid's documented clamp/sub/div arithmetic) and anything on CUDA or in bf16.

Original-layout key names and their diffusers counterparts (for the tiny writers)
==================================================================================
  DiT (release ``WanModel_dora_lightx2v`` == original Wan ``WanModel``) -> diffusers ``WanTransformer3DModel``
  (mapping of convert_wan_transformer_to_diffusers):
    patch_embedding.*                       -> patch_embedding.*
    text_embedding.0/2.*                    -> condition_embedder.text_embedder.linear_1/2.*
    time_embedding.0/2.*                    -> condition_embedder.time_embedder.linear_1/2.*
    time_projection.1.*                     -> condition_embedder.time_proj.*
    blocks.N.self_attn.{q,k,v,o}.*          -> blocks.N.attn1.{to_q,to_k,to_v,to_out.0}.*
    blocks.N.self_attn.norm_{q,k}.weight    -> blocks.N.attn1.norm_{q,k}.weight
    blocks.N.cross_attn.*                   -> blocks.N.attn2.* (same sub-names as self_attn)
    blocks.N.norm3.{weight,bias}            -> blocks.N.norm2.* (affine cross-attention norm; norm1/norm2 of the
                                               original have no parameters)
    blocks.N.ffn.0.* / blocks.N.ffn.2.*     -> blocks.N.ffn.net.0.proj.* / blocks.N.ffn.net.2.*
    blocks.N.modulation (1, 6, dim)         -> blocks.N.scale_shift_table
    head.head.* / head.modulation (1,2,dim) -> proj_out.* / scale_shift_table
  VAE (release ``WanVAE_``) -> diffusers ``AutoencoderKLWan`` (convert_wan_vae_to_diffusers):
    encoder/decoder.conv1 -> conv_in; conv1/conv2 -> quant_conv/post_quant_conv; *.middle.{0,2} -> mid_block.resnets;
    *.middle.1 -> mid_block.attentions.0; *.head.{0,2} -> norm_out/conv_out; residual.{0,2,3,6} -> norm1/conv1/
    norm2/conv2; shortcut -> conv_shortcut; decoder.upsamples.{0-2,4-6,8-10,12-14} -> up_blocks.{0..3}.resnets;
    decoder.upsamples.{3,7,11} -> up_blocks.{0,1,2}.upsamplers.0.  The converter hard-codes these indices, so the
    tiny VAE keeps the released depth (dim_mult [1, 2, 4, 4], 2 res blocks) and only shrinks the base width.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save_file

# --------------------------------------------------------------------------------------------------------------
# Constants taken from the release (F3, F13, F14, F17, F20)
# --------------------------------------------------------------------------------------------------------------
NUM_TRAIN_TIMESTEPS = 1000
VAE_STRIDE = (4, 8, 8)
PATCH_SIZE = (1, 2, 2)
TEXT_LEN = 512
Z_DIM = 16
SAMPLE_SHIFT = 5.0
DISTILLED_STEPS = 4
DISTILLED_TIMESTEPS = (999, 937, 833, 624)
DPM_DISTILLED_TIMESTEPS = (1000, 937, 833, 625)  # the same 4 steps / shift 5 with --sample_solver dpm++ (F26)
SOLVERS = ("unipc", "dpm++")  # generate_dora_lightx2v_mask.py --sample_solver choices; default 'unipc'
ALPHA_SHIFT_MEAN_RELEASED = 0.05  # shell script / readme value (CLI default is 0.03)
ALPHA_SHIFT_MEAN_CLI_DEFAULT = 0.03
VAE_LATENT_MEAN = (
    -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
    0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921,
)  # fmt: skip
VAE_LATENT_STD = (
    2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
    3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160,
)  # fmt: skip

DIT_CONFIG_NAME = "config.json"
DIT_WEIGHTS_NAME = "diffusion_pytorch_model.safetensors"
DIT_INDEX_NAME = "diffusion_pytorch_model.safetensors.index.json"


# ==============================================================================================================
# (1) DoRA merge -- F4, F5
# ==============================================================================================================
def dora_targets(dora_sd: dict[str, torch.Tensor]) -> dict[str, dict[str, str]]:
    """Map each DiT weight name patched by a DoRA file to its (lora_B, lora_A, magnitude) keys, as the release names
    them (F4).  Only keys containing ``.lora_B.`` start a target; the partner names are derived by substitution."""
    out: dict[str, dict[str, str]] = {}
    for key in dora_sd:
        if ".lora_B." not in key:
            continue
        parts = key.split(".")
        pos = parts.index("lora_B")
        if len(parts) > pos + 2:  # "<module>.lora_B.<adapter>.weight": forget the adapter name
            del parts[pos + 1]
        del parts[pos]
        if parts[0] == "diffusion_model":
            del parts[0]
        out[".".join(parts)] = {
            "lora_B": key,
            "lora_A": key.replace(".lora_B.", ".lora_A."),
            "magnitude": key.replace(".lora_B.", ".lora_magnitude_vector."),
        }
    return out


def merge_dora(
    dit_sd: dict[str, torch.Tensor], dora_sd: dict[str, torch.Tensor], ratio: float = 1.0
) -> dict[str, torch.Tensor]:
    """Return a copy of an ORIGINAL-layout Wan DiT state dict with a DoRA file folded in, as the release does (F5):

    ``W_new = m / ||W + ratio * (B @ A)||_row * (W + ratio * (B @ A))``

    ``B @ A`` and the ratio product are computed in the DoRA file's own dtype; adding to ``W`` promotes to ``W``'s
    dtype; the norm is the L2 norm of each output row (dim=1), clamped at 1e-8; there is no rank scaling.
    """
    merged = dict(dit_sd)
    for name, keys in dora_targets(dora_sd).items():
        b = dora_sd[keys["lora_B"]]
        a = dora_sd[keys["lora_A"]]
        magnitude = dora_sd[keys["magnitude"]]
        if b.dim() == 4:  # 1x1 conv LoRA stored as 4-D
            delta = (ratio * torch.mm(b.squeeze(3).squeeze(2), a.squeeze(3).squeeze(2)))[:, :, None, None]
        else:
            delta = ratio * torch.mm(b, a)
        w = dit_sd[name].clone() + delta
        if w.dim() == 4:
            row_norm = torch.linalg.norm(w, dim=tuple(range(1, w.dim())), keepdim=True)
        else:
            row_norm = torch.linalg.norm(w, dim=1, keepdim=True)
        row_norm = row_norm.clamp(min=1e-8)
        merged[name] = (magnitude.view_as(row_norm) / row_norm) * w
    return merged


# ==============================================================================================================
# (2) LightX2V LoRA merge -- F7, F8, F9
# ==============================================================================================================
_LIGHTX2V_PAIRS = (("lora_A.weight", "lora_B.weight"), ("lora_down.weight", "lora_up.weight"))
_LIGHTX2V_DIFFS = (("diff", "weight"), ("diff_b", "bias"), ("diff_m", "modulation"))


def lightx2v_targets(lora_sd: dict[str, torch.Tensor]) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Resolve which DiT entries a LightX2V file touches (F8): ``pairs`` maps a weight name to its (A, B) keys,
    ``diffs`` maps a weight/bias/modulation name to its additive key.  Both "" and "diffusion_model." prefixes are
    tried, in that order, and names are formed with ``str.replace`` exactly like the release."""
    pairs: dict[str, tuple[str, str]] = {}
    diffs: dict[str, str] = {}
    for prefix in ("", "diffusion_model."):
        for key in lora_sd:
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix):]
            for suffix_a, suffix_b in _LIGHTX2V_PAIRS:
                if key.endswith(suffix_a):
                    partner = key.replace(suffix_a, suffix_b)
                    if partner in lora_sd:
                        pairs[rest.replace(suffix_a, "weight")] = (key, partner)
            for suffix, target in _LIGHTX2V_DIFFS:
                if key.endswith(suffix):
                    diffs[rest.replace(suffix, target)] = key
    return pairs, diffs


def merge_lightx2v(
    dit_sd: dict[str, torch.Tensor],
    lora_sd: dict[str, torch.Tensor],
    alpha: float = 1.0,
    model_dtype: torch.dtype | None = None,
) -> tuple[dict[str, torch.Tensor], int]:
    """Return (merged copy of an original-layout DiT state dict, number of patched tensors), following F7-F9.

    Every LoRA tensor is first cast to the model dtype (``model_dtype``, default: dtype of the first DiT tensor, as
    ``ModelMixin.dtype`` reports).  Per DiT entry: a matching (A, B) pair adds ``(B @ A) * alpha`` when the shapes fit;
    otherwise a matching diff/diff_b/diff_m adds ``diff * alpha`` when the shapes fit.  The release always uses
    alpha = 1.0 and asserts that something was patched.
    """
    if model_dtype is None:
        model_dtype = next(iter(dit_sd.values())).dtype
    cast = {k: v.to(model_dtype) for k, v in lora_sd.items()}
    pairs, diffs = lightx2v_targets(cast)
    merged = dict(dit_sd)
    patched = 0
    for name, param in dit_sd.items():
        if name in pairs:
            a = cast[pairs[name][0]].to(param.device, param.dtype)
            b = cast[pairs[name][1]].to(param.device, param.dtype)
            if tuple(param.shape) == (b.shape[0], a.shape[1]):
                merged[name] = param + torch.matmul(b, a) * alpha
                patched += 1
        elif name in diffs:
            d = cast[diffs[name]].to(param.device, param.dtype)
            if param.shape == d.shape:
                merged[name] = param + d * alpha
                patched += 1
    if patched == 0:
        raise AssertionError("LightX2V file patched nothing (the release asserts applied_count > 0)")
    return merged, patched


# ==============================================================================================================
# (3) VAE with two LoRA-merged decoders -- F10 .. F14
# ==============================================================================================================
def split_decoder_file(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Split a Wan-Alpha decoder checkpoint into (colour, alpha) dicts: keys beginning with "vae_fgr." / "vae_pha."
    that contain "decoder" anywhere, prefix (8 characters) removed (F10)."""
    fgr = {k[8:]: v.data for k, v in state.items() if k[:8] == "vae_fgr." and "decoder" in k}
    pha = {k[8:]: v.data for k, v in state.items() if k[:8] == "vae_pha." and "decoder" in k}
    return fgr, pha


def merge_vae_decoder_lora(
    vae_sd: dict[str, torch.Tensor], lora_sd: dict[str, torch.Tensor], alpha: float = 1.0
) -> dict[str, torch.Tensor]:
    """Return a copy of an ORIGINAL-layout Wan VAE state dict with one decoder's LoRA merged as the release does
    (F11): per kernel tap ``delta[..., tap] = alpha * B[:, :, 0...] @ A[..., tap]`` in the file dtype, stored in the
    model dtype, then ``W + delta / r`` with ``r = B.shape[1]``.  Only ``.lora_B.`` keys define targets; the target
    name drops the adapter token and "lora_B", and ".conv3D." becomes "."."""
    merged = dict(vae_sd)
    for key in lora_sd:
        if ".lora_B." not in key:
            continue
        parts = key.split(".")
        if len(parts) > parts.index("lora_B") + 2:
            del parts[parts.index("lora_B") + 1]
        del parts[parts.index("lora_B")]
        target = ".".join(parts).replace(".conv3D.", ".")
        up = lora_sd[key]
        down = lora_sd[key.replace(".lora_B.", ".lora_A.")]
        weight = vae_sd[target]
        rank = float(up.shape[1])
        if up.dim() in (4, 5):
            up2 = up.reshape(up.shape[0], up.shape[1])  # trailing kernel dims are all 1
            delta = torch.zeros_like(weight)
            for tap in np.ndindex(*down.shape[2:]):
                delta[(slice(None), slice(None), *tap)] = alpha * torch.mm(up2, down[(slice(None), slice(None), *tap)])
        else:
            delta = alpha * torch.mm(up, down)
        merged[target] = weight + delta / rank
    return merged


def _diffusers_vae_config(base_dim: int) -> dict:
    return {
        "base_dim": base_dim,
        "z_dim": Z_DIM,
        "dim_mult": [1, 2, 4, 4],
        "num_res_blocks": 2,
        "attn_scales": [],
        "temperal_downsample": [False, True, True],
        "dropout": 0.0,
    }


def vae_base_dim_from_state(vae_sd: dict[str, torch.Tensor]) -> int:
    """The VAE width (96 for Wan2.1_VAE.pth) read from ``encoder.conv1.weight`` (shape (dim, 3, 3, 3, 3))."""
    return int(vae_sd["encoder.conv1.weight"].shape[0])


def original_vae_to_diffusers(vae_sd: dict[str, torch.Tensor]):
    """Build a diffusers ``AutoencoderKLWan`` (float32, eval) from an original-layout VAE state dict via diffusers'
    own converter, loading strictly so that any key mismatch fails loudly."""
    from diffusers import AutoencoderKLWan
    from diffusers.loaders.single_file_utils import convert_wan_vae_to_diffusers

    model = AutoencoderKLWan(**_diffusers_vae_config(vae_base_dim_from_state(vae_sd)))
    converted = convert_wan_vae_to_diffusers({k: v.float() for k, v in vae_sd.items()})
    model.load_state_dict(converted, strict=True)
    return model.eval().requires_grad_(False)


def build_vae_decoders(vae_pth: str, decoder_file: str):
    """Release ``WanVAE.__init__`` (F10): the same base VAE twice, the colour decoder LoRA merged into one and the
    alpha decoder LoRA into the other.  Returns (vae_fgr, vae_pha) as diffusers ``AutoencoderKLWan`` models."""
    base = torch.load(vae_pth, map_location="cpu", weights_only=True)
    state = torch.load(decoder_file, map_location="cpu", weights_only=True)
    fgr_lora, pha_lora = split_decoder_file(state)
    vae_fgr = original_vae_to_diffusers(merge_vae_decoder_lora(base, fgr_lora))
    vae_pha = original_vae_to_diffusers(merge_vae_decoder_lora(base, pha_lora))
    return vae_fgr, vae_pha


# ==============================================================================================================
# DiT loading (original layout -> merges -> diffusers model)
# ==============================================================================================================
def load_original_dit(ckpt_dir: str) -> tuple[dict, dict[str, torch.Tensor]]:
    """Read an original Wan DiT directory (config.json + one or sharded safetensors) as (config, float32 state)."""
    with open(os.path.join(ckpt_dir, DIT_CONFIG_NAME)) as fh:
        config = json.load(fh)
    index = os.path.join(ckpt_dir, DIT_INDEX_NAME)
    if os.path.exists(index):
        with open(index) as fh:
            files = sorted(set(json.load(fh)["weight_map"].values()))
    else:
        files = [DIT_WEIGHTS_NAME]
    state: dict[str, torch.Tensor] = {}
    for name in files:
        state.update(read_safetensors(os.path.join(ckpt_dir, name)))
    return config, {k: v.float() for k, v in state.items()}  # U2: diffusers 0.31 from_pretrained -> float32


def read_safetensors(path: str) -> dict[str, torch.Tensor]:
    with safe_open(path, framework="pt") as fh:
        return {k: fh.get_tensor(k) for k in fh.keys()}


class ReleaseTimeSinusoid(torch.nn.Module):
    """The release's ``sinusoidal_embedding_1d`` (F19): float64 ``cat(cos, sin)`` of t * 10000^(-i/half), returned as
    float32.  Swapped in for diffusers' float32 ``Timesteps`` so the time embedding matches bit for bit."""

    def __init__(self, dim: int):
        super().__init__()
        if dim % 2:
            raise ValueError("frequency dimension must be even")
        self.dim = dim

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        half = self.dim // 2
        pos = t.to(torch.float64)
        inv = torch.pow(10000, -torch.arange(half, dtype=torch.float64, device=pos.device) / half)
        angles = torch.outer(pos, inv)
        return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1).float()


def diffusers_dit_config(config: dict) -> dict:
    """Translate an original Wan ``config.json`` (release ``WanModel`` arguments) to ``WanTransformer3DModel``'s."""
    dim, heads = int(config.get("dim", 2048)), int(config.get("num_heads", 16))
    return {
        "patch_size": tuple(config.get("patch_size", PATCH_SIZE)),
        "num_attention_heads": heads,
        "attention_head_dim": dim // heads,
        "in_channels": int(config.get("in_dim", 16)),
        "out_channels": int(config.get("out_dim", 16)),
        "text_dim": int(config.get("text_dim", 4096)),
        "freq_dim": int(config.get("freq_dim", 256)),
        "ffn_dim": int(config.get("ffn_dim", 8192)),
        "num_layers": int(config.get("num_layers", 32)),
        "cross_attn_norm": bool(config.get("cross_attn_norm", True)),
        "qk_norm": "rms_norm_across_heads" if config.get("qk_norm", True) else None,
        "eps": float(config.get("eps", 1e-6)),
    }


def original_dit_to_diffusers(config: dict, dit_sd: dict[str, torch.Tensor], dtype: torch.dtype = torch.float32):
    """Build a diffusers ``WanTransformer3DModel`` from an original-layout (already merged) DiT state dict using
    diffusers' converter, strict load, with the release's float64 time sinusoid patched in."""
    from diffusers import WanTransformer3DModel
    from diffusers.loaders.single_file_utils import convert_wan_transformer_to_diffusers

    model = WanTransformer3DModel(**diffusers_dit_config(config))
    converted = convert_wan_transformer_to_diffusers(dict(dit_sd))
    model.load_state_dict(converted, strict=True)
    model.condition_embedder.timesteps_proj = ReleaseTimeSinusoid(int(config.get("freq_dim", 256)))
    if dtype != torch.float32:
        model = model.to(dtype)
    return model.eval().requires_grad_(False)


def build_dit(ckpt_dir: str, dora_path: str | None, dora_ratio: float, lightx2v_path: str | None,
              dtype: torch.dtype = torch.float32):
    """Release ``WanT2V_dora_lightx2v.__init__`` order (F1): base DiT, then DoRA (ratio), then LightX2V (1.0).
    Returns (original config, diffusers model)."""
    config, state = load_original_dit(ckpt_dir)
    if dora_path is not None:
        state = merge_dora(state, read_safetensors(dora_path), dora_ratio)
    if lightx2v_path is not None:
        state, _ = merge_lightx2v(state, read_safetensors(lightx2v_path), alpha=1.0)
    return config, original_dit_to_diffusers(config, state, dtype)


# ==============================================================================================================
# (4) Sampler: flow-matching UniPC as the release configures it -- F16, F17, F18
# ==============================================================================================================
def release_schedule(steps: int, shift: float = SAMPLE_SHIFT, num_train: int = NUM_TRAIN_TIMESTEPS):
    """(timesteps int64 [steps], sigmas float32 [steps + 1]) exactly as F17 derives them."""
    train_alphas = np.linspace(1, 1 / num_train, num_train)[::-1].copy()
    train_sigmas = torch.from_numpy(1.0 - train_alphas).to(torch.float32)  # built with shift=1 (identity)
    sigma_max, sigma_min = train_sigmas[0].item(), train_sigmas[-1].item()
    s = np.linspace(sigma_max, sigma_min, steps + 1).copy()[:-1]
    s = shift * s / (1 + (shift - 1) * s)
    timesteps = torch.from_numpy(s * num_train).to(torch.int64)
    sigmas = torch.from_numpy(np.concatenate([s, [0.0]]).astype(np.float32))
    return timesteps, sigmas


def check_release_timesteps() -> list[int]:
    """Confirm the distilled 4-step schedule is 999, 937, 833, 624 (F17)."""
    ts = release_schedule(DISTILLED_STEPS)[0].tolist()
    if tuple(ts) != DISTILLED_TIMESTEPS:
        raise AssertionError(f"unexpected schedule {ts}")
    return ts


class FlowUniPC:
    """Multistep UniPC (predictor UniP + corrector UniC, B(h) = expm1(-h)) on flow sigmas, order 2, predicting x0,
    lower order on the final step -- the configuration the release uses (F18).  All arithmetic is float32 on 0-d
    tensors like the release; ``step`` returns the next latent."""

    def __init__(self, steps: int, shift: float = SAMPLE_SHIFT, order: int = 2):
        self.timesteps, self.sigmas = release_schedule(steps, shift)
        self.order = order
        self.x0_history: list[torch.Tensor | None] = [None] * order
        self.prev_sample: torch.Tensor | None = None
        self.warm = 0  # number of stored model outputs (capped at order)
        self.index: int | None = None
        self.cur_order = 1

    def _lambda(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        sigma = self.sigmas[i]
        alpha = 1 - sigma
        return alpha, sigma, torch.log(alpha) - torch.log(sigma)

    def _coefficients(self, rks: list, hh: torch.Tensor, order: int):
        """R matrix rows rks^(k-1) and vector b for k = 1..order, with B(h) = expm1(hh) (bh2)."""
        rk = torch.tensor(rks, device="cpu")
        phi_1 = torch.expm1(hh)
        phi_k = phi_1 / hh - 1
        b_h = torch.expm1(hh)
        fact = 1
        rows, rhs = [], []
        for k in range(1, order + 1):
            rows.append(torch.pow(rk, k - 1))
            rhs.append(phi_k * fact / b_h)
            fact *= k + 1
            phi_k = phi_k / hh - 1 / fact
        return torch.stack(rows), torch.tensor(rhs), phi_1, b_h

    def _predict(self, x: torch.Tensor, order: int) -> torch.Tensor:
        i = self.index
        m0 = self.x0_history[-1]
        alpha_t, sigma_t, lam_t = self._lambda(i + 1)
        _, sigma_s, lam_s = self._lambda(i)
        h = lam_t - lam_s
        rks, diffs = [], []
        for k in range(1, order):
            rk = (self._lambda(i - k)[2] - lam_s) / h
            rks.append(rk)
            diffs.append((self.x0_history[-(k + 1)] - m0) / rk)
        rks.append(1.0)
        hh = -h
        big_r, b, phi_1, b_h = self._coefficients(rks, hh, order)
        out = sigma_t / sigma_s * x - alpha_t * phi_1 * m0
        if diffs:
            rho = torch.tensor([0.5], dtype=x.dtype) if order == 2 else torch.linalg.solve(big_r[:-1, :-1], b[:-1])
            out = out - alpha_t * b_h * torch.einsum("k,bkc...->bc...", rho.to(x.dtype), torch.stack(diffs, dim=1))
        return out.to(x.dtype)

    def _correct(self, x0_now: torch.Tensor, last: torch.Tensor, this: torch.Tensor, order: int) -> torch.Tensor:
        i = self.index
        m0 = self.x0_history[-1]
        alpha_t, sigma_t, lam_t = self._lambda(i)
        _, sigma_s, lam_s = self._lambda(i - 1)
        h = lam_t - lam_s
        rks, diffs = [], []
        for k in range(1, order):
            rk = (self._lambda(i - (k + 1))[2] - lam_s) / h
            rks.append(rk)
            diffs.append((self.x0_history[-(k + 1)] - m0) / rk)
        rks.append(1.0)
        hh = -h
        big_r, b, phi_1, b_h = self._coefficients(rks, hh, order)
        rho = torch.tensor([0.5], dtype=last.dtype) if order == 1 else torch.linalg.solve(big_r, b).to(last.dtype)
        out = sigma_t / sigma_s * last - alpha_t * phi_1 * m0
        corr = torch.einsum("k,bkc...->bc...", rho[:-1], torch.stack(diffs, dim=1)) if diffs else 0
        out = out - alpha_t * b_h * (corr + rho[-1] * (x0_now - m0))
        return out.to(last.dtype)

    def step(self, velocity: torch.Tensor, t: torch.Tensor | int, sample: torch.Tensor) -> torch.Tensor:
        if self.index is None:
            hits = (self.timesteps == t).nonzero()
            self.index = int(hits[1 if len(hits) > 1 else 0].item())
        x0 = sample - self.sigmas[self.index] * velocity  # flow prediction -> x0
        if self.index > 0 and self.prev_sample is not None:
            sample = self._correct(x0, self.prev_sample, sample, self.cur_order)
        self.x0_history = [*self.x0_history[1:], x0]
        order = min(self.order, len(self.timesteps) - self.index)  # lower_order_final
        self.cur_order = min(order, self.warm + 1)
        self.prev_sample = sample
        nxt = self._predict(sample, self.cur_order)
        self.warm = min(self.warm + 1, self.order)
        self.index += 1
        return nxt


def check_scheduler_against_diffusers(steps: int = DISTILLED_STEPS, seed: int = 0) -> float:
    """Self-check of ``FlowUniPC`` against diffusers' ``UniPCMultistepScheduler`` fed the SAME unshifted sigma grid
    (diffusers' own default flow grid starts at 1.0, not 0.999, and would give 625 instead of 624).  Returns the max
    abs difference over a random trajectory (tiny tensors)."""
    from diffusers import UniPCMultistepScheduler

    ref = UniPCMultistepScheduler(num_train_timesteps=NUM_TRAIN_TIMESTEPS, prediction_type="flow_prediction",
                                  use_flow_sigmas=True, flow_shift=SAMPLE_SHIFT, solver_order=2)
    train_sigma_max = float(torch.tensor(1 - 1 / NUM_TRAIN_TIMESTEPS, dtype=torch.float32).item())
    ref.set_timesteps(sigmas=np.linspace(train_sigma_max, 0.0, steps + 1)[:-1].copy())
    mine = FlowUniPC(steps)
    if not torch.equal(ref.timesteps, mine.timesteps):
        raise AssertionError(f"timesteps differ: {ref.timesteps.tolist()} vs {mine.timesteps.tolist()}")
    g = torch.Generator().manual_seed(seed)
    x_a = torch.randn(1, 4, 2, 3, 3, generator=g)
    x_b = x_a.clone()
    worst = 0.0
    for t in mine.timesteps:
        v = torch.randn(x_a.shape, generator=g)
        x_a = mine.step(v, t, x_a)
        x_b = ref.step(v, t, x_b, return_dict=False)[0]
        worst = max(worst, float((x_a - x_b).abs().max()))
    return worst


# ==============================================================================================================
# (4b) The release's other sampler, ``--sample_solver dpm++`` -- F25, F26, F27, F28
# ==============================================================================================================
def release_dpm_schedule(steps: int, shift: float = SAMPLE_SHIFT, num_train: int = NUM_TRAIN_TIMESTEPS):
    """(timesteps int64 [steps], sigmas float32 [steps + 1]) exactly as the release derives them for dpm++ (F25,
    F26).  Unlike F17 the grid starts at sigma = 1 exactly (timestep 1000), not at float32(0.999)."""
    s = np.linspace(1, 0, steps + 1)[:steps]  # get_sampling_sigmas, float64
    s = shift * s / (1 + (shift - 1) * s)
    # set_timesteps(sigmas=s) re-shifts with the scheduler's own shift = 1: 1 * s / (1 + 0 * s) == s bit for bit.
    timesteps = torch.from_numpy(s * num_train).to(torch.int64)  # float64 product, truncated
    sigmas = torch.from_numpy(np.concatenate([s, [0.0]]).astype(np.float32))  # final_sigmas_type 'zero'
    return timesteps, sigmas


def check_release_dpm_timesteps() -> list[int]:
    """Confirm the distilled 4-step dpm++ schedule is 1000, 937, 833, 625 (F26)."""
    ts = release_dpm_schedule(DISTILLED_STEPS)[0].tolist()
    if tuple(ts) != DPM_DISTILLED_TIMESTEPS:
        raise AssertionError(f"unexpected dpm++ schedule {ts}")
    return ts


class FlowDPMpp:
    """Multistep DPM-Solver++ (data prediction, midpoint second-order update) on flow sigmas as the release configures
    it (F27, F28): order 2, first order on the first step (no history) and on the final step (sigma_next = 0, where
    the update returns x0), x0 = x - sigma * v.  Coefficients are float32 0-d tensors like the release, including the
    infinite log-SNR at sigma = 1, which makes the second step's correction term exactly zero (F28).  ``step`` returns
    the next latent."""

    def __init__(self, steps: int, shift: float = SAMPLE_SHIFT, order: int = 2):
        if order not in (1, 2):
            raise ValueError("the release configures order 2; only orders 1 and 2 are ported")
        self.timesteps, self.sigmas = release_dpm_schedule(steps, shift)
        self.order = order
        self.x0_prev: torch.Tensor | None = None  # data prediction of the previous step
        self.index: int | None = None

    def _log_snr(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        sigma = self.sigmas[i]
        alpha = 1 - sigma
        return alpha, sigma, torch.log(alpha) - torch.log(sigma)

    def step(self, velocity: torch.Tensor, t: torch.Tensor | int, sample: torch.Tensor) -> torch.Tensor:
        if self.index is None:
            hits = (self.timesteps == t).nonzero()
            self.index = int(hits[1 if len(hits) > 1 else 0].item())
        i = self.index
        x0 = sample - self.sigmas[i] * velocity  # flow prediction -> data prediction, in the incoming dtype
        alpha_n, sigma_n, lam_n = self._log_snr(i + 1)
        _, sigma_c, lam_c = self._log_snr(i)
        h = lam_n - lam_c
        decay = alpha_n * (torch.exp(-h) - 1.0)  # alpha_next * (e^-h - 1), kept in this form for bitwise parity
        out = (sigma_n / sigma_c) * sample.to(torch.float32) - decay * x0
        final = i == len(self.timesteps) - 1  # final_sigmas_type 'zero' -> first order on the last step
        if self.order == 2 and self.x0_prev is not None and not final:
            r = (lam_c - self._log_snr(i - 1)[2]) / h  # previous step length over this one (inf after sigma = 1)
            out = out - (0.5 * decay) * ((1.0 / r) * (x0 - self.x0_prev))  # midpoint: D1 = (x0 - x0_prev) / r
        self.x0_prev = x0
        self.index += 1
        return out.to(velocity.dtype)


def make_sampler(solver: str, steps: int, shift: float = SAMPLE_SHIFT):
    """The release's ``sample_solver`` switch (F16 / F25): 'unipc' (default) or 'dpm++'."""
    if solver == "unipc":
        return FlowUniPC(steps, shift)
    if solver == "dpm++":
        return FlowDPMpp(steps, shift)
    raise NotImplementedError(f"Unsupported solver {solver!r}")  # the release raises the same for anything else


def diffusers_dpm_for_release(steps: int, shift: float = SAMPLE_SHIFT):
    """diffusers' ``DPMSolverMultistepScheduler`` set up to reproduce F25-F28.  diffusers 0.42.1's ``set_timesteps``
    has no ``sigmas=`` argument and its ``use_flow_sigmas`` grid starts at 0.999 (timesteps 999, 937, 833, 624 for 4
    steps at shift 5), and ``timesteps=`` fails with ``use_flow_sigmas``; so the release grid is written into
    ``sigmas`` / ``timesteps`` after ``set_timesteps(steps)``.  The config keys are only the ones the step reads."""
    from diffusers import DPMSolverMultistepScheduler

    ref = DPMSolverMultistepScheduler(num_train_timesteps=NUM_TRAIN_TIMESTEPS, prediction_type="flow_prediction",
                                      use_flow_sigmas=True, flow_shift=shift, algorithm_type="dpmsolver++",
                                      solver_order=2, solver_type="midpoint", lower_order_final=True,
                                      euler_at_final=False, final_sigmas_type="zero", thresholding=False)
    ref.set_timesteps(steps)
    ref.timesteps, ref.sigmas = release_dpm_schedule(steps, shift)
    return ref


def check_dpm_against_diffusers(steps: int = DISTILLED_STEPS, shift: float = SAMPLE_SHIFT, seed: int = 0) -> float:
    """Self-check of ``FlowDPMpp`` against diffusers' ``DPMSolverMultistepScheduler`` on the release dpm++ grid
    (``diffusers_dpm_for_release``).  Returns the max abs difference over a random trajectory (tiny tensors)."""
    ref = diffusers_dpm_for_release(steps, shift)
    mine = FlowDPMpp(steps, shift)
    g = torch.Generator().manual_seed(seed)
    x_a = torch.randn(1, 4, 2, 3, 3, generator=g)
    x_b = x_a.clone()
    worst = 0.0
    for t in mine.timesteps:
        v = torch.randn(x_a.shape, generator=g)
        x_a = mine.step(v, t, x_a)
        x_b = ref.step(v, t, x_b, return_dict=False)[0]
        worst = max(worst, float((x_a - x_b).abs().max()))
    return worst


# ==============================================================================================================
# Noise and (5) the v2 Gaussian-mask shift -- F15, F20, F21
# ==============================================================================================================
def latent_shape(frame_num: int, height: int, width: int) -> tuple[int, int, int, int]:
    """(16, (F - 1) // 4 + 1, H // 8, W // 8) -- F15."""
    return (Z_DIM, (frame_num - 1) // VAE_STRIDE[0] + 1, height // VAE_STRIDE[1], width // VAE_STRIDE[2])


def initial_noise(seed: int, frame_num: int, height: int, width: int, device: str | torch.device = "cpu"):
    """One float32 ``randn(16, T', H/8, W/8)`` from a fresh generator on ``device`` seeded with ``seed`` (F15).
    The release uses its CUDA device; CPU numbers differ (U4)."""
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return torch.randn(*latent_shape(frame_num, height, width), dtype=torch.float32, device=device, generator=gen)


def load_gauss_mask(path: str, device: str | torch.device = "cpu") -> torch.Tensor:
    """Release mask loading (F20): torch.load(weights_only=False), re-wrapped as a tensor, moved to bfloat16."""
    raw = torch.load(path, weights_only=False, map_location="cpu")
    mask = raw.clone().detach() if isinstance(raw, torch.Tensor) else torch.tensor(np.asarray(raw))
    return mask.to(device, dtype=torch.bfloat16)


def shift_noise_with_mask(noise: torch.Tensor, mask: torch.Tensor, alpha_shift_mean: float) -> torch.Tensor:
    """v2 mean shift (F21): bilinear (align_corners=False) resize of the (T', h, w) mask to the latent grid, kept in
    the mask's dtype (bf16 in the release), then ``noise + (1 - mask) * bf16(alpha_shift_mean)``; the product stays
    bf16, the sum is float32."""
    shift = torch.tensor(alpha_shift_mean, dtype=torch.bfloat16)
    resized = F.interpolate(mask.unsqueeze(1), size=(noise.shape[2], noise.shape[3]), mode="bilinear",
                            align_corners=False).squeeze(1)
    return noise + (1 - resized) * shift.to(resized.device)


# ==============================================================================================================
# Sampling loop -- F16, F19
# ==============================================================================================================
def pad_context(context: torch.Tensor, text_len: int = TEXT_LEN) -> torch.Tensor:
    """Zero-pad per-token text features (L, text_dim) to ``text_len`` rows, as the release DiT does (F19)."""
    if context.shape[0] > text_len:
        raise ValueError("context longer than text_len")
    return torch.cat([context, context.new_zeros(text_len - context.shape[0], context.shape[1])])


@torch.no_grad()
def denoise(dit, noise: torch.Tensor, context: torch.Tensor, context_null: torch.Tensor | None = None,
            steps: int = DISTILLED_STEPS, shift: float = SAMPLE_SHIFT, guide_scale: float = 1.0,
            text_len: int = TEXT_LEN, solver: str = "unipc") -> torch.Tensor:
    """Release sampling loop (F16): UniPC over ``release_schedule(steps, shift)`` (``solver='unipc'``, the default) or
    DPM-Solver++ over ``release_dpm_schedule(steps, shift)`` (``solver='dpm++'``, F25-F28); one conditional DiT call
    per step when ``guide_scale == 1`` (the distilled setting), classic CFG otherwise.  ``context`` / ``context_null``
    are un-padded text-encoder outputs (L, text_dim).  Returns the final latent (16, T', H', W')."""
    dtype = next(dit.parameters()).dtype
    cond = pad_context(context, text_len)[None].to(dtype)
    uncond = None
    if guide_scale != 1.0:
        if context_null is None:
            raise ValueError("guide_scale != 1 needs context_null")
        uncond = pad_context(context_null, text_len)[None].to(dtype)
    sched = make_sampler(solver, steps, shift)
    latent = noise
    for t in sched.timesteps:
        t_in = torch.stack([t])
        x_in = latent[None].to(dtype)
        pred = dit(x_in, t_in, cond, return_dict=False)[0][0].float()
        if uncond is not None:
            pred_u = dit(x_in, t_in, uncond, return_dict=False)[0][0].float()
            pred = pred_u + guide_scale * (pred - pred_u)
        latent = sched.step(pred[None], t, latent[None])[0]
    return latent


# ==============================================================================================================
# (6) Decoding and output -- F13, F24
# ==============================================================================================================
@torch.no_grad()
def decode_latent(vae, latent: torch.Tensor) -> torch.Tensor:
    """Release ``WanVAE.decode`` for one latent (F13): un-normalise with ``z / (1/std) + mean``, decode, clamp."""
    mean = torch.tensor(VAE_LATENT_MEAN, dtype=torch.float32).view(1, Z_DIM, 1, 1, 1)
    inv_std = 1.0 / torch.tensor(VAE_LATENT_STD, dtype=torch.float32).view(1, Z_DIM, 1, 1, 1)
    z = latent[None].float() / inv_std + mean
    return vae.decode(z, return_dict=False)[0].float().clamp_(-1, 1)[0]


@dataclass
class RGBAFloat:
    fgr: np.ndarray  # (3, T, H, W) colour decoder output in [-1, 1]
    pha3: np.ndarray  # (3, T, H, W) alpha decoder output in [-1, 1]
    rgb: np.ndarray  # (T, H, W, 3) in [0, 1]: (fgr + 1) / 2
    alpha: np.ndarray  # (T, H, W) in [0, 1]: mean over the 3 alpha-decoder channels of (pha + 1) / 2


def decode_rgba(vae_fgr, vae_pha, latent: torch.Tensor) -> RGBAFloat:
    """Decode the final latent with both decoders; colour straight from the colour decoder, alpha = channel mean of
    the alpha decoder -- float arrays before any uint8 truncation."""
    fgr = decode_latent(vae_fgr, latent)
    pha = decode_latent(vae_pha, latent)
    rgb01 = ((fgr + 1) / 2).permute(1, 2, 3, 0)
    a01 = ((pha + 1) / 2).mean(dim=0)
    return RGBAFloat(fgr.numpy(), pha.numpy(), rgb01.numpy(), a01.numpy())


def release_uint8_frames(fgr: np.ndarray | torch.Tensor, pha3: np.ndarray | torch.Tensor) -> np.ndarray:
    """The release's PNG path (F24) for (3, T, H, W) decoder outputs in [-1, 1]: clamp, (x + 1) / 2, * 255, truncate
    to uint8 per channel; alpha = float64 mean of the three truncated alpha channels, truncated again.  Returns RGBA
    uint8 (T, H, W, 4) in RGB order, i.e. what ends up in the PNG files (the release holds BGRA for cv2)."""

    def to_u8(x) -> np.ndarray:
        x = torch.as_tensor(x).float().clamp(-1, 1)
        x = (x - (-1)) / 2  # make_grid(normalize=True, value_range=(-1, 1))
        return (x.permute(1, 2, 3, 0) * 255).to(torch.uint8).numpy()  # (T, H, W, 3)

    rgb = to_u8(fgr)
    a3 = to_u8(pha3)
    alpha = ((0.0 + a3[..., 0:1] + a3[..., 1:2] + a3[..., 2:3]) / 3.0).astype(np.uint8)
    return np.concatenate([rgb, alpha], axis=-1)


# ==============================================================================================================
# End-to-end release generation (v1 without mask, v2 with mask)
# ==============================================================================================================
def generate(ckpt_dir: str, vae_pth: str, decoder_file: str, context: torch.Tensor, *, seed: int,
             frame_num: int = 81, width: int = 832, height: int = 480, dora_path: str | None = None,
             dora_ratio: float = 1.0, lightx2v_path: str | None = None, steps: int = DISTILLED_STEPS,
             shift: float = SAMPLE_SHIFT, guide_scale: float = 1.0, context_null: torch.Tensor | None = None,
             mask_path: str | None = None, alpha_shift_mean: float = ALPHA_SHIFT_MEAN_RELEASED,
             noise_device: str = "cpu", dit_dtype: torch.dtype = torch.float32, models: tuple | None = None,
             solver: str = "unipc") -> dict:
    """Reference of ``WanT2V_dora_lightx2v.generate`` (v1, ``mask_path=None``) / ``generate_mask`` (v2).

    ``context`` is the (L, text_dim) text-encoder output for the prompt (T5 is not part of this port).  ``models`` may
    carry a prebuilt (dit, vae_fgr, vae_pha) to avoid reloading.  ``solver`` is ``--sample_solver`` ('unipc' or
    'dpm++').  Returns a dict with the initial noise, the final latent, the float decode (``RGBAFloat``) and the
    release's uint8 RGBA frames."""
    if models is None:
        _, dit = build_dit(ckpt_dir, dora_path, dora_ratio, lightx2v_path, dit_dtype)
        vae_fgr, vae_pha = build_vae_decoders(vae_pth, decoder_file)
    else:
        dit, vae_fgr, vae_pha = models
    noise = initial_noise(seed, frame_num, height, width, noise_device)
    if mask_path is not None:
        noise = shift_noise_with_mask(noise, load_gauss_mask(mask_path, noise.device), alpha_shift_mean)
    noise = noise.cpu()
    latent = denoise(dit, noise, context, context_null, steps, shift, guide_scale, solver=solver)
    decoded = decode_rgba(vae_fgr, vae_pha, latent)
    return {
        "noise": noise,
        "latent": latent,
        "float": decoded,
        "uint8_rgba": release_uint8_frames(decoded.fgr, decoded.pha3),
    }


# ==============================================================================================================
# Tiny files in the ORIGINAL layouts (no vfxgen loaders involved)
# ==============================================================================================================
@dataclass
class TinyDiT:
    dim: int = 24
    num_heads: int = 2
    ffn_dim: int = 48
    num_layers: int = 2
    text_dim: int = 32
    freq_dim: int = 32
    in_dim: int = Z_DIM
    out_dim: int = Z_DIM

    def config(self) -> dict:
        """An original-style Wan ``config.json`` (release ``WanModel`` argument names)."""
        return {
            "_class_name": "WanModel",
            "model_type": "t2v",
            "patch_size": list(PATCH_SIZE),
            "text_len": TEXT_LEN,
            "in_dim": self.in_dim,
            "dim": self.dim,
            "ffn_dim": self.ffn_dim,
            "freq_dim": self.freq_dim,
            "text_dim": self.text_dim,
            "out_dim": self.out_dim,
            "num_heads": self.num_heads,
            "num_layers": self.num_layers,
            "window_size": [-1, -1],
            "qk_norm": True,
            "cross_attn_norm": True,
            "eps": 1e-6,
        }


DIT_LINEAR_TARGETS = tuple(f"{a}.{p}" for a in ("self_attn", "cross_attn") for p in "qkvo") + ("ffn.0", "ffn.2")


def original_dit_shapes(cfg: TinyDiT) -> dict[str, tuple[int, ...]]:
    """Parameter names and shapes of the original Wan T2V DiT (release ``WanModel_dora_lightx2v``), in the order the
    module registers them."""
    d, f, p = cfg.dim, cfg.ffn_dim, PATCH_SIZE
    shapes: dict[str, tuple[int, ...]] = {
        "patch_embedding.weight": (d, cfg.in_dim, *p),
        "patch_embedding.bias": (d,),
        "text_embedding.0.weight": (d, cfg.text_dim),
        "text_embedding.0.bias": (d,),
        "text_embedding.2.weight": (d, d),
        "text_embedding.2.bias": (d,),
        "time_embedding.0.weight": (d, cfg.freq_dim),
        "time_embedding.0.bias": (d,),
        "time_embedding.2.weight": (d, d),
        "time_embedding.2.bias": (d,),
        "time_projection.1.weight": (6 * d, d),
        "time_projection.1.bias": (6 * d,),
    }
    for n in range(cfg.num_layers):
        blk = f"blocks.{n}"
        for attn in ("self_attn", "cross_attn"):
            for proj in "qkvo":
                shapes[f"{blk}.{attn}.{proj}.weight"] = (d, d)
                shapes[f"{blk}.{attn}.{proj}.bias"] = (d,)
            shapes[f"{blk}.{attn}.norm_q.weight"] = (d,)
            shapes[f"{blk}.{attn}.norm_k.weight"] = (d,)
            if attn == "self_attn":
                shapes[f"{blk}.norm3.weight"] = (d,)
                shapes[f"{blk}.norm3.bias"] = (d,)
        shapes[f"{blk}.ffn.0.weight"] = (f, d)
        shapes[f"{blk}.ffn.0.bias"] = (f,)
        shapes[f"{blk}.ffn.2.weight"] = (d, f)
        shapes[f"{blk}.ffn.2.bias"] = (d,)
        shapes[f"{blk}.modulation"] = (1, 6, d)
    shapes["head.head.weight"] = (cfg.out_dim * math.prod(PATCH_SIZE), d)
    shapes["head.head.bias"] = (cfg.out_dim * math.prod(PATCH_SIZE),)
    shapes["head.modulation"] = (1, 2, d)
    return shapes


def _rand_param(name: str, shape: tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
    """Random values of a sensible scale for a parameter of the given name/shape."""
    if name.endswith(("norm_q.weight", "norm_k.weight", ".gamma")) or (name.endswith("weight") and len(shape) == 1):
        return 1.0 + 0.1 * torch.randn(shape, generator=gen)
    if name.endswith("bias") or len(shape) == 1:
        return 0.02 * torch.randn(shape, generator=gen)
    if name.endswith("modulation"):
        return torch.randn(shape, generator=gen) / shape[-1] ** 0.5
    fan_in = math.prod(shape[1:])
    return torch.randn(shape, generator=gen) / fan_in**0.5


def write_tiny_wan_dit(ckpt_dir: str, cfg: TinyDiT | None = None, seed: int = 0) -> dict[str, torch.Tensor]:
    """Write ``config.json`` + ``diffusion_pytorch_model.safetensors`` (float32) with ORIGINAL Wan key names."""
    cfg = cfg or TinyDiT()
    os.makedirs(ckpt_dir, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    state = {k: _rand_param(k, s, gen).contiguous() for k, s in original_dit_shapes(cfg).items()}
    with open(os.path.join(ckpt_dir, DIT_CONFIG_NAME), "w") as fh:
        json.dump(cfg.config(), fh, indent=1)
    save_file(state, os.path.join(ckpt_dir, DIT_WEIGHTS_NAME))
    return state


def original_vae_shapes(base_dim: int = 96, z_dim: int = Z_DIM) -> dict[str, tuple[int, ...]]:
    """Parameter names/shapes of the release's ``WanVAE_`` (dim_mult [1, 2, 4, 4], 2 res blocks, no attention
    scales, temperal_downsample [False, True, True]) -- the layout of Wan2.1_VAE.pth."""
    shapes: dict[str, tuple[int, ...]] = {}

    def conv3(key: str, cin: int, cout: int, k: tuple[int, int, int]):
        shapes[f"{key}.weight"] = (cout, cin, *k)
        shapes[f"{key}.bias"] = (cout,)

    def resblock(key: str, cin: int, cout: int):
        shapes[f"{key}.residual.0.gamma"] = (cin, 1, 1, 1)
        conv3(f"{key}.residual.2", cin, cout, (3, 3, 3))
        shapes[f"{key}.residual.3.gamma"] = (cout, 1, 1, 1)
        conv3(f"{key}.residual.6", cout, cout, (3, 3, 3))
        if cin != cout:
            conv3(f"{key}.shortcut", cin, cout, (1, 1, 1))

    def attention(key: str, c: int):
        shapes[f"{key}.norm.gamma"] = (c, 1, 1)
        shapes[f"{key}.to_qkv.weight"] = (3 * c, c, 1, 1)
        shapes[f"{key}.to_qkv.bias"] = (3 * c,)
        shapes[f"{key}.proj.weight"] = (c, c, 1, 1)
        shapes[f"{key}.proj.bias"] = (c,)

    mult = [1, 2, 4, 4]
    # encoder
    dims = [base_dim * u for u in [1, *mult]]
    conv3("encoder.conv1", 3, dims[0], (3, 3, 3))
    idx = 0
    temporal_down = [False, True, True]
    for i, (cin, cout) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        for _ in range(2):
            resblock(f"encoder.downsamples.{idx}", cin, cout)
            cin = cout
            idx += 1
        if i != len(mult) - 1:
            key = f"encoder.downsamples.{idx}"
            shapes[f"{key}.resample.1.weight"] = (cout, cout, 3, 3)
            shapes[f"{key}.resample.1.bias"] = (cout,)
            if temporal_down[i]:
                conv3(f"{key}.time_conv", cout, cout, (3, 1, 1))
            idx += 1
    top = dims[-1]
    resblock("encoder.middle.0", top, top)
    attention("encoder.middle.1", top)
    resblock("encoder.middle.2", top, top)
    shapes["encoder.head.0.gamma"] = (top, 1, 1, 1)
    conv3("encoder.head.2", top, 2 * z_dim, (3, 3, 3))
    conv3("conv1", 2 * z_dim, 2 * z_dim, (1, 1, 1))
    conv3("conv2", z_dim, z_dim, (1, 1, 1))
    # decoder
    dims = [base_dim * u for u in [mult[-1], *mult[::-1]]]
    conv3("decoder.conv1", z_dim, dims[0], (3, 3, 3))
    resblock("decoder.middle.0", dims[0], dims[0])
    attention("decoder.middle.1", dims[0])
    resblock("decoder.middle.2", dims[0], dims[0])
    idx = 0
    temporal_up = temporal_down[::-1]
    for i, (cin, cout) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        if i in (1, 2, 3):
            cin //= 2
        for _ in range(3):
            resblock(f"decoder.upsamples.{idx}", cin, cout)
            cin = cout
            idx += 1
        if i != len(mult) - 1:
            key = f"decoder.upsamples.{idx}"
            shapes[f"{key}.resample.1.weight"] = (cout // 2, cout, 3, 3)
            shapes[f"{key}.resample.1.bias"] = (cout // 2,)
            if temporal_up[i]:
                conv3(f"{key}.time_conv", cout, 2 * cout, (3, 1, 1))
            idx += 1
    shapes["decoder.head.0.gamma"] = (dims[-1], 1, 1, 1)
    conv3("decoder.head.2", dims[-1], 3, (3, 3, 3))
    return shapes


def write_tiny_wan_vae(path: str, base_dim: int = 8, seed: int = 1) -> dict[str, torch.Tensor]:
    """Write a tiny Wan2.1-style VAE ``.pth`` (plain float32 state dict, original key names)."""
    gen = torch.Generator().manual_seed(seed)
    state = {k: _rand_param(k, s, gen).contiguous() for k, s in original_vae_shapes(base_dim).items()}
    torch.save(state, path)
    return state


def write_tiny_dora(path: str, dit_state: dict[str, torch.Tensor], rank: int = 4, seed: int = 2,
                    dtype: torch.dtype = torch.bfloat16, prefix: str = "", adapter: str | None = "default",
                    num_layers: int | None = None) -> dict[str, torch.Tensor]:
    """Write a DoRA .safetensors with ORIGINAL Wan module names, in the DiffSynth/PEFT export layout of the training
    code (F6): ``<prefix>blocks.N.<module>.lora_A.<adapter>.weight`` (r, in), ``lora_B`` (out, r) and
    ``lora_magnitude_vector.<adapter>.weight`` (out,) for q/k/v/o of both attentions and ffn.0/ffn.2.  Magnitudes are
    near the base row norms so the merge is a realistic perturbation."""
    gen = torch.Generator().manual_seed(seed)
    layers = num_layers if num_layers is not None else 1 + max(int(k.split(".")[1]) for k in dit_state
                                                                if k.startswith("blocks."))
    mid = f".{adapter}" if adapter else ""
    out: dict[str, torch.Tensor] = {}
    for n in range(layers):
        for mod in DIT_LINEAR_TARGETS:
            w = dit_state[f"blocks.{n}.{mod}.weight"]
            stem = f"{prefix}blocks.{n}.{mod}"
            out[f"{stem}.lora_A{mid}.weight"] = (torch.randn(rank, w.shape[1], generator=gen) / w.shape[1] ** 0.5)
            out[f"{stem}.lora_B{mid}.weight"] = 0.05 * torch.randn(w.shape[0], rank, generator=gen)
            norm = torch.linalg.norm(w, dim=1)
            jitter = 1 + 0.05 * torch.randn(norm.shape, generator=gen)
            out[f"{stem}.lora_magnitude_vector{mid}.weight"] = norm * jitter
    out = {k: v.to(dtype).contiguous() for k, v in out.items()}
    save_file(out, path)
    return out


def write_tiny_lightx2v(path: str, dit_state: dict[str, torch.Tensor], rank: int = 4, seed: int = 3,
                        dtype: torch.dtype = torch.bfloat16, prefix: str = "diffusion_model.",
                        with_alpha: bool = True) -> dict[str, torch.Tensor]:
    """Write a LightX2V-style distill LoRA (Kijai naming): ``lora_down``/``lora_up`` pairs for the DiT linears plus
    ``diff_b`` (bias deltas), ``diff`` (norm3 / norm_q / norm_k weight deltas), ``blocks.N.diff_m`` (modulation delta,
    shape (1, 6, dim)), ``head.head.diff_b`` and, if ``with_alpha``, ``.alpha`` scalars (= rank) that the release
    ignores (F8).  Real-file key set is unconfirmed (U1)."""
    gen = torch.Generator().manual_seed(seed)
    layers = 1 + max(int(k.split(".")[1]) for k in dit_state if k.startswith("blocks."))
    out: dict[str, torch.Tensor] = {}
    for n in range(layers):
        blk = f"{prefix}blocks.{n}"
        for mod in DIT_LINEAR_TARGETS:
            w = dit_state[f"blocks.{n}.{mod}.weight"]
            out[f"{blk}.{mod}.lora_down.weight"] = torch.randn(rank, w.shape[1], generator=gen) / w.shape[1] ** 0.5
            out[f"{blk}.{mod}.lora_up.weight"] = 0.05 * torch.randn(w.shape[0], rank, generator=gen)
            out[f"{blk}.{mod}.diff_b"] = 0.01 * torch.randn(w.shape[0], generator=gen)
            if with_alpha:
                out[f"{blk}.{mod}.alpha"] = torch.tensor(float(rank))
        for norm in ("norm3", "self_attn.norm_q", "self_attn.norm_k", "cross_attn.norm_q", "cross_attn.norm_k"):
            d = dit_state[f"blocks.{n}.{norm}.weight"].shape
            out[f"{blk}.{norm}.diff"] = 0.01 * torch.randn(d, generator=gen)
        out[f"{blk}.norm3.diff_b"] = 0.01 * torch.randn(dit_state[f"blocks.{n}.norm3.bias"].shape, generator=gen)
        out[f"{blk}.diff_m"] = 0.01 * torch.randn(dit_state[f"blocks.{n}.modulation"].shape, generator=gen)
    out[f"{prefix}head.head.diff_b"] = 0.01 * torch.randn(dit_state["head.head.bias"].shape, generator=gen)
    out = {k: v.to(dtype).contiguous() for k, v in out.items()}
    save_file(out, path)
    return out


def vae_decoder_lora_targets(vae_state: dict[str, torch.Tensor]) -> list[tuple[str, bool]]:
    """(module path, is CausalConv3d) for every conv of the decoder -- the training code's LoRA targets (F12)."""
    targets = []
    for key, w in vae_state.items():
        if key.startswith("decoder.") and key.endswith(".weight") and w.dim() in (4, 5):
            targets.append((key[: -len(".weight")], w.dim() == 5))
    return targets


def write_tiny_vae_decoder_lora(path: str, vae_state: dict[str, torch.Tensor], rank: int = 4, seed: int = 4,
                                dtype: torch.dtype = torch.bfloat16, adapter: str | None = "default",
                                include_base_layer: bool = True) -> dict[str, torch.Tensor]:
    """Write a Wan-Alpha decoder checkpoint (``torch.save`` dict) holding PEFT conv-LoRA tensors for both decoders:
    ``vae_fgr.decoder.<path>[.conv3D].lora_A.<adapter>.weight`` (r, in, *kernel) and ``lora_B`` (out, r, 1...) --
    ".conv3D" for causal 3-D convs as the training wrapper names them (F12).  With ``include_base_layer`` the frozen
    ``...conv3D.base_layer.weight`` copies a training export would also carry are written; the release ignores them."""
    gen = torch.Generator().manual_seed(seed)
    mid = f".{adapter}" if adapter else ""
    out: dict[str, torch.Tensor] = {}
    for which in ("vae_fgr", "vae_pha"):
        for module, is_3d in vae_decoder_lora_targets(vae_state):
            w = vae_state[f"{module}.weight"]
            stem = f"{which}.{module}.conv3D" if is_3d else f"{which}.{module}"
            fan_in = math.prod(w.shape[1:])
            out[f"{stem}.lora_A{mid}.weight"] = torch.randn((rank, *w.shape[1:]), generator=gen) / fan_in**0.5
            out[f"{stem}.lora_B{mid}.weight"] = 0.5 * torch.randn(
                (w.shape[0], rank, *([1] * (w.dim() - 2))), generator=gen)
            if include_base_layer:
                out[f"{stem}.base_layer.weight"] = w.clone()
    out = {k: v.to(dtype).contiguous() for k, v in out.items()}
    torch.save(out, path)
    return out


def write_tiny_gauss_mask(path: str, latent_frames: int, h: int, w: int, drift: float = 0.15) -> torch.Tensor:
    """Write a release-style mask file (F22): ``torch.save`` of a float32 (T', h, w) tensor of min-max normalised
    Gaussian ellipses, 1 at the subject; the centre drifts right over time.  Use h, w different from the latent grid
    to exercise the bilinear resize."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    frames = []
    for t in range(latent_frames):
        cx, cy = (0.35 + drift * t) * (w - 1), 0.5 * (h - 1)
        g = np.exp(-0.5 * (((xx - cx) / (0.25 * w)) ** 2 + ((yy - cy) / (0.3 * h)) ** 2))
        frames.append(((g - g.min()) / (g.max() - g.min())).astype(np.float32))
    mask = torch.tensor(np.stack(frames))
    torch.save(mask, path)
    return mask


def write_tiny_release_files(root: str, width: int = 32, height: int = 32, frame_num: int = 5) -> dict[str, str]:
    """Create the complete tiny set under ``root`` (base DiT dir with Wan2.1_VAE.pth inside, DoRA, LightX2V, decoder
    file, mask) and return their paths."""
    ckpt = os.path.join(root, "Wan2.1-T2V-tiny")
    dit_state = write_tiny_wan_dit(ckpt)
    vae_path = os.path.join(ckpt, "Wan2.1_VAE.pth")
    vae_state = write_tiny_wan_vae(vae_path)
    paths = {
        "ckpt_dir": ckpt,
        "vae_pth": vae_path,
        "dora": os.path.join(root, "t2v_dora.safetensors"),
        "lightx2v": os.path.join(root, "lightx2v_tiny_bf16.safetensors"),
        "decoder": os.path.join(root, "decoder.bin"),
        "mask": os.path.join(root, "gauss_mask"),
    }
    write_tiny_dora(paths["dora"], dit_state)
    write_tiny_lightx2v(paths["lightx2v"], dit_state)
    write_tiny_vae_decoder_lora(paths["decoder"], vae_state)
    _, lat_t, lat_h, lat_w = latent_shape(frame_num, height, width)
    write_tiny_gauss_mask(paths["mask"], lat_t, lat_h + 2, lat_w + 3)
    return paths


def array_digest(*arrays: np.ndarray | torch.Tensor) -> str:
    """sha256 (first 16 hex digits) over the raw bytes of the given arrays."""
    h = hashlib.sha256()
    for a in arrays:
        a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def _describe(label: str, a: Sequence | np.ndarray | torch.Tensor) -> str:
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    return (f"{label:<11} shape={tuple(a.shape)!s:<18} dtype={a.dtype!s:<8} min={float(a.min()):+.5f} "
            f"max={float(a.max()):+.5f} mean={float(a.mean(dtype=np.float64)):+.6f} sha={array_digest(a)}")


def _self_checks(paths: dict[str, str]) -> None:
    """Cheap consistency checks of the merge helpers on the tiny files."""
    _, base = load_original_dit(paths["ckpt_dir"])
    dora = read_safetensors(paths["dora"])
    # DoRA with B = 0 and magnitude = row norm must be the identity (sanity of the formula / norm axis).
    neutral = {k: (torch.zeros_like(v) if ".lora_B." in k else v) for k, v in dora.items()}
    for name, keys in dora_targets(dora).items():
        neutral[keys["magnitude"]] = torch.linalg.norm(base[name], dim=1)
    same = merge_dora(base, neutral, 1.0)
    err = max(float((same[n] - base[n]).abs().max()) for n in dora_targets(dora))
    assert err < 1e-5, err
    _, patched = merge_lightx2v(base, read_safetensors(paths["lightx2v"]))
    vae = torch.load(paths["vae_pth"], weights_only=True)
    fgr, pha = split_decoder_file(torch.load(paths["decoder"], weights_only=True))
    merged = merge_vae_decoder_lora(vae, fgr)
    changed = sum(not torch.equal(merged[k], vae[k]) for k in vae)
    print(f"self-checks: DoRA identity err={err:.2e}; LightX2V patched {patched} tensors; "
          f"VAE LoRA changed {changed} decoder weights ({len(fgr)} fgr / {len(pha)} pha keys)")


if __name__ == "__main__":
    import tempfile
    import time

    torch.set_num_threads(1)  # stay light next to background jobs
    start = time.time()
    WIDTH, HEIGHT, FRAMES = 32, 32, 5
    print("release 4-step timesteps:", check_release_timesteps())
    print(f"FlowUniPC vs diffusers UniPC (same sigma grid): max|diff| = {check_scheduler_against_diffusers():.3e}")
    print("release 4-step dpm++ timesteps:", check_release_dpm_timesteps())
    for n_steps, n_shift in ((4, 5.0), (8, 5.0), (4, 3.0), (8, 3.0)):
        print(f"FlowDPMpp vs diffusers DPM-Solver++ ({n_steps} steps, shift {n_shift}, release grid): "
              f"max|diff| = {check_dpm_against_diffusers(n_steps, n_shift):.3e}")
    with tempfile.TemporaryDirectory() as tmp:
        files = write_tiny_release_files(tmp, WIDTH, HEIGHT, FRAMES)
        _self_checks(files)
        cfg, dit_model = build_dit(files["ckpt_dir"], files["dora"], 1.0, files["lightx2v"])
        decoders = build_vae_decoders(files["vae_pth"], files["decoder"])
        prompt = torch.randn(7, cfg["text_dim"], generator=torch.Generator().manual_seed(123))
        runs = [(v, m, s, "unipc") for v, m in (("v1", None), ("v2", files["mask"])) for s in (0, 1)]
        for version, mask, seed, solver in [*runs, ("v1", None, 0, "dpm++")]:
            res = generate(files["ckpt_dir"], files["vae_pth"], files["decoder"], prompt, seed=seed,
                           frame_num=FRAMES, width=WIDTH, height=HEIGHT, mask_path=mask,
                           models=(dit_model, *decoders), solver=solver)
            print(f"--- {version} seed={seed}" + ("" if solver == "unipc" else f" solver={solver}"))
            print(_describe("noise", res["noise"]))
            print(_describe("latent", res["latent"]))
            print(_describe("fgr[-1,1]", res["float"].fgr))
            print(_describe("pha3[-1,1]", res["float"].pha3))
            print(_describe("alpha[0,1]", res["float"].alpha))
            print(_describe("uint8 RGBA", res["uint8_rgba"]))
    print(f"done in {time.time() - start:.1f}s")
