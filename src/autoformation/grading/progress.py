"""Where each learner stands: per course, assignment, notebook and exercise.

Derived, never stored twice: the exercises come from the courses' source notebooks (notebooks.exercises:
their graded cells), the results from the latest graded submission of each notebook.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalogue import LEVELS, Course
from ..notebooks import notebook_exercises
from .store import DONE, Store, Submission

NOT_STARTED, IN_PROGRESS, PASSED, REJECTED = "not_started", "in_progress", "passed", "rejected"
LABELS = {NOT_STARTED: "Pas commencé", IN_PROGRESS: "En cours", PASSED: "Réussi", REJECTED: "Soumission refusée"}



def combined(statuses: set[str]) -> str:
    """The status of a whole (assignment, course) from its parts': passed when all are, started when one is."""
    if statuses == {PASSED}:
        return PASSED
    return NOT_STARTED if statuses <= {NOT_STARTED} else IN_PROGRESS


@dataclass
class ExerciseProgress:
    grade_id: str
    max_points: float
    manual: bool
    points: float | None = None  # None: not graded yet
    status: str = NOT_STARTED
    level: str = "débutant"


@dataclass
class NotebookProgress:
    course: str
    assignment: str
    name: str
    exercises: list[ExerciseProgress]
    submission: Submission | None = None  # the latest finished one
    pending: bool = False  # a submission is waiting or being graded
    rejected: Submission | None = None  # the latest refused one (unreadable notebook...), when none was graded

    @property
    def path(self) -> str:
        """Where the notebook is in the learner's home."""
        return f"{self.course}/{self.assignment}/{self.name}"

    @property
    def auto(self) -> list[ExerciseProgress]:
        return [e for e in self.exercises if not e.manual]

    @property
    def status(self) -> str:
        if self.auto and all(e.status == PASSED for e in self.auto):
            return PASSED
        if self.submission or self.pending:
            return IN_PROGRESS
        return REJECTED if self.rejected else NOT_STARTED

    @property
    def score(self) -> float:
        return sum(e.points or 0 for e in self.exercises)

    @property
    def max_score(self) -> float:
        return sum(e.max_points for e in self.exercises)


@dataclass
class AssignmentProgress:
    id: str
    title: str
    notebooks: list[NotebookProgress] = field(default_factory=list)

    @property
    def status(self) -> str:
        return combined({nb.status for nb in self.notebooks})


@dataclass
class CourseProgress:
    course: Course
    assignments: list[AssignmentProgress]

    @property
    def notebooks(self) -> list[NotebookProgress]:
        return [nb for a in self.assignments for nb in a.notebooks]

    @property
    def status(self) -> str:
        return combined({a.status for a in self.assignments})

    @property
    def percent(self) -> int:
        """Share of auto-graded exercises passed."""
        auto = [e for nb in self.notebooks for e in nb.auto]
        return round(100 * sum(e.status == PASSED for e in auto) / len(auto)) if auto else 0

    @property
    def levels(self) -> list[tuple[str, int, int]]:
        """(level, exercises passed, exercises) for each level the course has, in the levels' order."""
        counts: dict[str, list[int]] = {level: [0, 0] for level in LEVELS}
        for e in (e for nb in self.notebooks for e in nb.exercises):
            count = counts.setdefault(e.level, [0, 0])
            count[0] += e.status == PASSED
            count[1] += 1
        return [(level, passed, total) for level, (passed, total) in counts.items() if total]

    @property
    def next_notebook(self) -> NotebookProgress | None:
        """The first notebook not passed yet (the one "Reprendre" opens)."""
        return next((nb for nb in self.notebooks if nb.status != PASSED), None)

    @property
    def label(self) -> str:
        return LABELS[self.status]


def course_progress(course: Course, submissions: list[Submission]) -> CourseProgress:
    """Progress in one course, from one learner's submissions (any order)."""
    latest: dict[tuple[str, str], Submission] = {}
    refused: dict[tuple[str, str], Submission] = {}
    pending: set[tuple[str, str]] = set()
    for sub in sorted(submissions, key=lambda s: s.id):
        if sub.course != course.id:
            continue
        key = (sub.assignment, sub.notebook)
        if sub.status != DONE:
            pending.add(key)
        elif sub.result == "graded":
            latest[key] = sub
        elif sub.result == "rejected":
            refused[key] = sub
    assignments = []
    for assignment in course.assignments:
        progress = AssignmentProgress(assignment.id, assignment.title)
        for path in assignment.notebooks:
            sub = latest.get((assignment.id, path.name))
            results = {r.grade_id: r for r in sub.exercises} if sub else {}
            items = []
            for ex in notebook_exercises(path):
                item = ExerciseProgress(ex.grade_id, ex.points, ex.manual, level=ex.level)
                result = results.get(ex.grade_id)
                if result is not None and (not ex.manual or result.manual):
                    item.points = result.points
                    item.status = PASSED if result.points >= ex.points else IN_PROGRESS
                elif sub is not None:
                    item.status = IN_PROGRESS
                items.append(item)
            progress.notebooks.append(
                NotebookProgress(course.id, assignment.id, path.name, items, sub, (assignment.id, path.name) in pending,
                                 None if sub else refused.get((assignment.id, path.name)))
            )
        assignments.append(progress)
    return CourseProgress(course, assignments)


def learner_progress(store: Store, courses: list[Course], user: str) -> list[CourseProgress]:
    submissions = store.submissions(user=user)
    return [course_progress(course, submissions) for course in courses]
