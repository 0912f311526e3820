#!/usr/bin/env bash
# Rebuilds the bundled demo model (vfxgen/default_model/, demo v3.2) from nothing, with vfxgen's own commands only.
# Resumable: every stage checkpoints; rerun the script after a stop and it continues where it was.
#
#   bash scripts/train_default_model.sh [WORKDIR] [--ablation]
#
# Stages: synthetic dataset -> random demo-v2 model (2x VAE, patch 4) -> VAE -> RGB transformer (+ T5)
# -> RGB fine-tune (lower learning rate) -> a second dataset weighted 2:1 towards the elements the model drew
# worst (sparks, muzzle flash, water splash, smoke, dust) -> RGB fine-tune on it -> VAE decoder polish with a
# motion loss (keeps the latent space) -> TransPixar alpha LoRA on the weighted data (= demo v3.1) -> a third
# dataset weighted to muzzle flash -> RGB fine-tune (T5 frozen) and an alpha fine-tune from v3.1's LoRA, every
# other element held to v3.1's own prediction (--hold-elements) -> bundle (demo v3.2).
# About 6 hours on a 2-core CPU.
# With --ablation it also trains the alpha LoRA with attention `full` and `rgb-isolated` (a shorter recipe, same
# for all three, same seed) for the model card's eval-flow table.
set -euo pipefail
WORK=${1:-runs/default-model}
ABLATION=${2:-}
SEED=0
mkdir -p "$WORK"

[ -f "$WORK/data/dataset.json" ] || vfxgen dataset synth -o "$WORK/data" --count 4000 --frames 9 --size 64 --seed $SEED --overwrite
[ -f "$WORK/init/model_index.json" ] || vfxgen train init -o "$WORK/init" --arch demo-v2 --seed $SEED --overwrite

FOCUS=sparks,sparks,muzzle_flash,muzzle_flash,water_splash,water_splash,smoke,smoke,dust,dust,lightning,fire,explosion,magic
[ -f "$WORK/data-focus/dataset.json" ] || vfxgen dataset synth -o "$WORK/data-focus" --count 3500 --frames 9 --size 64 \
  --seed 3 --elements "$FOCUS" --overwrite

stage() {  # stage NAME DATA ARGS...: run `vfxgen train` once to completion, resuming from its last checkpoint
  local name=$1 data=$2; shift 2
  [ -f "$WORK/$name/DONE" ] && return 0
  vfxgen train "$@" --data "$WORK/$data" -o "$WORK/$name" --seed $SEED --resume --checkpoint-every 100
  touch "$WORK/$name/DONE"
}
share_latents() {  # share_latents FROM TO: a later stage on the same VAE and data reuses the encoded dataset
  [ -f "$WORK/$2/latents.pt" ] || [ ! -f "$WORK/$1/latents.pt" ] && return 0
  mkdir -p "$WORK/$2" && cp "$WORK/$1/config.json" "$WORK/$2/config.json"
  ln "$WORK/$1/latents.pt" "$WORK/$2/latents.pt" 2>/dev/null || cp "$WORK/$1/latents.pt" "$WORK/$2/latents.pt"
}

stage vae data --model "$WORK/init" --stage vae --steps 700 --batch 4 --lr 5e-4 --warmup-steps 50 --vae-crop 32
RGB_ARGS=(--stage rgb --batch 8 --train-text-encoder --caption-dropout 0.1 --save-dtype fp16)
stage rgb data --model "$WORK/vae/model" "${RGB_ARGS[@]}" --steps 2200 --lr 4e-4 --warmup-steps 100
share_latents rgb rgb-ft
stage rgb-ft data --model "$WORK/rgb/model" "${RGB_ARGS[@]}" --steps 1500 --lr 3e-4 --warmup-steps 50
stage rgb-focus data-focus --model "$WORK/rgb-ft/model" "${RGB_ARGS[@]}" --steps 1200 --lr 2e-4 --warmup-steps 50
# The decoder alone, on the motion between frames too (its two frames per latent frame came out alike).
stage vae-polish data-focus --model "$WORK/rgb-focus/model" --stage vae --vae-decoder-only --vae-motion-weight 1.0 \
  --steps 400 --batch 4 --lr 1e-4 --warmup-steps 20 --vae-crop 32 --save-dtype fp16
