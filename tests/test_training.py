"""Training: the loss falls on a fixed batch, stage alpha touches only the LoRA, resume is exact."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from vfxgen.errors import UsageError
from vfxgen.training.architectures import init_model
from vfxgen.training.data import RGBAClipDataset, write_dataset
from vfxgen.training.synth import synth_dataset_items
from vfxgen.training.train import TrainConfig, _load_components, _make_stage, latest_step, train


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    items = ((rgba, caption, el) for el, caption, rgba in synth_dataset_items(12, 9, 32, 32, seed=0))
    write_dataset(items, root / "data", source="test")
    init_model(root / "model", arch="test", seed=0)
    return root


def config(workdir, name, **kw):
    base = dict(
        model=str(workdir / "model"),
        data=str(workdir / "data"),
        output=str(workdir / name),
        steps=4,
        batch=2,
        rank=4,
        lora_alpha=4.0,
        lr=1e-3,
        warmup_steps=1,
        checkpoint_every=2,
        caption_dropout=0.0,
    )
    return TrainConfig(**{**base, **kw})


@pytest.mark.parametrize("stage", ["rgb", "alpha", "vae"])
def test_steps_reduce_loss_on_a_fixed_batch(workdir, stage):
    cfg = config(workdir, f"fixed-{stage}", stage=stage)
    (workdir / cfg.output).mkdir(exist_ok=True)
    torch.manual_seed(0)
    trainer = _make_stage(cfg, _load_components(cfg), RGBAClipDataset(cfg.data), torch.device("cpu"))
    params = [p for p in trainer.module.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=1e-2 if stage == "alpha" else 3e-3)
    indices = np.array([0, 1])

    def fixed_loss():
        return trainer.loss(indices, np.random.default_rng(123))

    with torch.no_grad():
        before = fixed_loss().item()
    for _ in range(8):
        optimizer.zero_grad()
        fixed_loss().backward()
        optimizer.step()
    with torch.no_grad():
        after = fixed_loss().item()
    # Stage alpha trains only the LoRA, which reaches the RGB half's loss only through attention.
    assert after < (0.98 if stage == "alpha" else 0.9) * before


def test_alpha_stage_changes_only_lora_and_domain_embedding(workdir):
    cfg = config(workdir, "only-lora", stage="alpha")
    (workdir / cfg.output).mkdir(exist_ok=True)
    trainer = _make_stage(cfg, _load_components(cfg), RGBAClipDataset(cfg.data), torch.device("cpu"))
    before = {n: p.detach().clone() for n, p in trainer.module.named_parameters()}
    optimizer = torch.optim.AdamW([p for p in trainer.module.parameters() if p.requires_grad], lr=1e-2)
    for step in range(2):
        trainer.loss(np.array([step, step + 1]), np.random.default_rng(step)).backward()
        optimizer.step()
        optimizer.zero_grad()
    changed = {n for n, p in trainer.module.named_parameters() if not torch.equal(p, before[n])}
    assert changed
    assert all(".rgba_lora." in n or n == "patch_embed.domain_emb" for n in changed)
    assert "patch_embed.domain_emb" in changed


def _losses(run):
    with open(run / "loss.csv") as handle:
        return {int(r["step"]): float(r["loss"]) for r in csv.DictReader(handle)}


def test_resume_continues_from_checkpoint_and_matches_uninterrupted(workdir):
    full = train(config(workdir, "full-run", stage="alpha"))
    assert (full / "transpixar_lora.safetensors").is_file() and (full / "loss.png").is_file()

    def stop_after_three(step, total, loss):
        if step == 3:
            raise KeyboardInterrupt  # the job is killed after the step-2 checkpoint

    cut = config(workdir, "cut-run", stage="alpha")
    with pytest.raises(KeyboardInterrupt):
        train(cut, on_step=stop_after_three)
    assert latest_step(workdir / "cut-run") == 2
    cut.resume = True
    resumed = train(cut)
    a, b = _losses(full), _losses(resumed)
    assert sorted(b) == [1, 2, 3, 4]
    for step in (3, 4):
        assert b[step] == pytest.approx(a[step], rel=1e-5)


def test_existing_run_is_not_overwritten(workdir):
    from vfxgen.errors import OutputExistsError

    (workdir / "busy").mkdir()
    (workdir / "busy" / "keep.txt").write_text("x")
    with pytest.raises(OutputExistsError):
        train(config(workdir, "busy", stage="alpha"))
    assert (workdir / "busy" / "keep.txt").read_text() == "x"


def test_dataset_synth_command_writes_usable_clips(tmp_path):
    from typer.testing import CliRunner

    from vfxgen.cli.app import app

    result = CliRunner().invoke(app, ["dataset", "synth", "-o", str(tmp_path / "d"), "--count", "9", "--size", "32"])
    assert result.exit_code == 0, result.output
    data = RGBAClipDataset(tmp_path / "d")
    assert len(data) == 9 and data.info.frames == 9
    elements = {entry["element"] for entry in data.entries}
    assert len(elements) == 9  # every element once in the first nine items
    for i in range(len(data)):
        rgba, caption = data[i]
        alpha = rgba[..., 3]
        assert caption
        assert (alpha > 0.05).mean() > 0.005 and alpha.max() > 0.5  # a visible element
        assert (alpha == 0).mean() > 0.2  # transparent background
        assert np.all(rgba[..., :3][alpha == 0] == 0)  # premultiplication-consistent: no colour without alpha


def test_the_trained_lora_and_model_record_the_rgb_convention(workdir):
    """`--rgb straight` trains on the stored colour as is; what was used travels with the weights, so
    generation reads the RGB half the way it was taught (vfxgen.pipelines.recipe)."""
    from vfxgen.pipelines.recipe import read_safetensors_header, resolve_recipe

    run = train(config(workdir, "straight-run", stage="alpha", steps=1, rgb="straight"))
    lora = run / "transpixar_lora.safetensors"
    recipe = json.loads(read_safetensors_header(lora)["__metadata__"]["vfxgen:recipe"])
    assert recipe["rgb"] == "straight"
    assert resolve_recipe({}, lora).rgb == "straight"
    rgb_run = train(config(workdir, "rgb-run", stage="rgb", steps=1))
    hints = json.loads((rgb_run / "model" / "vfxgen.json").read_text())
    assert hints["recipe"]["rgb"] == "premultiplied" and hints["trained_with"]["stage"] == "rgb"
    assert "highlights" not in hints  # clipped data: a clipped model


def test_a_model_trained_on_hot_core_data_records_the_encoding_it_learnt(workdir):
    """The data's colour encoding (`dataset synth --hot-cores`) is what the weights' RGB means: the trained
    model's vfxgen.json carries it, so generation decodes the top of the range above 1.0."""
    from vfxgen.highlights import HOT_CORES
    from vfxgen.pipelines.model_dirs import resolve_model

    items = synth_dataset_items(4, 9, 32, 32, seed=1, elements=("sparks",), highlights=HOT_CORES)
    write_dataset(((rgba, c, el) for el, c, rgba in items), workdir / "data-hot", source="test", highlights=HOT_CORES)
    run = train(config(workdir, "hot-run", stage="rgb", steps=1, data=str(workdir / "data-hot")))
    assert json.loads((run / "model" / "vfxgen.json").read_text())["highlights"] == HOT_CORES.to_dict()
    assert resolve_model(run / "model").highlights == HOT_CORES


