"""Grade one learner notebook: sanitise (trusted), execute in the sandbox, save and read back the grades."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat

from ..catalogue import Course
from ..notebooks import MAX_NOTEBOOK_BYTES, is_autograder_test
from .executor import Limits
from .store import CellResult, GradeResult


def rejected(message: str) -> GradeResult:
    return GradeResult("rejected", message)


def parse(notebook_bytes: bytes) -> nbformat.NotebookNode | str:
    """The notebook, or a French message saying why it cannot be read."""
    if len(notebook_bytes) > MAX_NOTEBOOK_BYTES:
        return (f"Le fichier envoyé est trop gros ({len(notebook_bytes) // 1024} Ko, "
                f"au plus {MAX_NOTEBOOK_BYTES // 1024} Ko).")
    try:
        data = json.loads(notebook_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return "Le fichier envoyé n'est pas un notebook valide (JSON illisible)."
    if not isinstance(data, dict) or "cells" not in data or not isinstance(data.get("nbformat"), int):
        return "Le fichier envoyé n'est pas un notebook Jupyter (il manque la liste des cellules)."
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(nb)
    except Exception:
        return "Le fichier envoyé n'est pas un notebook valide (structure incorrecte)."
    return nb


def resources_for(course: Course, assignment_id: str, notebook: str, student: str, url: str) -> dict:
    return {"nbgrader": {"assignment": assignment_id, "notebook": notebook, "student": student, "db_url": url,
                         "course_id": course.id}, "metadata": {}}


def sanitise(nb, resources):
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteCells,
        OverwriteKernelspec,
    )

    for pre in (ClearOutput(), DeduplicateIds(), OverwriteKernelspec(), OverwriteCells(add_missing_cells=True),
                CheckCellMetadata()):
        nb, resources = pre.preprocess(nb, resources)
    return nb


def runner_cells(nb) -> list[dict]:
    """What the runner does with each cell: test cells in its own interpreter, the others in the kernel."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            cells.append({"kind": "skip", "source": ""})
        elif is_autograder_test(cell):
            cells.append({"kind": "test", "source": cell.source})
        else:
            cells.append({"kind": "code", "source": cell.source})
    return cells