ALPHA_ARGS=(--model "$WORK/vae-polish/model" --stage alpha --rank 32 --lora-alpha 32 --steps 1400 --batch 8 --lr 4e-4
  --warmup-steps 50 --caption-dropout 0.1)
share_latents rgb-focus alpha
stage alpha data-focus "${ALPHA_ARGS[@]}" --attention transpixar

# v3.2: muzzle flash. Every earlier RGB fine-tune toward it turned dust the colour of fire; here only muzzle
# flash's clips train on the data, the others are held to v3.1's own prediction (self-distillation).
MUZZLE=sparks,sparks,muzzle_flash,muzzle_flash,muzzle_flash,water_splash,water_splash,smoke,smoke,dust,dust,dust,lightning,fire,explosion,magic
HELD=sparks,water_splash,smoke,dust,lightning,fire,explosion,magic
[ -f "$WORK/data-muzzle/dataset.json" ] || vfxgen dataset synth -o "$WORK/data-muzzle" --count 2040 --frames 9 --size 64 \
  --seed 9 --elements "$MUZZLE" --overwrite
if [ ! -f "$WORK/v3.1/transpixar_lora.safetensors" ]; then
  rm -rf "$WORK/v3.1" && cp -r "$WORK/vae-polish/model" "$WORK/v3.1"
  cp "$WORK/alpha/transpixar_lora.safetensors" "$WORK/v3.1/"
fi
stage rgb-muzzle data-muzzle --model "$WORK/v3.1" --stage rgb --batch 8 --caption-dropout 0.1 --save-dtype fp16 \
  --steps 250 --lr 1e-4 --warmup-steps 20 --hold-elements "$HELD"
share_latents rgb-muzzle alpha-muzzle
stage alpha-muzzle data-muzzle --model "$WORK/rgb-muzzle/model" --stage alpha --rank 32 --lora-alpha 32 \
  --init-lora "$WORK/alpha/transpixar_lora.safetensors" --steps 300 --batch 8 --lr 1e-4 --warmup-steps 20 \
  --caption-dropout 0.1 --hold-elements "$HELD"

# Bundle: the model (fp16 safetensors) plus the alpha LoRA, renamed into place atomically.
DEST=vfxgen/default_model
rm -rf "$DEST.tmp"
cp -r "$WORK/rgb-muzzle/model" "$DEST.tmp"
cp "$WORK/alpha-muzzle/transpixar_lora.safetensors" "$DEST.tmp/"
cat > "$DEST.tmp/vfxgen.json" <<'JSON'
{
  "description": "vfxgen demo model v3.2: 64x64, 9 frames, 2x VAE + patch 4, trained on short procedural-element captions",
  "prompt_style": "caption",
  "preset_negative_prompts": false,
  "recipe": {
    "rgb": "premultiplied",
    "alpha_reduce": "mean",
    "scheduler": "dpm",
    "timestep_spacing": "trailing",
    "noise": "independent",
    "steps": 50,
    "guidance": 6.0,
    "dynamic_cfg": true
  },
  "preset_defaults": {
    "smoke": {"guidance": 2.0}
  },
  "trained_with": {
    "rgb": "premultiplied",
    "highlights": "none: colour is display-referred sRGB in [0, 1], the model's scene-linear output never exceeds 1.0",
    "note": "RGB half trained as colour x alpha over black (vfxgen train --rgb premultiplied, the default) on dataset synth clips"
  }
}
JSON
rm -rf "$DEST" && mv "$DEST.tmp" "$DEST"
du -sh "$DEST"

if [ "$ABLATION" = "--ablation" ]; then
  # The paper's Fig. 10/11 ablation at small scale: one shorter recipe, same seed, three attention modes.
  ABLATION_ARGS=("${ALPHA_ARGS[@]}" --steps 400)
  for mode in transpixar full rgb-isolated; do
    share_latents rgb-focus "ablation-$mode"
    stage "ablation-$mode" data-focus "${ABLATION_ARGS[@]}" --attention "$mode"
  done
fi
