"""The web view is an entrypoint: nothing below imports it; the command line only starts it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported(path: Path) -> set[str]:
    """The top-level packages a module imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", ["ledger", "projections"])
def test_read_side_and_domain_never_import_the_web_view(package: str) -> None:
    offenders = [p for p in (ROOT / package).rglob("*.py") if "web" in imported(p)]
    assert offenders == []


def test_only_the_serve_command_imports_the_web_view() -> None:
    modules = (ROOT / "scripts").rglob("*.py")
    users = sorted(p.relative_to(ROOT).as_posix() for p in modules if "web" in imported(p))
    assert users == ["scripts/read/serve.py"]


def test_web_view_never_imports_the_command_line() -> None:
    offenders = [p for p in (ROOT / "web").rglob("*.py") if "scripts" in imported(p)]
    assert offenders == []
