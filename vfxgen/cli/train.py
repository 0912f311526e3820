"""`vfxgen train`: fine-tune the TransPixar alpha LoRA (or, for the demo model, the VAE / RGB transformer).

vfxgen train --model CogVideoX-5b --data my_dataset -o runs/alpha --stage alpha --steps 5000
accelerate launch -m vfxgen train --model ... --data ... -o runs/alpha     # multi-GPU
vfxgen train init -o models/demo --arch demo                                        # random demo model
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Annotated

import typer

from vfxgen.cli.console import StepLines, log, progress_bar

train_app = typer.Typer(no_args_is_help=True)  # help: the callback's docstring (with its examples)


@train_app.callback(invoke_without_command=True)
def train(
    ctx: typer.Context,
    model: Annotated[
        Path | None, typer.Option("--model", help="Diffusers CogVideoX model directory to start from.")
    ] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Dataset made by `vfxgen dataset`.")] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Run directory (checkpoints, logs, result).")
    ] = None,
    stage: Annotated[
        str, typer.Option("--stage", help="alpha (TransPixar LoRA), rgb or vae (demo model only).")
    ] = "alpha",
    rank: Annotated[int, typer.Option("--rank", help="LoRA rank (paper: 128).")] = 128,
    lora_alpha: Annotated[float, typer.Option("--lora-alpha", help="LoRA alpha; scale = alpha / rank.")] = 1.0,
    attention: Annotated[str, typer.Option("--attention", help="transpixar, full or rgb-isolated.")] = "transpixar",
    init_lora: Annotated[
        Path | None,
        typer.Option(
            "--init-lora",
            help="Stage alpha: start from this transpixar_lora.safetensors instead of a zero LoRA (same --rank and "
            "--lora-alpha): continue a released adapter on your own data or a new base.",
        ),
    ] = None,
    hold_elements: Annotated[
        str,
        typer.Option(
            "--hold-elements",
            help="Comma-separated dataset elements (e.g. dust,smoke) whose clips are trained toward the starting "
            "model's own prediction instead of the data: fine-tune toward the other elements without moving these.",
        ),
    ] = "",
    rgb: Annotated[
        str,
        typer.Option(
            "--rgb",
            help="RGB video trained on: premultiplied (colour x alpha over black) or straight (the stored colour). "
            "Recorded in the LoRA's recipe.",
        ),
    ] = "premultiplied",
    steps: Annotated[int, typer.Option("--steps", help="Optimiser steps (paper: 5000).")] = 5000,
    lr: Annotated[float, typer.Option("--lr", help="Peak learning rate (AdamW, warm-up then cosine).")] = 1e-4,
    batch: Annotated[int, typer.Option("--batch", help="Total batch size over all processes (paper: 8).")] = 8,
    seed: Annotated[int, typer.Option("--seed", help="Seed for init, batches and noise.")] = 0,
    mixed_precision: Annotated[str, typer.Option("--mixed-precision", help="no, fp16 or bf16.")] = "no",
    gradient_checkpointing: Annotated[
        bool, typer.Option("--gradient-checkpointing", help="Trade compute for memory.")
    ] = False,
    checkpoint_every: Annotated[int, typer.Option("--checkpoint-every", help="Steps between checkpoints.")] = 500,
    caption_dropout: Annotated[float, typer.Option("--caption-dropout", help="Empty-caption rate (for CFG).")] = 0.1,
    train_text_encoder: Annotated[bool, typer.Option("--train-text-encoder", help="Stage rgb: train T5 too.")] = False,
    warmup_steps: Annotated[int, typer.Option("--warmup-steps", help="Linear warm-up steps.")] = 100,
    save_dtype: Annotated[
        str, typer.Option("--save-dtype", help="Weights dtype of saved models: fp32, fp16, bf16.")
    ] = "fp32",
    vae_crop: Annotated[int, typer.Option("--vae-crop", help="Stage vae: random square crop size (0 = full).")] = 32,
    vae_decoder_only: Annotated[
        bool, typer.Option("--vae-decoder-only", help="Stage vae: train the decoder only (keeps the latent space).")
    ] = False,
    vae_motion_weight: Annotated[
        float,
        typer.Option("--vae-motion-weight", help="Stage vae: weight of a loss on frame-to-frame change (0 = off)."),
    ] = 0.0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the run's last checkpoint.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing run directory.")] = False,
) -> None:
    """Train the alpha LoRA (or the demo model's VAE / RGB transformer), one stage per run.

    Writes checkpoints, loss.csv, loss.png and the result into the run directory.

    \b
    Examples:
      vfxgen train --model CogVideoX-5b --data data/matting -o runs/alpha --stage alpha --steps 5000
      accelerate launch -m vfxgen train --model CogVideoX-5b --data data/matting -o runs/alpha --resume
    """
    if ctx.invoked_subcommand is not None:
        return
    from vfxgen.errors import UsageError
    from vfxgen.training.train import TrainConfig
    from vfxgen.training.train import train as run_training

    missing = [name for name, value in (("--model", model), ("--data", data), ("-o", output)) if value is None]
    if missing:
        raise UsageError(f"missing {', '.join(missing)}", "vfxgen train --model DIR --data DATASET -o RUN")
    config = TrainConfig(
        model=str(model),
        data=str(data),
        output=str(output),
        stage=stage,
        rank=rank,
        lora_alpha=lora_alpha,
        attention=attention,
        rgb=rgb,
        init_lora=None if init_lora is None else str(init_lora),
        hold_elements=tuple(name.strip() for name in hold_elements.split(",") if name.strip()),
        steps=steps,
        lr=lr,
        batch=batch,
        seed=seed,
        mixed_precision=mixed_precision,
        gradient_checkpointing=gradient_checkpointing,
        checkpoint_every=checkpoint_every,
        caption_dropout=caption_dropout,
        train_text_encoder=train_text_encoder,
        warmup_steps=warmup_steps,
        save_dtype=save_dtype,
        vae_crop=vae_crop,
        vae_decoder_only=vae_decoder_only,
        vae_motion_weight=vae_motion_weight,
        resume=resume,
        overwrite=overwrite,
    )
    # Farm logs: `step N/M loss L elapsed ... eta ...` 20 times per run and at the last step.
    lines = StepLines(every=max(1, steps // 20), seconds=math.inf, at_end=True)
    with progress_bar(f"train {stage}", steps, eta=True, lines=lines) as bar:

        def on_step(step: int, total: int, loss: float) -> None:
            bar.step(step, total, description=f"train {stage} loss {loss:.4f}", label=f"loss {loss:.4f}")

        run = run_training(config, on_step=on_step)
    if os.environ.get("RANK", "0") == "0":  # one line per run, not per launcher process
        log(f"wrote {run}")


@train_app.command("init")
def init(
    output: Annotated[Path, typer.Option("-o", "--output", help="Directory for the random-initialised model.")],
    arch: Annotated[
        str,
        typer.Option("--arch", help="demo (64x64x9, the bundled model's), demo-v2 (2x VAE, patch 4) or test (tiny)."),
    ] = "demo",
    seed: Annotated[int, typer.Option("--seed", help="Initialisation seed.")] = 0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing directory.")] = False,
) -> None:
    """Write a random-initialised CogVideoX model directory to train from.

    \b
    Examples:
      vfxgen train init -o models/demo --arch demo
    """
    from vfxgen.training.architectures import init_model

    log(f"wrote {init_model(output, arch, seed, overwrite)}")
