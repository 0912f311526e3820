"""Imports every command module; each registers itself on the app with `vfxgen.cli.app.register`."""

# ruff: noqa: F401
from vfxgen.cli import animate, generate
