"""Training on accelerate: the VAE, the RGB transformer, and the TransPixar alpha LoRA.

Stages (run in this order for a model of your own; a CogVideoX-5B user runs only `alpha`):

* `vae`   - trains the CogVideoX VAE on premultiplied RGB clips and on alpha-as-grey clips (L1 + KL);
            sets the VAE's `scaling_factor` to 1/std of the latents. (Only for the small demo model.)
* `rgb`   - trains the full transformer (and optionally the text encoder) on RGB latents: the stand-in
            for CogVideoX's own pre-training. (Only for the small demo model.)
* `alpha` - the paper's recipe: `apply_transpixar`, base frozen, only the alpha LoRA and the domain
            embedding train, on `[RGB | alpha]` latents.

Loss as CogVideoX was trained: DDPM noise (the model's scheduler), v-prediction, MSE on v (which equals
CogVideoX's x0 loss weighted by 1/(1 - alpha_bar)). Batches are drawn from a generator seeded by
(seed, step, process), so a resumed run sees exactly the batches an uninterrupted one would.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vfxgen.atomic import atomic_path, move_into_place, temporary_name
from vfxgen.backbones.hold import StartingModel
from vfxgen.errors import InputError, OutputExistsError, UsageError
from vfxgen.io.safety import check_replaceable, foreign_entries, marked_foreign_entry, refuse_unsafe_output
from vfxgen.models.vae import frames_for_latents, pad_to_odd_latents
from vfxgen.pipelines.recipe import RGB_CONVENTIONS, RGBARecipe, recipe_metadata
from vfxgen.quiet import quiet_libraries
from vfxgen.training.data import RGBAClipDataset

quiet_libraries()

STAGES = ("vae", "rgb", "alpha")
CHECKPOINTS = "checkpoints"


@dataclass
class TrainConfig:
    """Every knob of a run; saved as `config.json` in the run directory."""

    model: str
    data: str
    output: str
    stage: str = "alpha"
    rank: int = 128
    lora_alpha: float = 1.0
    attention: str = "transpixar"
    steps: int = 5000
    lr: float = 1e-4
    batch: int = 8
    seed: int = 0
    mixed_precision: str = "no"
    gradient_checkpointing: bool = False
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    caption_dropout: float = 0.1
    train_text_encoder: bool = False
    warmup_steps: int = 100
    weight_decay: float = 0.0
    resume: bool = False
    overwrite: bool = False
    save_dtype: str = "fp32"
    vae_crop: int = 32
    vae_decoder_only: bool = False
    vae_motion_weight: float = 0.0  # stage vae: weight of the frame-to-frame change loss (see _VaeStage.loss)
    rgb: str = "premultiplied"  # the RGB video trained on: colour x alpha over black, or straight colour
    init_lora: str | None = None  # stage alpha: start from this adapter instead of a zero LoRA (rank must match)
    hold_elements: tuple[str, ...] = ()  # clips of these elements are trained toward the starting model's output

    def recipe(self) -> RGBARecipe:
        """The RGBA recipe this run trains for (the model family's), recorded in the weights' metadata and the
        model's vfxgen.json."""
        return _training_hooks(self).recipe(self)

    def check(self) -> TrainConfig:
        if self.stage not in STAGES:
            raise UsageError(f"unknown --stage {self.stage!r}", f"use one of {', '.join(STAGES)}")
        if self.steps < 1 or self.batch < 1 or self.rank < 1 or self.lr <= 0:
            raise UsageError("--steps, --batch, --rank and --lr must be positive", "check the training options")
        if self.resume and self.overwrite:
            raise UsageError("--resume and --overwrite contradict each other", "pass only one")
        if self.rgb not in RGB_CONVENTIONS:
            raise UsageError(f"unknown --rgb {self.rgb!r}", f"use one of {', '.join(RGB_CONVENTIONS)}")
        if self.init_lora is not None and self.stage != "alpha":
            raise UsageError(f"--init-lora starts an alpha LoRA; --stage {self.stage} has none", "use --stage alpha")
        if self.hold_elements and self.stage == "vae":
            raise UsageError(
                "--hold-elements holds a diffusion model's predictions; --stage vae has none",
                "use --stage rgb or alpha",
            )
        if self.hold_elements and self.train_text_encoder:
            raise UsageError(
                "--hold-elements compares the fine-tune with the starting model on the same text features, which a "
                "trained text encoder moves",
                "leave out --train-text-encoder",
            )
        if not self.vae_motion_weight >= 0:
            raise UsageError(f"--vae-motion-weight must be 0 or more, got {self.vae_motion_weight}", "pass e.g. 1.0")
        return self


StepCallback = Callable[[int, int, float], None]


def train(config: TrainConfig, on_step: StepCallback | None = None) -> Path:
    """Run (or resume) a training stage; returns the run directory.

    Under `accelerate launch` / `torchrun` every process runs this; only the main process prepares the
    run directory, writes the loss log, reports progress and exports the result.
    """
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    config.check()
    run = Path(config.output)
    data = RGBAClipDataset(config.data)  # inputs are checked before anything is written
    _check_hold_elements(data, config.hold_elements)
    from vfxgen.pipelines.model_dirs import resolve_model

    hooks = _training_hooks(config)  # the model's family can be trained (cheap: JSON only), before any folder
    if config.stage not in hooks.stages:
        raise UsageError(
            f"--stage {config.stage} does not train {resolve_model(config.model).name}'s family",
            f"use --stage {' or '.join(hooks.stages)}",
        )
    if config.init_lora is not None:
        _check_init_lora(hooks, config)  # a header read: a wrong rank is one line before any weight loads
    check_run_dir(run, config)  # before the model loads: never replace or resume into someone else's folder
    # One optimiser step = one scheduler step, whatever the number of processes.
    accelerator = Accelerator(mixed_precision=config.mixed_precision, step_scheduler_with_optimizer=False)
    main = accelerator.is_main_process
    if main:
        _prepare_run_dir(run, config)
    accelerator.wait_for_everyone()
    set_seed(config.seed)
    pipe = _load_components(config)
    trainer = _make_stage(config, pipe, data, accelerator)
    params = [p for p in trainer.module.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, _warmup_cosine(config.warmup_steps, config.steps))
    trainer.module, optimizer, schedule = accelerator.prepare(trainer.module, optimizer, schedule)
    accelerator.register_for_checkpointing(_StepCounter())

    start = _load_latest_checkpoint(run, accelerator) if config.resume else 0
    per_process = max(1, config.batch // accelerator.num_processes)
    log_path = run / "loss.csv"
    if main:
        _truncate_log(log_path, start)  # steps after the checkpoint are redone: drop their old rows
    with open(log_path if main else os.devnull, "a", newline="") as log_file:
        writer = csv.writer(log_file)
        if main and log_path.stat().st_size == 0:
            writer.writerow(["step", "loss", "lr", "seconds"])
        t0 = time.perf_counter()
        for step in range(start, config.steps):
            rng = np.random.default_rng([config.seed, step, accelerator.process_index])
            indices = rng.integers(0, len(data), per_process)
            with accelerator.autocast():
                loss = trainer.loss(indices, rng)
            accelerator.backward(loss)
            if accelerator.sync_gradients:
                accelerator.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            value = accelerator.gather(loss.detach()[None]).mean().item()
            if not math.isfinite(value):
                raise InputError(f"the loss became {value} at step {step + 1}", "lower --lr or check the dataset")
            if main:
                lr = schedule.get_last_lr()[0]
                writer.writerow([step + 1, f"{value:.6f}", f"{lr:.3e}", f"{time.perf_counter() - t0:.2f}"])
                log_file.flush()
                if on_step:
                    on_step(step + 1, config.steps, value)
            if (step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps:
                _save_checkpoint(run, accelerator, step + 1, config.keep_checkpoints)
    accelerator.wait_for_everyone()
    if main:
        trainer.module = accelerator.unwrap_model(trainer.module)
        trainer.export(run)
        plot_loss(log_path, run / "loss.png")
    return run


# --- stages ---------------------------------------------------------------------------------------------
class _Stage:
    """A trainable module plus how to compute its loss on a batch of dataset indices and export it."""

    module: torch.nn.Module

    def loss(self, indices: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        raise NotImplementedError

    def export(self, run: Path) -> None:
        raise NotImplementedError


def _batch_pixels(
    data: RGBAClipDataset, indices, rgb_convention: str = "premultiplied"
) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """-> the RGB video and alpha-as-grey, both `[B, 3, T, H, W]` in [-1, 1], plus captions.

    Datasets store straight colour + alpha (`dataset synth` and `dataset prepare` alike); the RGB video the
    model learns is made here, once, by the run's convention: `premultiplied` = colour x alpha over black,
    `straight` = the stored colour as is.
    """
    clips, captions = zip(*(data[int(i)] for i in indices), strict=True)
    rgba = torch.from_numpy(np.stack(clips))  # [B, T, H, W, 4]
    alpha = rgba[..., 3:4]
    rgb = rgba[..., :3] * alpha if rgb_convention == "premultiplied" else rgba[..., :3]
    to_video = lambda x: x.permute(0, 4, 1, 2, 3) * 2.0 - 1.0  # noqa: E731
    return to_video(rgb), to_video(alpha.expand(*alpha.shape[:-1], 3)), list(captions)


class _VaeStage(_Stage):
    def __init__(self, config: TrainConfig, pipe, data: RGBAClipDataset, device) -> None:
        self.config, self.pipe, self.data, self.device = config, pipe, data, device
        self.module = pipe.vae.to(device).train()
        self.module.requires_grad_(True)
        if config.vae_decoder_only:
            # Polishing the decoder keeps the latent space (encoder, scaling factor) exactly as the
            # transformer and the LoRA were trained on, so they stay valid.
            self.module.encoder.requires_grad_(False)
            if self.module.quant_conv is not None:
                self.module.quant_conv.requires_grad_(False)
        if config.gradient_checkpointing:
            self.module.enable_gradient_checkpointing()

    def loss(self, indices, rng):
        rgb, alpha, _ = _batch_pixels(self.data, indices, self.config.rgb)
        x = torch.cat([rgb, alpha])  # the VAE must encode both colour and alpha videos
        crop = self.config.vae_crop  # convolutions are translation-equivariant: crops train it 4x cheaper
        if 0 < crop < min(x.shape[-2:]):
            top, left = (int(rng.integers(0, s - crop + 1)) for s in x.shape[-2:])
            x = x[..., top : top + crop, left : left + crop]
        x = x.contiguous().to(self.device)
        with torch.set_grad_enabled(not self.config.vae_decoder_only):
            posterior = self.module.encode(x).latent_dist
        latents = posterior.sample()
        frames = frames_for_latents(latents.shape[2], int(self.module.config.temporal_compression_ratio))
        recon = self.module.decode(pad_to_odd_latents(latents, dim=2)).sample[:, :, :frames]
        loss = F.l1_loss(recon, x) + 0.5 * F.mse_loss(recon, x)
        if self.config.vae_motion_weight > 0:
            # The frames decoded from one latent frame tend to come out alike (the motion moves on twos, a
            # judder a compositor sees at once); matching each frame-to-frame change is what removes it.
            loss = loss + self.config.vae_motion_weight * F.l1_loss(recon.diff(dim=2), x.diff(dim=2))
        if not self.config.vae_decoder_only:
            loss = loss + 1e-3 * posterior.kl().mean() / x[0].numel()
        return loss

    def export(self, run: Path) -> None:
        vae = self.module.eval()
        if self.config.vae_decoder_only:  # same latent space: keep the scaling factor
            _save_model_dir(self.pipe, run / "model", self.config)
            return
        stds = []
        with torch.no_grad():
            for start in range(0, min(len(self.data), 256), 16):
                rgb, alpha, _ = _batch_pixels(self.data, range(start, min(start + 16, len(self.data))), self.config.rgb)
                stds.append(vae.encode(torch.cat([rgb, alpha]).to(self.device)).latent_dist.mode().std().item())
        vae.register_to_config(scaling_factor=float(1.0 / np.mean(stds)))
        _save_model_dir(self.pipe, run / "model", self.config)


class _DiffusionStage(_Stage):
    """Shared by `rgb` and `alpha`: cached VAE latents, text embeddings, v-prediction loss."""

    def __init__(self, config: TrainConfig, pipe, data: RGBAClipDataset, device) -> None:
        self.config, self.pipe, self.data, self.device = config, pipe, data, device
        self.hooks = _training_hooks(config)  # the model's backbone: latents, text, RoPE, loss, RGBA method
        pipe.vae.to(device).eval().requires_grad_(False)
        pipe.text_encoder.to(device).requires_grad_(False)
        cache = Path(config.output) / "latents.pt"
        self.latents = _encode_dataset(pipe, self.hooks, data, device, cache, config.rgb)
        frames = self.latents["rgb_mean"].shape[1]
        self.rope = self.hooks.rope(pipe, data.info.height, data.info.width, frames, device)
        self.teacher: StartingModel | None = None  # the starting model, frozen, for --hold-elements

    def _freeze_teacher(self) -> None:
        """Snapshot the module as it starts (before any checkpoint loads, so a resumed run holds the same target):
        the model the held elements are trained to keep matching."""
        if self.config.hold_elements:
            self.teacher = StartingModel(self.module)

    def _held(self, indices) -> torch.Tensor | None:
        """Per clip of the batch: is its target the starting model's prediction (True) or the data (False)?"""
        if self.teacher is None:
            return None
        held = [self.data.entries[int(i)].get("element") in self.config.hold_elements for i in indices]
        return torch.tensor(held, device=self.device)

    def _text(self, captions: list[str], rng: np.random.Generator) -> torch.Tensor:
        captions = ["" if rng.random() < self.config.caption_dropout else c for c in captions]
        grad = self.config.train_text_encoder and self.config.stage == "rgb"
        with torch.set_grad_enabled(grad):
            return self.hooks.encode_text(self.pipe, captions, self.device)

    def _sample_latents(self, key: str, indices, rng) -> torch.Tensor:
        mean, std = self.latents[f"{key}_mean"][indices], self.latents[f"{key}_std"][indices]
        noise = torch.from_numpy(rng.standard_normal(mean.shape).astype(np.float32))
        return (mean + std * noise).to(self.device)

    def _v_loss(self, latents: torch.Tensor, text: torch.Tensor, rng, indices) -> torch.Tensor:
        args = (self.module, self.pipe, latents, text, self.rope, rng, self.device)
        if self.teacher is None:  # a backbone's hooks need not know about holding until a run asks for it
            return self.hooks.diffusion_loss(*args)
        return self.hooks.diffusion_loss(*args, teacher=self.teacher, held=self._held(indices))


class _RgbStage(_DiffusionStage):
    def __init__(self, config, pipe, data, device) -> None:
        super().__init__(config, pipe, data, device)
        self.module = pipe.transformer.to(device).train().requires_grad_(True)
        if config.train_text_encoder:
            # One module for accelerate to prepare: the transformer owns a reference to the text encoder.
            pipe.text_encoder.requires_grad_(True).train()
            self.module.add_module("_vfxgen_text_encoder", pipe.text_encoder)
        self._freeze_teacher()
        if config.gradient_checkpointing:
            self.module.enable_gradient_checkpointing()

    def loss(self, indices, rng):
        captions = [self.data.entries[int(i)]["caption"] for i in indices]
        return self._v_loss(self._sample_latents("rgb", indices, rng), self._text(captions, rng), rng, indices)

    def export(self, run: Path) -> None:
        if "_vfxgen_text_encoder" in self.module._modules:
            del self.module._modules["_vfxgen_text_encoder"]
        _save_model_dir(self.pipe, run / "model", self.config)


class _AlphaStage(_DiffusionStage):
    def __init__(self, config, pipe, data, device) -> None:
        super().__init__(config, pipe, data, device)
        transformer = pipe.transformer.to(device)
        self.module = self.hooks.apply_alpha_method(transformer, config.rank, config.lora_alpha, config.attention)
        if config.init_lora is not None:  # a warm start: the adapter's LoRA and domain embedding, still trainable
            self.hooks.load_alpha_weights(self.module, Path(config.init_lora))
        self.module.train()
        self._freeze_teacher()
        if config.gradient_checkpointing:
            self.module.enable_gradient_checkpointing()

    def loss(self, indices, rng):
        captions = [self.data.entries[int(i)]["caption"] for i in indices]
        rgb = self._sample_latents("rgb", indices, rng)
        alpha = self._sample_latents("alpha", indices, rng)
        return self._v_loss(torch.cat([rgb, alpha], dim=1), self._text(captions, rng), rng, indices)

    def export(self, run: Path) -> None:
        metadata = recipe_metadata(self.config.recipe())
        self.hooks.save_alpha_weights(self.module, run / "transpixar_lora.safetensors", metadata)


def _make_stage(config: TrainConfig, pipe, data, accelerator) -> _Stage:
    """`accelerator` may be an `Accelerator` or, for single-process use and tests, a `torch.device`."""
    stage = {"vae": _VaeStage, "rgb": _RgbStage, "alpha": _AlphaStage}[config.stage]
    if isinstance(accelerator, torch.device):
        return stage(config, pipe, data, accelerator)
    if config.stage != "vae":  # the VAE latents are encoded once, by the main process, and shared via the cache
        with accelerator.main_process_first():
            return stage(config, pipe, data, accelerator.device)
    return stage(config, pipe, data, accelerator.device)


# --- helpers ----------------------------------------------------------------------------------------------
def _training_hooks(config: TrainConfig):
    """The training hooks of the model's backbone (`Backbone.training()`)."""
    from vfxgen.backbones import backbone_named
    from vfxgen.pipelines.model_dirs import resolve_model

    return backbone_named(resolve_model(config.model).backbone).training()


def _check_hold_elements(data: RGBAClipDataset, hold: tuple[str, ...]) -> None:
    """Every held element must have clips in the dataset: a typo would otherwise hold nothing, silently."""
    present = sorted({str(e.get("element")) for e in data.entries if e.get("element")})
    missing = [name for name in hold if name not in present]
    if missing:
        raise UsageError(
            f"--hold-elements {','.join(missing)}: no clip of the dataset {data.root} has that element",
            f"use elements it has: {', '.join(present) or 'none (its manifest names no elements)'}",
        )


def _check_init_lora(hooks, config: TrainConfig) -> None:
    """The adapter to start from exists and has the run's rank and LoRA alpha: a LoRA of another shape cannot
    continue, and silently taking the file's values would make `--rank` say one thing and the result another."""
    path = Path(config.init_lora)
    if not path.is_file():
        raise UsageError(f"--init-lora {path} does not exist", "pass the transpixar_lora.safetensors to start from")
    rank, lora_alpha = hooks.alpha_weights_shape(path)
    if (rank, float(lora_alpha)) != (config.rank, float(config.lora_alpha)):
        raise UsageError(
            f"--init-lora {path} has rank {rank} and LoRA alpha {lora_alpha:g}; the run has --rank {config.rank} "
            f"--lora-alpha {config.lora_alpha:g}",
            f"pass --rank {rank} --lora-alpha {lora_alpha:g}",
        )


def _load_components(config: TrainConfig):
    from vfxgen.pipelines.model_dirs import resolve_model

    return _training_hooks(config).load_pipeline(resolve_model(config.model))


@torch.no_grad()
def _encode_dataset(
    pipe, hooks, data: RGBAClipDataset, device, cache: Path, rgb_convention: str = "premultiplied"
) -> dict[str, torch.Tensor]:
    """VAE posterior mean/std of every clip's RGB and alpha, `[N, F, C, h, w]`, cached in the run dir."""
    if cache.is_file():
        return torch.load(cache, weights_only=True)
    out: dict[str, list[torch.Tensor]] = {k: [] for k in ("rgb_mean", "rgb_std", "alpha_mean", "alpha_std")}
    for start in range(0, len(data), 16):
        rgb, alpha, _ = _batch_pixels(data, range(start, min(start + 16, len(data))), rgb_convention)
        for key, video in (("rgb", rgb), ("alpha", alpha)):
            mean, std = hooks.encode_clips(pipe, video.to(device))  # no autograd graph: the cache is data
            out[f"{key}_mean"].append(mean.cpu())
            out[f"{key}_std"].append(std.cpu())
    result = {k: torch.cat(v) for k, v in out.items()}
    torch.save(result, cache)
    return result


def _write_model_hints(directory: Path, config: TrainConfig) -> None:
    """The trained model folder keeps its source's vfxgen.json hints and records the run's recipe and the
    colour encoding of the data it was trained on (`highlights`: what its RGB means above 1.0)."""
    from vfxgen.pipelines.model_dirs import MODEL_HINTS, resolve_model
    from vfxgen.training.data import read_dataset_info

    hints = dict(resolve_model(config.model).hints)
    recipe = {k: v for k, v in config.recipe().to_dict().items() if k != "source"}
    hints.update(recipe=recipe, trained_with={"rgb": config.rgb, "stage": config.stage})
    highlights = read_dataset_info(config.data).highlights
    hints.pop("highlights", None)
    if highlights.hdr:
        hints["highlights"] = highlights.to_dict()
    (directory / MODEL_HINTS).write_text(json.dumps(hints, indent=2) + "\n")


def _save_model_dir(pipe, directory: Path, config: TrainConfig) -> None:
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[config.save_dtype]
    pipe.to(torch.device("cpu"))
    saved = {name: module.dtype for name, module in (("transformer", pipe.transformer), ("vae", pipe.vae))}
    pipe.transformer.to(dtype)
    pipe.text_encoder.to(dtype)
    pipe.vae.to(dtype)
    try:
        with atomic_path(directory, what=f"model folder {directory}") as tmp:
            pipe.save_pretrained(str(tmp), safe_serialization=True)
            _write_model_hints(tmp, config)
    finally:
        pipe.transformer.to(saved["transformer"])
        pipe.text_encoder.to(torch.float32)
        pipe.vae.to(saved["vae"])


def _run_foreign_entry(path: Path) -> str | None:
    return marked_foreign_entry(path, "config.json", lambda saved: {"stage", "output", "data"} <= saved.keys())


def check_run_dir(run: Path, config: TrainConfig) -> None:
    """Before any work: a run directory is created, resumed or (with --overwrite) replaced only if it is
    empty or a vfxgen training run (its config.json); any other folder is never touched."""
    refuse_unsafe_output(run)
    if run.exists() and foreign_entries(run, lambda name: False):
        check_replaceable(run, _run_foreign_entry, "training run")
        if not (config.resume or config.overwrite):
            raise OutputExistsError(
                f"run directory {run} already exists", "pass --resume to continue it or --overwrite"
            )


def _prepare_run_dir(run: Path, config: TrainConfig) -> None:
    check_run_dir(run, config)
    if config.overwrite and run.exists():
        shutil.rmtree(run)
    run.mkdir(parents=True, exist_ok=True)
    (run / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")


class _StepCounter:
    """Nothing to store (steps live in the checkpoint name); exists so accelerate saves RNG states with it."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        return None


def _save_checkpoint(run: Path, accelerator, step: int, keep: int) -> None:
    """Every process writes its part into one hidden directory; the main process renames it into place."""
    root = run / CHECKPOINTS
    final = root / f"step-{step:07d}"
    tmp = temporary_name(final, token="shared")  # every process must name the same folder
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        move_into_place(tmp, final)
        for old in sorted(root.glob("step-*"))[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def _load_latest_checkpoint(run: Path, accelerator) -> int:
    checkpoints = sorted((run / CHECKPOINTS).glob("step-*"))
    if not checkpoints:
        return 0
    accelerator.load_state(str(checkpoints[-1]))
    return int(checkpoints[-1].name.split("-")[1])


def _truncate_log(log_path: Path, step: int) -> None:
    if not log_path.is_file():
        return
    with open(log_path, newline="") as handle:
        rows = list(csv.reader(handle))
    kept = [row for row in rows[1:] if int(row[0]) <= step]
    with open(log_path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows(rows[:1] + kept)


def latest_step(run: str | os.PathLike) -> int:
    """The step of the newest complete checkpoint of a run (0 when none)."""
    checkpoints = sorted((Path(run) / CHECKPOINTS).glob("step-*"))
    return int(checkpoints[-1].name.split("-")[1]) if checkpoints else 0


def _warmup_cosine(warmup: int, total: int):
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def plot_loss(csv_path: Path, png_path: Path) -> Path:
    """Loss curve (raw and smoothed) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader(open(csv_path)))
    steps = np.array([int(r["step"]) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=100)
    ax.plot(steps, loss, alpha=0.3, label="loss")
    if len(loss) >= 20:
        k = max(5, len(loss) // 50)
        smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
        ax.plot(steps[k - 1 :], smooth, label=f"mean of {k}")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if (loss > 0).all():  # a run whose every clip is held logs zeros: no log axis for those
        ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png_path)
    plt.close(fig)
    return png_path
