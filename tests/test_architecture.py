"""The package's shape: no import cycle, and the learner side stands alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "autoformation"
# What a learner's server runs (material sync, self-check, submit, the JupyterLab extension): it must
# import nothing of the hub side, so that the package installs alone in a learner image.
LEARNER_SIDE = {"autoformation.learner", "autoformation.material", "autoformation.selfcheck",
                "autoformation.jupyterlab", "autoformation.cli", "autoformation.notebooks", "autoformation.names",
                "autoformation.defi"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Each module of the package and the package modules it imports (at any level of the file)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            found |= {t for t in targets if t in modules and t != name}
        graph[name] = found
    return graph


def test_no_import_cycle():
    graph = imports()
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                pytest.fail("import cycle: " + " -> ".join(path[path.index(target):] + [target]))
            if target not in state:
                visit(target, path + [target])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_the_learner_side_imports_nothing_of_the_hub_side():
    graph = imports()
    for module in sorted(LEARNER_SIDE - {"autoformation.cli"}):
        reached, todo = set(), [module]
        while todo:
            current = todo.pop()
            for target in graph[current] - reached:
                reached.add(target)
                todo.append(target)
        assert reached <= LEARNER_SIDE | {"autoformation"}, f"{module} reaches {sorted(reached - LEARNER_SIDE)}"
