"""Authoring lint: mistakes in nbgrader source notebooks, found before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

from ..notebooks import BEGIN_SOLUTION, END_SOLUTION, MARKERS, grade_id, nbgrader_meta


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def cell_name(cell: dict, index: int) -> str:
    name = grade_id(cell)
    return f"cell '{name}'" if name else f"cell #{index}"


def _balance(text: str, begin: str, end: str) -> str | None:
    depth = 0
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(begin):
            if depth:
                return f"'{begin}' opened twice without '{end}'"
            depth = 1
        elif stripped.startswith(end):
            if not depth:
                return f"'{end}' without a preceding '{begin}'"
            depth = 0
    return f"'{begin}' is never closed by '{end}'" if depth else None


def lint_notebook(path: Path, where: str) -> list[str]:
    """Every authoring problem of one notebook, each as a message starting with `where` (course/assignment/nb)."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook["cells"]
        if not isinstance(cells, list):
            raise TypeError("'cells' is not a list")
    except (ValueError, KeyError, TypeError) as err:
        return [f"{where}: malformed notebook JSON: {err}"]
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(cells):
        meta = nbgrader_meta(cell)
        text = _source(cell)
        here = f"{where}, {cell_name(cell, index)}"
        for begin, end in MARKERS:
            problem = _balance(text, begin, end)
            if problem:
                problems.append(f"{here}: unbalanced markers: {problem}")
        if meta.get("solution") and BEGIN_SOLUTION not in text:
            problems.append(f"{here}: solution cell without '{BEGIN_SOLUTION}' / '{END_SOLUTION}' markers")
        if not meta.get("solution") and BEGIN_SOLUTION in text:
            problems.append(f"{here}: '{BEGIN_SOLUTION}' in a cell not marked as a solution (nbgrader keeps it)")
        if "BEGIN HIDDEN TESTS" in text and not meta.get("grade"):
            problems.append(f"{here}: hidden-test markers in a cell that is not a graded test cell")
        if meta.get("grade"):
            points = meta.get("points")
            if not isinstance(points, (int, float)) or isinstance(points, bool) or points <= 0:
                problems.append(f"{here}: graded cell without points (set nbgrader points > 0)")
        name = grade_id(cell)
        if name:
            if name in seen:
                problems.append(f"{here}: duplicate grade id '{name}' (also cell #{seen[name]})")
            seen.setdefault(name, index)
        elif meta.get("grade") or meta.get("solution") or meta.get("locked"):
            problems.append(f"{here}: nbgrader cell without a grade_id")
    return problems
