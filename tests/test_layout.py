"""The house: the package's halls follow the pipeline and its imports point down only.

Read from the source with `ast`, every import of the package's own modules counts, at module
level or inside a function: an import moved into a function to dodge a circle is still an arrow.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "oracle_bones"

# What each hall may import of the package: halls below it in the pipeline's import order.
BELOW = {
    "files": set(),
    "hub": set(),
    "glyphs": {"glyphs"},
    "model": {"glyphs", "files"},
    "data": {"data", "glyphs", "files", "hub"},
    "reading": {"reading", "model", "glyphs", "hub", "data"},  # data: the readings table
    "training": {"training", "reading", "model", "data", "glyphs", "files", "hub"},
    "space": {"space", "reading", "model", "data", "glyphs", "files", "hub"},
    "publish": {"data", "model", "hub"},
    "__init__": {"glyphs", "hub", "reading"},
    "cli": {"training", "space", "reading", "model", "data", "glyphs", "files", "hub", "publish"},
    "__main__": {"cli"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def own_imports(path: Path) -> set[str]:
    """The package's modules that `path` imports, resolved to dotted names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("oracle_bones"):
                continue
            for alias in node.names:  # `from . import model` imports a module
                sub = f"{target}.{alias.name}"
                found.add(
                    sub
                    if (PACKAGE.parent / sub.replace(".", "/")).exists()
                    or (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists()
                    else target
                )
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("oracle_bones")}
    return found - {name}


def graph() -> dict[str, set[str]]:
    return {module_name(p): own_imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def hall(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_no_import_circle() -> None:
    try:
        order = list(TopologicalSorter(graph()).static_order())
    except CycleError as e:
        pytest.fail(f"import circle: {' -> '.join(e.args[1])}")
    assert "oracle_bones.reading.recognizer" in order


def test_every_arrow_points_down_the_pipeline() -> None:
    wrong = [
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in targets
        if target != "oracle_bones" and hall(target) not in BELOW[hall(module)]
    ]
    assert not wrong, wrong
    # the package's face is imported by nobody inside it (it would pull the recogniser in)
    assert not [m for m, t in graph().items() if "oracle_bones" in t and m != "oracle_bones"]


def test_the_halls_are_the_pipeline() -> None:
    halls = {hall(m) for m in graph()}
    assert halls == set(BELOW), halls ^ set(BELOW)


def test_segmentation_does_not_import_the_recognizer() -> None:
    """The recogniser is handed to the segmentation as a callable, so the segmentation imports
    only the glyph modules below it."""
    own = own_imports(PACKAGE / "reading" / "inscription.py")
    assert own <= {
        "oracle_bones.glyphs.glyph",
        "oracle_bones.glyphs.photo",
        "oracle_bones.glyphs.upright",
    }, own


def test_serving_does_not_import_training() -> None:
    """The app's path (the recogniser and what the Space needs) never loads training code."""
    g = graph()
    seen, todo = set(), ["oracle_bones.reading.recognizer", "oracle_bones.space.serving"]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(g.get(m, ()))
    light = ("oracle_bones.data.sources", "oracle_bones.data.readings")  # tables, no datasets
    assert not {m for m in seen if hall(m) == "training"}, seen
    assert not {m for m in seen if hall(m) == "data" and not m.startswith(light)}, seen
