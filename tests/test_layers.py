"""Imports go one way: jobs → alerts, notices → delivery → channels, and the
formatting and calendar modules every one of them uses import none of them. A module
that imports upwards (even inside a function, even for type checking) fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import PROJECT

#: package or module → what it must not import (a name and everything under it).
BELOW = {
    "service/delivery": ("service.alerts", "service.notices", "service.commands", "jobs"),
    "service/channels": ("service.alerts", "service.notices", "service.delivery", "jobs"),
    "service/vnformat.py": ("service.alerts", "service.notices", "service.delivery", "jobs"),
    "service/calendar.py": ("service.alerts", "service.notices", "service.delivery", "jobs"),
}


def _imported(path: Path) -> set[str]:
    """Every module `path` imports, at the top or anywhere inside."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("place", sorted(BELOW))
def test_a_lower_layer_imports_nothing_above_it(place):
    root = PROJECT / place
    files = sorted(root.rglob("*.py")) if root.is_dir() else [root]
    assert files, f"{place} holds no module"
    wrong = [
        f"{path.relative_to(PROJECT)} imports {name}"
        for path in files
        for name in sorted(_imported(path))
        if any(name == upper or name.startswith(f"{upper}.") for upper in BELOW[place])
    ]
    assert wrong == []


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from service.alerts import lines\n", encoding="utf-8")
    assert "service.alerts.lines" in _imported(module)