def test_decoder_polish_with_motion_loss_keeps_the_latent_space(workdir):
    """`--vae-decoder-only --vae-motion-weight`: the motion term adds to the loss, training lowers it, and the
    encoder (the latent space the transformer and LoRA were trained on) does not move."""
    cfg = config(workdir, "vae-motion", stage="vae", vae_decoder_only=True, vae_motion_weight=1.0).check()
    (workdir / cfg.output).mkdir(exist_ok=True)
    torch.manual_seed(0)
    trainer = _make_stage(cfg, _load_components(cfg), RGBAClipDataset(cfg.data), torch.device("cpu"))
    plain = _make_stage(
        config(workdir, "vae-motion", stage="vae", vae_decoder_only=True), _load_components(cfg),
        RGBAClipDataset(cfg.data), torch.device("cpu"),
    )
    plain.module.load_state_dict(trainer.module.state_dict())
    encoder = {n: p.detach().clone() for n, p in trainer.module.encoder.named_parameters()}
    indices = np.array([0, 1])

    def fixed_loss(stage):
        torch.manual_seed(1)  # the posterior sample
        return stage.loss(indices, np.random.default_rng(123))

    with torch.no_grad():
        before, without_motion = fixed_loss(trainer).item(), fixed_loss(plain).item()
    assert before > without_motion
    optimizer = torch.optim.Adam([p for p in trainer.module.parameters() if p.requires_grad], lr=3e-3)
    for _ in range(8):
        optimizer.zero_grad()
        fixed_loss(trainer).backward()
        optimizer.step()
    with torch.no_grad():
        assert fixed_loss(trainer).item() < 0.9 * before
    assert all(torch.equal(p, encoder[n]) for n, p in trainer.module.encoder.named_parameters())


