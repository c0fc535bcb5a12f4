"""Small builders for nbgrader source cells (nbgrader 0.9.6, schema_version 3)."""

import nbformat

_counter = {"n": 0}


def _meta(grade_id: str, *, solution: bool, grade: bool, locked: bool, points: int | None = None) -> dict:
    meta = {"schema_version": 3, "grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _auto_id(prefix: str) -> str:
    _counter["n"] += 1
    return f"{prefix}-{_counter['n']:02d}"


def md(text: str) -> nbformat.NotebookNode:
    """An explanation cell, locked so the lesson stays intact."""
    meta = _meta(_auto_id("lecon"), solution=False, grade=False, locked=True)
    return nbformat.v4.new_markdown_cell(text.strip(), metadata=meta)


def code(text: str) -> nbformat.NotebookNode:
    """A worked-example or setup cell the learner runs as is."""
    meta = _meta(_auto_id("exemple"), solution=False, grade=False, locked=True)
    return nbformat.v4.new_code_cell(text.strip(), metadata=meta)


def exercise(grade_id: str, solution: str, tests: str, points: int = 1) -> list[nbformat.NotebookNode]:
    """A solution cell followed by its locked, autograded test cell."""
    return [
        nbformat.v4.new_code_cell(solution.strip(), metadata=_meta(grade_id, solution=True, grade=False, locked=False)),
        nbformat.v4.new_code_cell(
            tests.strip(), metadata=_meta(f"{grade_id}-tests", solution=False, grade=True, locked=True, points=points)
        ),
    ]


def free_text(grade_id: str, answer: str, points: int = 2) -> nbformat.NotebookNode:
    """A manually graded free-text answer (the answer is the trainer's reference)."""
    text = f"### BEGIN SOLUTION\n{answer.strip()}\n### END SOLUTION"
    meta = _meta(grade_id, solution=True, grade=True, locked=False, points=points)
    return nbformat.v4.new_markdown_cell(text, metadata=meta)


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    flat = []
    for cell in cells:
        flat.extend(cell if isinstance(cell, list) else [cell])
    for cell in flat:
        cell.id = cell.metadata["nbgrader"]["grade_id"]  # stable ids: rebuilding gives the same file
    nb.cells = flat
    _counter["n"] = 0
    return nb


def write(nb: nbformat.NotebookNode, path) -> None:
    nbformat.validate(nb)
    nbformat.write(nb, str(path))
