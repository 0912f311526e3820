"""Imports every command module; each registers itself on the app with `vfxgen.cli.app.register`."""

# ruff: noqa: F401, I001
from vfxgen.cli import animate
from vfxgen.cli import composite
from vfxgen.cli import dataset
from vfxgen.cli import export
from vfxgen.cli import generate
from vfxgen.cli import matte
from vfxgen.cli import farm
from vfxgen.cli import train
from vfxgen.cli import eval_flow, presets
from vfxgen.cli import qc