def test_a_negative_motion_weight_is_refused(workdir):
    with pytest.raises(UsageError, match="vae-motion-weight"):
        config(workdir, "neg", stage="vae", vae_motion_weight=-1.0).check()


def test_init_lora_starts_the_alpha_stage_from_a_saved_adapter_and_keeps_training_it(workdir):
    """A warm start (`--init-lora`): the stage's LoRA and domain embedding are the file's before the first step,
    still trainable, and a run from it exports an adapter that moved on from it."""
    from vfxgen.models.transpixar import read_rgba_lora, rgba_lora_state_dict

    start = train(config(workdir, "init-source", stage="alpha")) / "transpixar_lora.safetensors"
    saved, _ = read_rgba_lora(start)
    lora_b = [k for k in saved if k.endswith("lora_B.weight")]
    assert all(saved[k].abs().max() > 0 for k in lora_b)  # trained: lora_B starts at zero

    cfg = config(workdir, "init-stage", stage="alpha", init_lora=str(start))
    (workdir / cfg.output).mkdir(exist_ok=True)
    trainer = _make_stage(cfg, _load_components(cfg), RGBAClipDataset(cfg.data), torch.device("cpu"))
    loaded = rgba_lora_state_dict(trainer.module)
    assert loaded.keys() == saved.keys()
    assert all(torch.equal(loaded[k], saved[k].to(loaded[k].dtype)) for k in saved)
    trainable = {n for n, p in trainer.module.named_parameters() if p.requires_grad}
    assert "patch_embed.domain_emb" in trainable and any(".rgba_lora." in n for n in trainable)

    warm = train(config(workdir, "init-warm", stage="alpha", steps=2, lr=1e-4, init_lora=str(start)))
    after, _ = read_rgba_lora(warm / "transpixar_lora.safetensors")
    for key in lora_b:  # moved on from the file, by small steps: not a fresh zero LoRA
        assert not torch.equal(after[key], saved[key])
        assert (after[key] - saved[key]).norm() < 0.25 * saved[key].norm()


def test_init_lora_of_another_shape_or_stage_is_one_line_before_anything_is_written(workdir):
    start = train(config(workdir, "init-shape", stage="alpha", steps=1)) / "transpixar_lora.safetensors"
    with pytest.raises(UsageError, match=r"has rank 4 and LoRA alpha 4; the run has --rank 8") as info:
        train(config(workdir, "init-wrong-rank", stage="alpha", rank=8, init_lora=str(start)))
    assert "--rank 4 --lora-alpha 4" in info.value.hint
    assert not (workdir / "init-wrong-rank").exists()
    with pytest.raises(UsageError, match="does not exist"):
        train(config(workdir, "init-missing", stage="alpha", init_lora=str(workdir / "nope.safetensors")))
    with pytest.raises(UsageError, match="--stage rgb has none"):
        train(config(workdir, "init-rgb", stage="rgb", init_lora=str(start)))
    assert not (workdir / "init-missing").exists() and not (workdir / "init-rgb").exists()

    from typer.testing import CliRunner

    from vfxgen.cli.app import app

    model, data, out = (str(workdir / name) for name in ("model", "data", "init-cli"))
    args = ["train", "--model", model, "--data", data, "-o", out]
    result = CliRunner().invoke(app, [*args, "--init-lora", str(start)])  # --rank left at 128: the file has 4
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == UsageError.exit_code and len(lines) == 1, result.output
    assert lines[0].startswith("error: --init-lora") and "pass --rank 4 --lora-alpha 4" in lines[0]
    assert not (workdir / "init-cli").exists()


def _elements(workdir) -> list[str]:
    return sorted({entry["element"] for entry in RGBAClipDataset(workdir / "data").entries})


def _index_of(data: RGBAClipDataset, element: str, other: bool = False) -> int:
    return next(i for i, e in enumerate(data.entries) if (e["element"] == element) != other)


