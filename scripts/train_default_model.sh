#!/usr/bin/env bash
# Rebuilds the bundled demo model (vfxgen/default_model/) from nothing, with vfxgen's own commands only.
# Resumable: every stage checkpoints; rerun the script after a stop and it continues where it was.
#
#   bash scripts/train_default_model.sh [WORKDIR] [--ablation]
#
# Stages: synthetic dataset -> random demo model -> VAE -> RGB transformer (+ T5) -> TransPixar alpha LoRA
# -> VAE decoder polish -> bundle. With --ablation it also trains the alpha LoRA with attention `full` and `rgb-isolated`
# (a shorter recipe, same for all three, same seed) for the model card's eval-flow table.
set -euo pipefail
WORK=${1:-runs/default-model}
ABLATION=${2:-}
SEED=0
mkdir -p "$WORK"

[ -f "$WORK/data/dataset.json" ] || vfxgen dataset synth -o "$WORK/data" --count 2000 --frames 9 --size 64 --seed $SEED --overwrite
[ -f "$WORK/init/model_index.json" ] || vfxgen train init -o "$WORK/init" --arch demo --seed $SEED --overwrite

stage() {  # stage NAME ARGS...: run `vfxgen train` once to completion, resuming from its last checkpoint
  local name=$1; shift
  [ -f "$WORK/$name/DONE" ] && return 0
  vfxgen train "$@" --data "$WORK/data" -o "$WORK/$name" --seed $SEED --resume --checkpoint-every 100
  touch "$WORK/$name/DONE"
}

stage vae --model "$WORK/init" --stage vae --steps 800 --batch 4 --lr 5e-4 --warmup-steps 50 --vae-crop 32
stage rgb --model "$WORK/vae/model" --stage rgb --steps 2000 --batch 8 --lr 4e-4 --warmup-steps 100 \
  --train-text-encoder --caption-dropout 0.1 --save-dtype fp16
ALPHA_ARGS=(--model "$WORK/rgb/model" --stage alpha --rank 32 --lora-alpha 32 --steps 1000 --batch 8 --lr 4e-4
  --warmup-steps 50 --caption-dropout 0.1)
stage alpha "${ALPHA_ARGS[@]}" --attention transpixar

# Polish the VAE decoder (encoder frozen: the latent space the transformer and LoRA learnt stays the same).
stage vae-polish --model "$WORK/rgb/model" --stage vae --vae-decoder-only --steps 1000 --batch 4 --lr 3e-4 \
  --warmup-steps 20 --vae-crop 32 --save-dtype fp16

# Bundle: the model (fp16 safetensors) plus the alpha LoRA, renamed into place atomically.
DEST=vfxgen/default_model
rm -rf "$DEST.tmp"
cp -r "$WORK/vae-polish/model" "$DEST.tmp"
cp "$WORK/alpha/transpixar_lora.safetensors" "$DEST.tmp/"
cat > "$DEST.tmp/vfxgen.json" <<'JSON'
{
  "description": "vfxgen demo model: 64x64, 9 frames, trained on short procedural-element captions",
  "prompt_style": "caption",
  "preset_negative_prompts": false
}
JSON
rm -rf "$DEST" && mv "$DEST.tmp" "$DEST"
du -sh "$DEST"

if [ "$ABLATION" = "--ablation" ]; then
  # The paper's Fig. 10/11 ablation at small scale: one shorter recipe, same seed, three attention modes.
  ABLATION_ARGS=("${ALPHA_ARGS[@]}" --steps 400)
  for mode in transpixar full rgb-isolated; do
    stage "ablation-$mode" "${ABLATION_ARGS[@]}" --attention "$mode"
  done
fi
