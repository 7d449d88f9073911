"""The command line only parses, calls one workflow and prints: every cli module imports nothing of
dermsim but the workflows (which re-export the result types), the cli package itself, ``errors``
and the package version. (import-linter's "user interfaces call workflows only" contract says the
same for the import graph; this test names the module and the line.)"""

from __future__ import annotations

import ast
from pathlib import Path

import dermsim.cli

ALLOWED = ("dermsim.workflows", "dermsim.cli", "dermsim.errors")


def _dermsim_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "dermsim"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "dermsim":  # `from dermsim import __version__` (and nothing else)
                found += [(node.lineno, f"dermsim.{a.name}") for a in node.names]
            elif node.module.split(".")[0] == "dermsim":
                found.append((node.lineno, node.module))
    return found


def test_cli_modules_import_only_workflows_and_result_types() -> None:
    modules = sorted(Path(dermsim.cli.__file__).parent.glob("*.py"))
    assert len(modules) >= 10

    def allowed(name: str) -> bool:
        return name == "dermsim.__version__" or any(name == a or name.startswith(a + ".") for a in ALLOWED)

    bad = [f"{p.name}:{line}: {name}" for p in modules for line, name in _dermsim_imports(p)
           if not allowed(name)]
    assert not bad, "cli modules reach past dermsim.workflows:\n" + "\n".join(bad)


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("from dermsim.workflows import run_virtual_trial\nimport dermsim.model.simulate\n"
                 "from dermsim.report.format import fmt_num\n")
    assert _dermsim_imports(f) == [(1, "dermsim.workflows"), (2, "dermsim.model.simulate"),
                                   (3, "dermsim.report.format")]


def test_every_command_is_mapped_to_the_modules_that_register_it() -> None:
    # main imports only the modules of the command it runs (cli._COMMAND_MODULES): a command
    # missing from the map would be reachable only through the help
    from dermsim.cli import _COMMAND_MODULES, app, register_commands

    register_commands()
    registered = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert registered == set(_COMMAND_MODULES)


def test_a_simulate_run_loads_neither_the_analysis_nor_the_trial_layers() -> None:
    # what the lazy workflows package and per-command registration are for; a fresh interpreter,
    # as this one has loaded everything
    import subprocess
    import sys

    code = ("import sys; from dermsim.cli import main; main(['simulate', '--help']); "
            "print(sorted(m for m in ('dermsim.workflows.analysis', 'dermsim.trial', 'statsmodels', "
            "'matplotlib') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