@pytest.mark.parametrize("stage", ["rgb", "alpha"])
def test_a_held_clip_is_trained_toward_the_starting_models_own_prediction(workdir, stage):
    """`--hold-elements`: a held clip's target is the frozen starting model's prediction at the same noisy input,
    so at the start it adds exactly nothing to the loss, while a free clip keeps its data loss and gradient."""
    held_name = _elements(workdir)[0]
    data = RGBAClipDataset(workdir / "data")
    held, free = _index_of(data, held_name), _index_of(data, held_name, other=True)
    stages = {}
    for name, hold in (("plain", ()), ("hold", (held_name,))):
        cfg = config(workdir, f"hold-{stage}-{name}", stage=stage, hold_elements=hold)
        (workdir / cfg.output).mkdir(exist_ok=True)
        torch.manual_seed(0)
        stages[name] = _make_stage(cfg, _load_components(cfg), data, torch.device("cpu"))
    assert stages["plain"].teacher is None
    # The teacher snapshots only what the stage trains; the frozen base is shared with the student.
    module, teacher = stages["hold"].module, stages["hold"].teacher
    trained = sum(p.numel() for p in module.parameters() if p.requires_grad)
    assert sum(w.numel() for w in teacher.parameters()) == trained
    if stage == "alpha":
        assert trained < sum(p.numel() for p in module.parameters()) / 4

    def loss(name, indices):
        return stages[name].loss(np.array(indices), np.random.default_rng(7))

    assert loss("hold", [held, held]).item() == 0.0  # the student is the teacher before any step
    assert loss("plain", [held, held]).item() > 0.0
    mixed, plain = loss("hold", [held, free]), loss("plain", [held, free]).item()
    assert 0.0 < mixed.item() < plain  # the free clip's data term is left, the held clip's is gone
    mixed.backward()
    assert module.training  # the teacher's eval-mode pass leaves the student training
    assert any(p.grad is not None and p.grad.abs().max() > 0 for p in module.parameters() if p.requires_grad)
    assert all(p.grad is None for p in stages["hold"].teacher.parameters())


def test_holding_every_element_leaves_the_weights_exactly_as_they_started_even_across_a_resume(workdir):
    """Held everywhere, a run moves nothing (loss 0 at every step, so no gradient); held in part, a resumed run
    equals an uninterrupted one: the teacher is the starting model, not the checkpoint it resumed from."""
    from safetensors.torch import load_file

    everything = tuple(_elements(workdir))
    still = train(config(workdir, "hold-all", stage="rgb", steps=2, hold_elements=everything))
    assert set(_losses(still).values()) == {0.0}
    before = load_file(workdir / "model" / "transformer" / "diffusion_pytorch_model.safetensors")
    after = load_file(still / "model" / "transformer" / "diffusion_pytorch_model.safetensors")
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)

    part = everything[:2]
    full = train(config(workdir, "hold-full", stage="rgb", hold_elements=part))

    def stop_after_three(step, total, loss):
        if step == 3:
            raise KeyboardInterrupt

    cut = config(workdir, "hold-cut", stage="rgb", hold_elements=part)
    with pytest.raises(KeyboardInterrupt):
        train(cut, on_step=stop_after_three)
    cut.resume = True
    a, b = _losses(full), _losses(train(cut))
    assert all(b[step] == pytest.approx(a[step], rel=1e-5) for step in (3, 4))
    assert any(a[step] > 0 for step in a)  # the free elements trained


def test_hold_elements_that_cannot_hold_are_one_line_before_anything_is_written(workdir):
    with pytest.raises(UsageError, match="no clip of the dataset") as info:
        train(config(workdir, "hold-typo", stage="rgb", hold_elements=("dusst",)))
    assert "use elements it has: " in info.value.hint and _elements(workdir)[0] in info.value.hint
    with pytest.raises(UsageError, match="--stage vae has none"):
        train(config(workdir, "hold-vae", stage="vae", hold_elements=("dust",)))
    with pytest.raises(UsageError, match="a trained text encoder moves"):
        train(config(workdir, "hold-t5", stage="rgb", train_text_encoder=True, hold_elements=("dust",)))
    assert not any((workdir / name).exists() for name in ("hold-typo", "hold-vae", "hold-t5"))

    from typer.testing import CliRunner

    from vfxgen.cli.app import app

    model, data, out = (str(workdir / name) for name in ("model", "data", "hold-cli"))
    args = ["train", "--model", model, "--data", data, "-o", out, "--stage", "rgb", "--hold-elements", "dust, nope"]
    result = CliRunner().invoke(app, args)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == UsageError.exit_code and len(lines) == 1, result.output
    assert lines[0].startswith("error: --hold-elements nope: no clip") and not (workdir / "hold-cli").exists()
