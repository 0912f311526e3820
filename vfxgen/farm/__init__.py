"""Farm submission: job scripts and templates that run `vfxgen generate --shard I/N` on real schedulers.

- `vfxgen.farm.job`: `FarmJob`, the one description every engine renders (shot list, output root, shard
  count, the exact python and the further `generate` options).
- `vfxgen.farm.slurm`: a Slurm array job script, one array task per shard.
- `vfxgen.farm.openjd`: an Open Job Description job template (AWS Deadline Cloud, `openjd run`), one task
  per shard.

Torch-free and model-free: rendering a job never loads a model. Everything that makes the work safe to
split and to requeue (`--shard`, `--resume`, locks, atomic shots) lives in `vfxgen generate` itself.
"""

from vfxgen.farm.job import FarmJob
from vfxgen.farm.openjd import job_template
from vfxgen.farm.slurm import slurm_script

__all__ = ["FarmJob", "job_template", "slurm_script"]
