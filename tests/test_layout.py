"""The layout's rules that import-linter cannot see by itself (the contracts are in pyproject.toml)."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import cartelsim

ROOT = Path(__file__).resolve().parents[1]


def _contract(name_start: str) -> dict:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c["name"].startswith(name_start))


def test_the_cli_contract_forbids_every_module_but_the_api():
    """A module added to the package is forbidden to the CLI too, unless the contract is told otherwise."""
    forbidden = set(_contract("The CLI reaches the package only through the API")["forbidden_modules"])
    top = {f"cartelsim.{m.name}" for m in pkgutil.iter_modules(cartelsim.__path__)}
    assert top - forbidden == {"cartelsim.api", "cartelsim.cli"}
    assert forbidden <= top  # no stale name


def test_the_loop_is_the_only_step_loop():
    """Layers and validation experiments never copy the weekly loop: only simulation.py calls flows.apply."""
    src = ROOT / "src" / "cartelsim"
    callers = sorted(str(p.relative_to(src)) for p in src.rglob("*.py") if "flows.apply(" in p.read_text())
    assert callers == ["simulation.py"]


def _module_imports() -> dict[str, set[str]]:
    """Each module's module-level imports of other cartelsim modules (TYPE_CHECKING blocks excluded)."""
    import ast

    src = ROOT / "src"
    paths = {".".join(p.relative_to(src).with_suffix("").parts).removesuffix(".__init__"): p
             for p in (src / "cartelsim").rglob("*.py")}  # fmt: skip
    graph: dict[str, set[str]] = {}
    for name, p in paths.items():
        pkg = name if p.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.parse(p.read_text()).body:  # top-level statements only
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([*pkg.split(".")[: len(pkg.split(".")) - node.level + 1], *[base] * bool(base)])
                subs = {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in paths}
                found.update(subs or {base})
        graph[name] = {t for t in found if t in paths and t != name}
    return graph


def test_no_module_level_import_cycle():
    """Function-level imports remain only to save start-up time: none may hold a cycle together."""
    graph = _module_imports()
    assert "cartelsim.simulation" in graph["cartelsim.experiments"]  # the scan sees real imports
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(v: str, path: list[str]) -> None:
        state[v] = 1
        for w in sorted(graph[v]):
            assert state.get(w) != 1, "import cycle: " + " -> ".join([*path[path.index(w) :], w])
            if w not in state:
                visit(w, [*path, w])
        state[v] = 2

    for v in sorted(graph):
        if v not in state:
            visit(v, [v])
