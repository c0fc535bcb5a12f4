"""Cells in nbgrader's source format, with the platform's conventions, for scripts that write notebooks.

The notebooks under `courses/` are the source: trainers edit them in JupyterLab (nbgrader's "Create
Assignment" toolbar does the same as these functions). This module is for the rare bulk edit from a
script: every cell gets an explicit id chosen by its author (never a position: inserting a cell must
not rename the others, or grading would overwrite learners' cells with the wrong locked ones).

Conventions (checked by `autoformation courses check`, see CONTRIBUTING.md):
- lesson text and examples are locked cells;
- an exercise is a solution cell (answer between solution markers) followed by its graded test
  cell(s): one test cell per part when an exercise has parts (partial credit);
- the solution cell carries `metadata.autoformation.wrong`: plausible wrong answers that must score
  zero on the exercise, and the test cells may carry `metadata.autoformation.level`.
"""

from __future__ import annotations

import re

import nbformat

from ..catalogue import LEVELS
from ..notebooks import BEGIN_SOLUTION, END_SOLUTION

__all__ = ["LEVELS", "POSITIONAL_ID", "code", "free_text", "md", "notebook", "solution", "tests"]
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
POSITIONAL_ID = re.compile(r"^(lecon|exemple|cell|code|markdown)-\d+$")


def _meta(cell_id: str, *, solution: bool, grade: bool, locked: bool, points: float | None = None) -> dict:
    if not ID_PATTERN.match(cell_id) or POSITIONAL_ID.match(cell_id):
        raise ValueError(f"cell id {cell_id!r}: give a name that says what the cell holds (a-z, 0-9, -)")
    meta = {"schema_version": 3, "grade_id": cell_id, "solution": solution, "grade": grade, "locked": locked}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _cell(new, cell_id: str, text: str, meta: dict):
    cell = new(text.strip(), metadata=meta)
    cell.id = cell_id  # the notebook's cell id is the grade id: one name per cell
    return cell


def md(cell_id: str, text: str):
    """Lesson text, locked so the lesson stays intact."""
    return _cell(nbformat.v4.new_markdown_cell, cell_id, text, _meta(cell_id, solution=False, grade=False, locked=True))


def code(cell_id: str, text: str):
    """An example or a checkpoint the learner runs as it is."""
    return _cell(nbformat.v4.new_code_cell, cell_id, text, _meta(cell_id, solution=False, grade=False, locked=True))


def solution(cell_id: str, text: str, wrong: list[dict]):
    """The learner's cell: `text` holds the answer between solution markers; `wrong` the trainer's
    plausible wrong answers ({"why": ..., "code": ...}), each of which must score zero."""
    if BEGIN_SOLUTION not in text or END_SOLUTION not in text:
        raise ValueError(f"{cell_id}: the answer goes between '{BEGIN_SOLUTION}' and '{END_SOLUTION}'")
    meta = _meta(cell_id, solution=True, grade=False, locked=False)
    meta["autoformation"] = {"wrong": [dict(w) for w in wrong]}
    return _cell(nbformat.v4.new_code_cell, cell_id, text, meta)


def tests(cell_id: str, text: str, points: float, level: str = "débutant"):
    """A graded test cell: visible asserts, then hidden ones between the hidden-test markers."""
    if level not in LEVELS:
        raise ValueError(f"{cell_id}: level {level!r} is not one of {', '.join(LEVELS)}")
    meta = _meta(cell_id, solution=False, grade=True, locked=True, points=points)
    meta["autoformation"] = {"level": level}
    return _cell(nbformat.v4.new_code_cell, cell_id, text, meta)


def free_text(cell_id: str, answer: str, points: float, level: str = "débutant"):
    """A free-text answer graded by a trainer (`answer` is the trainer's reference)."""
    meta = _meta(cell_id, solution=True, grade=True, locked=False, points=points)
    meta["autoformation"] = {"level": level}
    text = f"{BEGIN_SOLUTION}\n{answer.strip()}\n{END_SOLUTION}"
    return _cell(nbformat.v4.new_markdown_cell, cell_id, text, meta)


def notebook(cells: list):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    nb.cells = list(cells)
    nbformat.validate(nb)
    return nb
