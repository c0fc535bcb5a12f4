"""Grade one learner notebook: sanitise (trusted), execute in the sandbox, save and read back the grades."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..catalogue import Course

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
SANDBOX_COMMAND = ["unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--mount-proc"]


@dataclass
class Limits:
    cell_timeout: int
    wall_timeout: int
    memory_mb: int
    cpu_seconds: int
    max_output_kb: int
    max_file_mb: int = 64
    max_processes: int = 64

    @classmethod
    def from_settings(cls, settings) -> Limits:
        g = settings.grading
        return cls(g.cell_timeout, g.timeout, g.memory_mb, g.cpu_seconds, g.max_output_kb)


@dataclass
class CellResult:
    grade_id: str
    points: float
    max_points: float


@dataclass
class GradeResult:
    status: str  # graded | rejected | timeout | crashed
    message: str
    score: float = 0.0
    max_score: float = 0.0
    cells: list[CellResult] = field(default_factory=list)
    feedback_html: str = ""
    retryable: bool = False


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


def data_files(source_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(source_dir)): base64.b64encode(p.read_bytes()).decode()
            for p in sorted(source_dir.rglob("*"))
            if p.is_file() and p.suffix != ".ipynb" and ".ipynb_checkpoints" not in p.parts}


PIDS_CGROUP = Path("/sys/fs/cgroup/pids")


def pids_cgroup(limit: int) -> Path | None:
    """A cgroup-v1 pids group bounding the sandbox's processes, when this machine lets us make one.

    RLIMIT_NPROC does not bind a sandbox started by real root; this does.
    """
    try:
        group = Path(tempfile.mkdtemp(prefix="autoformation-", dir=PIDS_CGROUP))
        (group / "pids.max").write_text(str(limit))
        return group
    except OSError:
        return None


def kill_group(group: Path) -> None:
    import time

    for _ in range(50):
        pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    try:
        group.rmdir()
    except OSError:
        pass


def run_in_sandbox(nb, files: dict, limits: Limits, hide_paths: list[Path]) -> dict | None:
    """The sandbox's reply, or None when it died, overran its wall clock or answered nonsense."""
    request = json.dumps({"notebook": nb, "files": files, "hide": [str(p) for p in hide_paths],
                          "limits": limits.__dict__}).encode()
    max_reply = 64 * 1024 * 1024
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")}
    group = pids_cgroup(limits.max_processes + 16)

    def enter_group():
        if group:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    try:
        with tempfile.TemporaryFile() as reply_file:
            proc = subprocess.Popen(SANDBOX_COMMAND + [sys.executable, "-m", "autoformation.grading.sandbox"],
                                    stdin=subprocess.PIPE, stdout=reply_file, stderr=subprocess.DEVNULL,
                                    start_new_session=True, env=env, preexec_fn=enter_group)
            try:
                proc.communicate(request, timeout=limits.wall_timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return {"outcome": "wall"}
            reply_file.seek(0)
            data = reply_file.read(max_reply + 1)
    finally:
        if group:
            kill_group(group)
    if len(data) > max_reply:
        return None
    try:
        reply = json.loads(data)
        reply["notebook"] = nbformat.from_dict(reply["notebook"]) if "notebook" in reply else None
    except (ValueError, TypeError, KeyError):
        return None
    return reply if isinstance(reply, dict) else None


def mark_silent_errors(nb, status: dict[str, str], stop: int | None) -> None:
    """Grade cells whose reply was an error but show none, or never ran, get an error output."""
    from nbformat.v4 import new_output

    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("grade"):
            continue
        has_error = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        ran = str(index) in status and (stop is None or index < stop)
        if ran and status[str(index)] == "ok" or has_error and ran:
            continue
        reason = "NotRun" if not ran else "HiddenError"
        text = ("Cette cellule n'a pas été exécutée." if not ran
                else "Cette cellule a échoué (l'erreur a été masquée).")
        cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "error"]
        cell.outputs.append(new_output("error", ename=reason, evalue=text, traceback=[f"{reason}: {text}"]))


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
        return cells, float(sum(c.points for c in cells)), float(sum(c.max_points for c in cells))


def grade_submission(course: Course, assignment_id: str, notebook_name: str, student: str,
                     notebook_bytes: bytes, gradebook_url: str, limits: Limits,
                     hide_paths: list[Path]) -> GradeResult:
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
    resources = resources_for(course, assignment_id, notebook, student, gradebook_url)
    try:
        nb = sanitise(nb, resources)
    except Exception:
        return rejected("Le notebook envoyé n'a pas la structure attendue (cellules de l'exercice abîmées). "
                        "Repartez d'une copie fraîche de l'exercice.")
    reply = run_in_sandbox(nb, data_files(assignment.source_dir), limits, hide_paths)
    broken = reply is None or reply.get("outcome") == "error"
    if broken or (reply.get("outcome") != "wall" and not reply.get("notebook")):
        return GradeResult("crashed", "La correction a échoué de façon inattendue. Réessayez ; si le problème "
                           "persiste, prévenez votre formateur.", retryable=True)
    if reply["outcome"] == "wall":
        return GradeResult("timeout", f"Le temps limite de {limits.wall_timeout} s pour l'ensemble du notebook a "
                           "été dépassé (boucle infinie ?).", retryable=True)
    executed = reply["notebook"]
    stop = reply.get("cell")
    mark_silent_errors(executed, reply.get("status", {}), stop if reply["outcome"] != "done" else None)
    cells, score, max_score = save_and_read(executed, resources, course, assignment_id, notebook, student,
                                            gradebook_url)
    html = feedback_html(executed, resources, course, assignment_id, notebook, student, gradebook_url)
    status, message, retry = "graded", "Votre notebook a été corrigé.", False
    where = f"à la cellule {stop + 1}" if isinstance(stop, int) else ""
    if reply["outcome"] == "timeout":
        status, retry = "timeout", True
        message = f"Le temps limite de {limits.cell_timeout} s a été dépassé {where} (boucle infinie ?)."
    elif reply["outcome"] == "dead":
        message = (f"Le noyau Python s'est arrêté {where} (os._exit, mémoire, plantage) : les cellules suivantes "
                   "n'ont pas été exécutées et comptent 0.")
    return GradeResult(status, message, score, max_score, cells, html, retry)
