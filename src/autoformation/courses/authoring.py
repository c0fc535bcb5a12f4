"""Authoring lint: mistakes in nbgrader source notebooks, found before anything runs."""

from __future__ import annotations

import ast
import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from ..notebooks import (
    BEGIN_HIDDEN_TESTS,
    BEGIN_SOLUTION,
    END_SOLUTION,
    MARKERS,
    grade_id,
    hidden_blocks,
    is_autograder_test,
    nbgrader_meta,
    platform_meta,
)
from .cells import LEVELS, POSITIONAL_ID


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


@dataclass
class AutoExercise:
    """An autograded exercise: solution cell(s), then the test cells that follow (one per part)."""

    name: str  # the first solution cell's grade id
    solutions: list[int] = field(default_factory=list)  # cell indices
    tests: list[int] = field(default_factory=list)


def autograded_exercises(cells: list) -> list[AutoExercise]:
    found: list[AutoExercise] = []
    current = None
    for index, cell in enumerate(cells):
        meta = nbgrader_meta(cell)
        if cell.get("cell_type") == "code" and meta.get("solution") and not meta.get("grade"):
            if current is None or current.tests:
                current = AutoExercise(grade_id(cell) or f"#{index}")
                found.append(current)
            current.solutions.append(index)
        elif is_autograder_test(cell) and current is not None:
            current.tests.append(index)
    return [exercise for exercise in found if exercise.tests]


def wrong_answers(cell: dict) -> list:
    wrong = platform_meta(cell).get("wrong")
    return wrong if isinstance(wrong, list) else []


def _test_cell_problems(text: str, here: str) -> list[str]:
    problems = []
    if BEGIN_HIDDEN_TESTS in text:
        before = text.split(BEGIN_HIDDEN_TESTS, 1)[0]
        if any(line.strip().startswith(("print(", "display(")) for line in before.splitlines()):
            problems.append(f"{here}: prints before the hidden tests (a learner would read it as passed "
                            "before the hidden tests run): put the message after the hidden block")
    for block in hidden_blocks(text):
        try:
            tree = ast.parse(textwrap.dedent(block))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert) and node.msg is not None and not (
                    isinstance(node.msg, ast.Constant) and isinstance(node.msg.value, str)):
                problems.append(f"{here}: a hidden assert's message must be a plain string (line "
                                f"{node.lineno} of the hidden block): it is shown to the learner, and a "
                                "computed one could reveal the answer")
    return problems


def _wrong_problems(cells: list, where: str) -> list[str]:
    problems = []
    for exercise in autograded_exercises(cells):
        test_ids = {grade_id(cells[i]) for i in exercise.tests}
        variants = [w for i in exercise.solutions for w in wrong_answers(cells[i])]
        if not variants:
            problems.append(f"{where}, exercise '{exercise.name}': no wrong answer (metadata.autoformation.wrong "
                            "of its solution cell): give at least one plausible mistake that must score 0")
        for number, variant in enumerate(variants, 1):
            if not isinstance(variant, dict) or not str(variant.get("code", "")).strip():
                problems.append(f"{where}, exercise '{exercise.name}': wrong answer #{number} has no code")
                continue
            unknown = set(variant.get("fails") or []) - test_ids
            if unknown:
                problems.append(f"{where}, exercise '{exercise.name}': wrong answer #{number} names "
                                f"'{sorted(unknown)[0]}', not one of its test cells ({', '.join(sorted(test_ids))})")
    return problems


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
        if is_autograder_test(cell):
            problems += _test_cell_problems(text, here)
        level = platform_meta(cell).get("level")
        if level is not None and level not in LEVELS:
            problems.append(f"{here}: level '{level}' is not one of {', '.join(LEVELS)}")
        for cell_id in {grade_id(cell) or "", str(cell.get("id") or "")} - {""}:
            if POSITIONAL_ID.match(cell_id):
                problems.append(f"{here}: id '{cell_id}' is a position, not a name: inserting a cell "
                                "would shift it (name it after what it holds)")
        editable = not any(meta.get(key) for key in ("locked", "solution", "grade", "task"))
        if cell.get("cell_type") in ("markdown", "code") and editable and text.strip():
            problems.append(f"{here}: neither an exercise nor read-only: lesson text and examples are locked "
                            "(nbgrader toolbar: \"Read-only\"), or a new release could not update them")
        name = grade_id(cell)
        if name:
            if name in seen:
                problems.append(f"{here}: duplicate grade id '{name}' (also cell #{seen[name]})")
            seen.setdefault(name, index)
        elif meta.get("grade") or meta.get("solution") or meta.get("locked"):
            problems.append(f"{here}: nbgrader cell without a grade_id")
    return problems + _wrong_problems(cells, where)
