"""Check one assignment notebook: lint, run, generate the release, autograde both versions, then each
exercise on its own and the trainer's wrong answers."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..notebooks import MARKERS, grade_id, hash_tree, is_autograder_test, nbgrader_meta
from ..settings import Grading
from .authoring import autograded_exercises, cell_name, lint_notebook, wrong_answers
from .nbgrader_setup import CELL_TIMEOUT, nbgrader_config, tools_on_path

CHECKER_VERSION = "4"  # bump when the checks change: invalidates the cache


@dataclass
class NotebookJob:
    course: str
    assignment: str
    notebook: Path  # source notebook, inside the assignment's source folder
    cell_timeout: int = CELL_TIMEOUT

    @property
    def where(self) -> str:
        return f"{self.course}/{self.assignment}/{self.notebook.name}"


@dataclass
class NotebookResult:
    where: str
    ok: bool
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cached: bool = False


def content_hash(job: NotebookJob) -> str:
    """Notebook + every file of its assignment folder + the checker's configuration."""
    return hash_tree(job.notebook.parent, salt=f"{CHECKER_VERSION}|{job.cell_timeout}|{job.notebook.name}")


def _text(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _blocks(text: str, begin: str, end: str) -> tuple[list[str], list[str]]:
    """(lines inside begin/end blocks, lines outside), stripped, blank lines dropped."""
    inside, outside, depth = [], [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(begin):
            depth = True
        elif stripped.startswith(end):
            depth = False
        elif stripped:
            (inside if depth else outside).append(stripped)
    return inside, outside


def _run_source(job: NotebookJob, out_dir: Path) -> list[str]:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    output = out_dir / f"executed-{job.notebook.name}"
    try:
        papermill.execute_notebook(
            str(job.notebook), str(output), cwd=str(job.notebook.parent),
            execution_timeout=job.cell_timeout, progress_bar=False, log_output=False,
        )
    except PapermillExecutionError as err:
        cells = nbformat.read(job.notebook, as_version=4).cells
        where = cell_name(cells[err.cell_index], err.cell_index) if err.cell_index < len(cells) else "a cell"
        return [f"{job.where}, {where}: raises {err.ename}: {err.evalue}"]
    except TimeoutError as err:  # nbclient's CellTimeoutError
        where = "a cell"
        if output.exists():
            executed = nbformat.read(output, as_version=4)
            # papermill marks the timed-out cell "completed" too: it is the last one that started
            for index, cell in enumerate(executed.cells):
                if cell.get("metadata", {}).get("papermill", {}).get("start_time"):
                    where = cell_name(cell, index)
        return [f"{job.where}, {where}: takes longer than {job.cell_timeout} s ({str(err).splitlines()[0]})"]
    return []


def _check_release(job: NotebookJob, source, release) -> list[str]:
    problems = []
    solution_lines, hidden_lines, visible = set(), set(), set()
    for cell in source.cells:
        text = _text(cell)
        sol_in, sol_out = _blocks(text, *MARKERS[0])
        hid_in, hid_out = _blocks(text, *MARKERS[1])
        solution_lines.update(sol_in)
        hidden_lines.update(hid_in)
        visible.update(set(sol_out) & set(hid_out))
    for index, cell in enumerate(release.cells):
        here = f"{job.where}, release {cell_name(cell, index)}"
        lines = {line.strip() for line in _text(cell).splitlines() if line.strip()}
        leaked = sorted((lines & solution_lines) - visible)
        if leaked:
            problems.append(f"{here}: solution code left in the learner version: {leaked[0]!r}")
        leaked = sorted((lines & hidden_lines) - visible)
        if leaked:
            problems.append(f"{here}: hidden test left in the learner version: {leaked[0]!r}")
        if any("HIDDEN TEST" in line.upper() for line in lines):
            problems.append(f"{here}: hidden-test text left in the learner version (misspelt marker?)")
        if "BEGIN SOLUTION" in _text(cell):
            problems.append(f"{here}: solution marker left in the learner version")
    for index, cell in enumerate(source.cells):
        meta = nbgrader_meta(cell)
        if not (meta.get("grade") or meta.get("locked") or meta.get("solution")):
            continue
        matches = [c for c in release.cells if grade_id(c) == grade_id(cell)]
        if not matches:
            problems.append(f"{job.where}, {cell_name(cell, index)}: missing from the learner version")
        elif "checksum" not in nbgrader_meta(matches[0]) and (meta.get("grade") or meta.get("locked")):
            problems.append(f"{job.where}, {cell_name(cell, index)}: no nbgrader checksum in the learner version")
    return problems


def _autograde(api, gradebook_url: str, job: NotebookJob, student: str, folder: Path, course_root: Path):
    from nbgrader.api import Gradebook

    target = course_root / "submitted" / student / job.assignment
    shutil.copytree(folder, target)
    result = api.autograde(job.assignment, student, force=True, create=True)
    if not result.get("success"):
        return None, f"{job.where}: nbgrader autograde of the {student} version failed: {result.get('error')}"
    with Gradebook(gradebook_url) as gradebook:
        submission = gradebook.find_submission_notebook(job.notebook.stem, job.assignment, student)
        scores = {g.name: (g.auto_score, g.max_score) for g in submission.grades if g.cell.cell_type == "code"}
    return scores, None


def platform_scores(learner_nb, source_path: Path, cell_timeout: int, sandbox=None) -> dict[str, float]:
    """Per test cell, what the platform's own grader (sandboxed runner) gives this notebook."""
    from ..grading import executor
    from ..grading.autograde import runner_cells, trainer_imports

    source_nb = nbformat.read(source_path, as_version=4)
    tests = {grade_id(c): c for c in source_nb.cells if is_autograder_test(c) and grade_id(c)}
    nb = nbformat.reads(nbformat.writes(learner_nb), as_version=4)
    for cell in nb.cells:
        if grade_id(cell) in tests:
            cell.source = tests[grade_id(cell)].source  # hidden tests back, as nbgrader's OverwriteCells does
    # The grading service's memory limit (an address-space limit hides surprises: a library reserving
    # address space ahead hangs a kernel under it); more time, as checks run many notebooks side by side.
    limits = executor.Limits(cell_timeout, 20 * cell_timeout, Grading.memory_mb, 20 * cell_timeout, 256)
    reply = executor.run(runner_cells(nb), trainer_imports(source_path), source_path.parent, limits, sandbox=sandbox)
    if reply.get("outcome") != "done":
        raise RuntimeError(f"the platform's grader stopped: {reply.get('outcome')} at cell {reply.get('cell')} "
                           f"{reply.get('error', '')}".strip())
    results = reply.get("tests") or {}
    return {grade_id(cell): float(nbgrader_meta(cell).get("points", 0)) if (results.get(str(i)) or {}).get("passed")
            else 0.0 for i, cell in enumerate(nb.cells) if is_autograder_test(cell)}


def _compare_with_platform(job: NotebookJob, label: str, nbgrader_scores: dict, learner_nb) -> list[str]:
    try:
        ours = platform_scores(learner_nb, job.notebook, job.cell_timeout)
    except RuntimeError as err:
        return [f"{job.where}, {label} version: {err}"]
    return [f"{job.where}, cell '{name}': the platform's grader gives the {label} version {ours.get(name)}, "
            f"nbgrader {score}" for name, (score, _) in nbgrader_scores.items() if ours.get(name) != float(score or 0)]


def _generate_and_grade(job: NotebookJob, course_root: Path) -> list[str]:
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    source_dir = course_root / "source" / job.assignment
    shutil.copytree(job.notebook.parent, source_dir,
                    ignore=lambda d, names: [n for n in names if n.endswith(".ipynb") and n != job.notebook.name])
    config = nbgrader_config(course_root, job.cell_timeout)
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    result = api.generate_assignment(job.assignment, force=True, create=True)
    release_nb = course_root / "release" / job.assignment / job.notebook.name
    if not result.get("success") or not release_nb.exists():
        return [f"{job.where}: nbgrader generate_assignment failed: {result.get('log') or result.get('error')}"]
    source = nbformat.read(job.notebook, as_version=4)
    problems = _check_release(job, source, nbformat.read(release_nb, as_version=4))
    url = config.CourseDirectory.db_url
    solved, error = _autograde(api, url, job, "solution", source_dir, course_root)
    if error:
        return problems + [error]
    for name, (score, max_score) in solved.items():
        if score != max_score:
            problems.append(f"{job.where}, cell '{name}': the solution scores {score}/{max_score}, not full marks")
    untouched, error = _autograde(api, url, job, "release", release_nb.parent, course_root)
    if error:
        return problems + [error]
    for name, (score, max_score) in untouched.items():
        if score:
            problems.append(
                f"{job.where}, cell '{name}': the untouched learner version scores {score}/{max_score}, not 0")
    # The platform grades with its own runner: it must agree with nbgrader on both versions.
    problems += _compare_with_platform(job, "solution", solved, source)
    problems += _compare_with_platform(job, "learner", untouched, nbformat.read(release_nb, as_version=4))
    if not problems:
        problems += variant_problems(job, source, nbformat.read(release_nb, as_version=4))
    return problems


def _variant(source, replace: dict[int, str]):
    nb = nbformat.reads(nbformat.writes(source), as_version=4)
    for index, text in replace.items():
        nb.cells[index].source = text
    return nb


def blank_sets(count: int) -> list[list[int]]:
    """Sets of exercise numbers to leave blank together, by the bits of each number: for any two
    exercises, some set holds the first and not the second (every dependency is seen), in 2·log2(n) runs
    instead of n."""
    sets = []
    for bit in range(max(1, (count - 1).bit_length())):
        for value in (1, 0):
            numbers = [n for n in range(count) if (n >> bit) & 1 == value]
            if numbers and (len(numbers) < count or count == 1):
                sets.append(numbers)
    return sets


def variant_problems(job: NotebookJob, source, release) -> list[str]:
    """Each exercise on its own, and the trainer's wrong answers, graded by the platform's grader.

    Runs are batched (a run per round, not per exercise): sets of exercises left blank (chosen so that
    every exercise is blank in some run where any other is not), then every exercise's first wrong answer
    at once, then every second one... In each run a
    blank or wrong exercise must score 0 on its test cells (or on those its wrong answer lists in
    `fails`; its other parts are not judged), and every other exercise keeps full marks: no exercise
    depends on another's answer.
    """
    exercises = autograded_exercises(source.cells)
    released = {grade_id(c): c.source for c in release.cells if grade_id(c)}
    rounds: list[Round] = []
    for numbers in blank_sets(len(exercises)):
        blank = [exercises[n] for n in numbers]
        rounds.append(Round("left blank", {i: released.get(grade_id(source.cells[i]), "")
                                           for e in blank for i in e.solutions},
                            {t: (e, "left blank") for e in blank for t in e.tests}))
    variants = {e.name: [(i, w) for i in e.solutions for w in wrong_answers(source.cells[i])] for e in exercises}
    for k in range(max((len(v) for v in variants.values()), default=0)):
        run = Round(f"wrong answers #{k + 1}", {}, {})
        for e in exercises:
            if len(variants[e.name]) <= k:
                continue
            index, wrong = variants[e.name][k]
            run.replace[index] = str(wrong.get("code", ""))
            listed = set(wrong.get("fails") or [])
            why = f"wrong answer #{k + 1} ({wrong.get('why') or 'no reason given'})"
            for t in e.tests:
                run.expect[t] = (e, why if not listed or grade_id(source.cells[t]) in listed else None)
        rounds.append(run)
    problems = []
    for run in rounds:
        try:
            scores = platform_scores(_variant(source, run.replace), job.notebook, job.cell_timeout)
        except RuntimeError as err:
            problems.append(f"{job.where}, run with exercises {run.label}: {err}")
            continue
        problems += run.judge(job.where, source, scores, exercises)
    return problems


@dataclass
class Round:
    label: str
    replace: dict  # cell index -> the source it gets in this run
    expect: dict  # test cell index -> (exercise, why it must score 0, or None: not judged); others: full marks

    def judge(self, where: str, source, scores: dict, exercises) -> list[str]:
        problems = []
        for index, cell in enumerate(source.cells):
            name, full = grade_id(cell), float(nbgrader_meta(cell).get("points") or 0)
            if name not in scores:
                continue
            exercise, why = self.expect.get(index, (None, None))
            if exercise is not None and why and scores[name]:
                problems.append(f"{where}, exercise '{exercise.name}': {why} scores {scores[name]:g} on "
                                f"'{name}', not 0 (its tests let a wrong or lazy answer pass)")
            elif exercise is None and scores[name] != full:
                before = [e.name for e in exercises if any(i in self.replace and i < index for i in e.solutions)]
                problems.append(f"{where}, cell '{name}': {scores[name]:g}/{full:g} when exercise(s) "
                                f"{', '.join(repr(b) for b in before) or '?'} are {self.label.split(' #')[0]}: each "
                                "exercise must be gradable on its own (a checkpoint cell after the exercise it needs)")
        return problems
def check_notebook(job: NotebookJob) -> NotebookResult:
    """All checks of one notebook (runs in a worker process)."""
    started = time.monotonic()
    tools_on_path()
    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy session noise from the gradebook
    errors = lint_notebook(job.notebook, job.where)
    if not errors:
        with tempfile.TemporaryDirectory(prefix="af-check-") as tmp:
            errors = _run_source(job, Path(tmp))
            if not errors:
                course_root = Path(tmp) / "course"
                course_root.mkdir()
                errors = _generate_and_grade(job, course_root)
    return NotebookResult(job.where, not errors, errors, time.monotonic() - started)


class CheckCache:
    """Hashes of notebooks that passed, one empty file per hash."""

    def __init__(self, directory: Path):
        self.directory = directory / "courses-check"

    def passed(self, key: str) -> bool:
        return (self.directory / key).exists()

    def record(self, key: str, result: NotebookResult) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / key).write_text(json.dumps({"where": result.where, "seconds": result.seconds}))