def trainer_imports(source_notebook: Path) -> str:
    """The import statements of the trainer's notebook (the tests' trusted names)."""
    import ast

    nb = nbformat.read(source_notebook, as_version=4)
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython magics: look at the cell line by line
            tree = ast.Module([n for line in cell.source.splitlines() for n in _parse_line(line)], [])
        lines += [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    return "\n".join(dict.fromkeys(lines))


def _parse_line(line: str) -> list:
    import ast

    try:
        return ast.parse(line.strip()).body
    except SyntaxError:
        return []


def apply_reply(nb, submitted: dict, reply: dict) -> tuple[int | None, bool]:
    """The graded notebook: runner outputs on test cells, the learner's own outputs elsewhere."""
    from nbformat.v4 import new_output

    stop = reply.get("cell") if reply.get("outcome") != "done" else None
    tests = reply.get("tests") if isinstance(reply.get("tests"), dict) else {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        result = tests.get(str(index))
        if result is None and is_autograder_test(cell):
            reason = "TimeoutError" if index == stop and reply.get("outcome") == "timeout" else "NotRun"
            text = ("Le temps limite a été dépassé." if reason == "TimeoutError"
                    else "Cette cellule n'a pas été exécutée.")
            cell.outputs = [new_output("error", ename=reason, evalue=text, traceback=[f"{reason}: {text}"])]
        elif result is not None:
            cell.outputs = [nbformat.from_dict(o) for o in result.get("outputs", [])][:20]
            if not result.get("passed") and not any(o.get("output_type") == "error" for o in cell.outputs):
                cell.outputs.append(new_output("error", ename="AssertionError", evalue="", traceback=[]))
        else:
            cell.outputs = submitted.get(cell.get("id"), [])
    return stop, bool(tests)


def save_and_read(nb, resources, course, assignment_id, notebook, student,
                  url) -> tuple[list[CellResult], float, float]:
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import LimitOutput, SaveAutoGrades

    with Gradebook(url, course_id=course.id) as gb:
        gb.update_or_create_student(student)
        try:
            gb.find_submission(assignment_id, student)
        except Exception:
            gb.update_or_create_submission(assignment_id, student)
    for pre in (LimitOutput(), SaveAutoGrades()):
        nb, resources = pre.preprocess(nb, resources)
    with Gradebook(url, course_id=course.id) as gb:
        sub = gb.find_submission_notebook(notebook, assignment_id, student)
        cells = [CellResult(g.name, float(g.score or 0), float(g.max_score)) for g in sub.grades
                 if g.cell_type == "code"]
        cells.sort(key=lambda c: c.grade_id)
        # One total everywhere: free-text answers count in the maximum, and wait for a trainer's grade.
        total = float(sum(g.max_score for g in sub.grades))
        return cells, float(sum(c.points for c in cells)), total


def submitted_outputs(nb) -> dict:
    """The learner's own outputs, from before grading began: the only ones their feedback shows."""
    return {cell.get("id"): copy.deepcopy(cell.get("outputs", [])) for cell in nb.cells
            if cell.cell_type == "code" and cell.get("id")}


def grade_submission(course: Course, assignment_id: str, notebook_name: str, student: str,
                     notebook_bytes: bytes, gradebook_url: str, limits: Limits, sandbox=None) -> GradeResult:
    from . import executor
    from .feedback import feedback_html

    assignment = next((a for a in course.assignments if a.id == assignment_id), None)
    if assignment is None:
        return rejected(f"Le cours « {course.title} » n'a pas d'exercice « {assignment_id} ».")
    notebook = notebook_name[:-6] if notebook_name.endswith(".ipynb") else notebook_name
    if notebook not in [p.stem for p in assignment.notebooks]:
        return rejected(f"Le notebook « {notebook_name} » ne fait pas partie de l'exercice « {assignment.title} ».")
    nb = parse(notebook_bytes)
    if isinstance(nb, str):
        return rejected(nb)
    submitted = submitted_outputs(nb)
    resources = resources_for(course, assignment_id, notebook, student, gradebook_url)
    try:
        nb = sanitise(nb, resources)
    except Exception:
        return rejected("Le notebook envoyé n'a pas la structure attendue (cellules de l'exercice abîmées). "
                        "Repartez d'une copie fraîche de l'exercice.")
    imports = trainer_imports(assignment.source_dir / f"{notebook}.ipynb")
    reply = executor.run(runner_cells(nb), imports, assignment.source_dir, limits, sandbox=sandbox)
    outcome = reply.get("outcome")
    if outcome == "wall":
        return GradeResult("timeout", f"Le temps limite de {limits.wall_timeout} s pour l'ensemble du notebook a "
                           "été dépassé (boucle infinie ?).")
    if outcome not in ("done", "timeout", "dead"):
        return GradeResult("crashed", "La correction a échoué de façon inattendue. Réessayez ; si le problème "
                           "persiste, prévenez votre formateur.", retryable=True)
    stop, _ = apply_reply(nb, submitted, reply)
    cells, score, max_score = save_and_read(nb, resources, course, assignment_id, notebook, student,
                                            gradebook_url)
    html = feedback_html(nb, resources, course, assignment_id, notebook, student, gradebook_url)
    status, message = "graded", "Votre notebook a été corrigé."
    where = f"à la cellule {stop + 1}" if isinstance(stop, int) else ""
    if outcome == "timeout":
        # The learner's own code ran out of time: no retry, it would only do the same again.
        status = "timeout"
        message = f"Le temps limite de {limits.cell_timeout} s a été dépassé {where} (boucle infinie ?)."
    elif outcome == "dead":
        message = (f"Le noyau Python s'est arrêté {where} (os._exit, mémoire, plantage) : les cellules suivantes "
                   "n'ont pas été exécutées et comptent 0.")
    return GradeResult(status, message, score, max_score, cells, html)
