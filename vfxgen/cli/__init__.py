"""Command-line interface: thin Typer modules over the Python API."""
