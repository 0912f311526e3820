"""`python -m vfxgen ...` runs the CLI."""

from vfxgen.cli.app import main

main()
