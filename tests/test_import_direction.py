"""Imports go one way: the service reads the real portal, the simulator only imitates it.

`service/portal/` (the client, the parser, the API's table) never imports
`service/simulator/`; the simulator may import the API's table, whose rows it
serves. Only the simulator's users import it: the demo, `dvcwatch simulator`
(`service/cli.py`), the benchmarks and the tests. The walk reads every `import`
of `service/` and `jobs/` by `ast`, those inside functions included.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIMULATOR = "service.simulator"
#: Outside the simulator's own package, the modules that run it.
SIMULATOR_USERS = frozenset({"service/demo.py", "service/cli.py"})


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in `path`: `from a.b import c` gives a.b and a.b.c."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def imports_of(path: Path, package: str) -> list[str]:
    return sorted(
        {
            f"{line}: {name}"
            for line, name in imported(path)
            if name == package or name.startswith(package + ".")
        }
    )


def modules(*folders: str) -> Iterator[tuple[str, Path]]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path


def test_the_portal_client_never_imports_the_simulator():
    found = {name: imports_of(path, SIMULATOR) for name, path in modules("service/portal")}
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_only_the_simulator_s_users_import_it():
    found = {
        name: imports_of(path, SIMULATOR)
        for name, path in modules("service", "jobs")
        if not name.startswith("service/simulator/") and name not in SIMULATOR_USERS
    }
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_the_walk_sees_every_form_of_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import service.simulator.server\n"
        "from service.simulator import generated\n"
        "from service.portal import api\n"
        "def late():\n"
        "    from service.simulator.simulator import main\n"
        "from service import simulator\n"
    )
    assert imports_of(module, SIMULATOR) == [
        "1: service.simulator.server",
        "2: service.simulator",
        "2: service.simulator.generated",
        "5: service.simulator.simulator",
        "5: service.simulator.simulator.main",
        "6: service.simulator",
    ]
