"""The lab's modules import one another without a circle (function-level imports included).

trainer <-> callbacks <-> loggers <-> recorders once formed one: NaNGuard imported the
recorders, which imported the callbacks, and the Trainer stashed the batch for them.
Imports under ``if TYPE_CHECKING:`` are for annotations only and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import deepgrad

SRC = Path(deepgrad.__file__).resolve().parent


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Modules of deepgrad that ``path`` imports at run time (anywhere in the file)."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for child in node.body for n in ast.walk(child))
    package = _module(path) if path.name == "__init__.py" else _module(path).rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("deepgrad"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("deepgrad"):
                found.add(target)
                found.update(f"{target}.{a.name}" for a in node.names)
    return found


def lab_graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in (SRC / "lab").rglob("*.py")}
    return {name: {m for m in _imports(path) if m in modules and m != name}
            for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_lab_has_no_import_cycle() -> None:
    graph = lab_graph()
    # ``from deepgrad.lab import zoo`` names the package only to reach a sibling: the
    # edge to the sibling counts, the one to the enclosing package does not
    for name in graph:
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".")}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_trainer_knows_no_loggers_recorders_or_run_folders() -> None:
    deps = lab_graph()["deepgrad.lab.trainer"]
    for other in ("loggers", "recorders", "run_setup", "run_folder", "fit", "progress"):
        assert not any(d.startswith(f"deepgrad.lab.{other}") for d in deps), other


def test_only_run_setup_builds_loggers_and_recorders() -> None:
    users = {name for name, deps in lab_graph().items()
             if any(d.startswith(("deepgrad.lab.loggers", "deepgrad.lab.recorders"))
                    for d in deps)}
    builders = {u for u in users if not u.startswith("deepgrad.lab.recorders")}
    assert builders <= {"deepgrad.lab.run_setup", "deepgrad.lab"}, builders
