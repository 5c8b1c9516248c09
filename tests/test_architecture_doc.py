"""docs/architecture.md and the tree agree: every folder and module is on the map, and every
path on the map exists; every module says what it owns in a docstring and keeps within 400
lines (benchmarks/ and dev.py included)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
PACKAGES = ("ledger", "projections", "scripts", "web", "benchmarks")


def modules() -> list[Path]:
    return sorted(
        p.relative_to(ROOT)
        for package in PACKAGES
        for p in (ROOT / package).rglob("*.py")
        if p.name != "__init__.py"
    )


def test_every_module_is_named_on_the_map() -> None:
    missing = [str(m) for m in modules() if m.name not in DOC and m.stem not in DOC]
    assert missing == []


def test_every_folder_is_named_on_the_map() -> None:
    folders = {m.parent for m in modules()}
    missing = [str(f) for f in sorted(folders) if f"{f.name}/" not in DOC]
    assert missing == []


def test_every_path_the_map_names_exists() -> None:
    named = set(
        re.findall(r"`((?:ledger|projections|scripts|web|benchmarks|tests)/[\w/.]+?\.py)", DOC)
    )
    assert named, "the map names no module paths"
    assert sorted(p for p in named if not (ROOT / p).exists()) == []


def test_every_module_says_what_it_owns() -> None:
    silent = [
        str(m) for m in modules() if not re.match(r'\s*(#.*\n)*\s*"""', (ROOT / m).read_text())
    ]
    assert silent == []


def test_no_module_outside_tests_is_over_400_lines() -> None:
    code = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    code += ROOT.glob("*.py")  # dev.py
    lines = {str(p.relative_to(ROOT)): len(p.read_bytes().splitlines()) for p in code}
    assert "dev.py" in lines and "benchmarks/generator.py" in lines
    over = [f"{path} ({count} lines)" for path, count in sorted(lines.items()) if count > 400]
    assert not over, "over 400 lines: " + "; ".join(over)


LAYERS = {"ledger": {"projections", "scripts", "web"}, "projections": {"scripts", "web"}}


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports (absolute imports)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_dependencies_point_one_way_scripts_to_projections_to_ledger() -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & above)
        for layer, above in LAYERS.items()
        for path in (ROOT / layer).rglob("*.py")
        if imported_packages(path) & above
    }
    assert wrong == {}
