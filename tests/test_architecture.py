"""The layers of ARCHITECTURE.md, checked on the source: imports only go down."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vfxgen"


def _imports(file: Path) -> set[str]:
    """Every vfxgen module a file imports, at the top or inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if n == "vfxgen" or n.startswith("vfxgen.")}


def _files(sub: str) -> list[Path]:
    return sorted((PACKAGE / sub).rglob("*.py"))


FORBIDDEN = {
    # layer: modules it must never import
    "io": ("vfxgen.shot", "vfxgen.pipelines", "vfxgen.models", "vfxgen.training", "vfxgen.cli", "vfxgen.batch",
           "vfxgen.settings", "vfxgen.farm", "vfxgen.qc"),
    "models": ("vfxgen.pipelines", "vfxgen.io", "vfxgen.cli", "vfxgen.training", "vfxgen.shot"),
    "pipelines": ("vfxgen.cli", "vfxgen.training", "vfxgen.batch", "vfxgen.farm"),
    # A family's code never reaches up into the generic pipeline, the CLI, batches, training or files.
    "backbones": ("vfxgen.pipelines.rgba", "vfxgen.pipelines.conditioning", "vfxgen.cli", "vfxgen.batch",
                  "vfxgen.training", "vfxgen.shot", "vfxgen.io", "vfxgen.farm", "vfxgen.settings"),
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_go_down(layer: str) -> None:
    offenders = [
        f"{file.relative_to(PACKAGE.parent)} imports {name}"
        for file in _files(layer)
        for name in sorted(_imports(file))
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])
    ]
    assert offenders == []


def test_nothing_outside_the_cli_imports_the_cli() -> None:
    offenders = [
        f"{file.relative_to(PACKAGE.parent)} imports {name}"
        for file in sorted(PACKAGE.rglob("*.py"))
        if "cli" not in file.relative_to(PACKAGE).parts and file.name != "__main__.py"
        for name in _imports(file)
        if name == "vfxgen.cli" or name.startswith("vfxgen.cli.")
    ]
    assert offenders == []


def test_no_module_reaches_into_another_modules_private_names() -> None:
    offenders = []
    for file in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vfxgen."):
                here = ".".join(file.relative_to(PACKAGE.parent).with_suffix("").parts)
                private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                if private and node.module != here and not file.name == "__init__.py":
                    offenders.append(f"{here} imports {node.module}.{private[0]}")
    assert offenders == []


def test_conditioning_talks_to_a_backbone_through_the_pipelines_public_methods() -> None:
    """No circle: the generic pipeline imports conditioning (animate), conditioning imports neither the
    pipeline nor a backbone's runtime, and calls no private method of either."""
    file = PACKAGE / "pipelines" / "conditioning.py"
    imported = _imports(file)
    assert not [n for n in imported if n.startswith(("vfxgen.pipelines.rgba", "vfxgen.backbones"))]
    private_calls = [
        node.attr
        for node in ast.walk(ast.parse(file.read_text()))
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and isinstance(node.value, ast.Name)
        and node.value.id in ("pipeline", "runtime", "pipe")
    ]
    assert private_calls == []


def test_every_package_ships_in_the_wheel() -> None:
    """pyproject lists packages by hand: a new subpackage left out installs as missing modules."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(PACKAGE.parent).parts) for p in PACKAGE.rglob("__init__.py")}
    assert found - listed == set()
