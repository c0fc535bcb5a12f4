"""What a trainer sees of a course: one row per learner and notebook, score distributions, pass rates.

Pure functions over the grading store; the same rows feed the HTML tables and the CSV export.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from ..catalogue import Course
from ..notebooks import notebook_exercises
from .store import DONE, Store, Submission


@dataclass
class Learner:
    name: str
    cohorts: list[str]
    last_activity: datetime | None = None


@dataclass
class Row:
    """A learner's latest graded submission of one notebook (or none yet)."""

    learner: Learner
    assignment: str
    notebook: str
    version: str  # the course release in their environment
    submission: Submission | None

    @property
    def score(self) -> float | None:
        return self.submission.score if self.submission else None


@dataclass
class NotebookStats:
    assignment: str
    notebook: str
    max_score: float
    scores: list[float] = field(default_factory=list)
    pass_rates: list[tuple[str, float]] = field(default_factory=list)  # (grade_id, % of submitters with full points)
    manual: list[str] = field(default_factory=list)  # grade ids of the free-text answers


@dataclass
class CourseReport:
    course: Course
    learners: list[Learner]
    rows: list[Row]
    stats: list[NotebookStats]

    def started(self) -> list[str]:
        return sorted({r.learner.name for r in self.rows if r.version or r.submission})

    def submitted(self) -> list[str]:
        return sorted({r.learner.name for r in self.rows if r.submission})


def course_report(store: Store, course: Course, learners: list[Learner]) -> CourseReport:
    names = {learner.name for learner in learners}
    latest: dict[tuple[str, str, str], Submission] = {}
    for sub in store.submissions(course=course.id):
        if sub.user in names and sub.status == DONE and sub.result == "graded":
            latest[(sub.user, sub.assignment, sub.notebook)] = sub  # ordered by id: the last one wins
    versions = store.material_versions(course.id)
    rows, stats = [], []
    for assignment in course.assignments:
        for path in assignment.notebooks:
            found = notebook_exercises(path)
            nb = NotebookStats(
                assignment.id, path.name, sum(e.points for e in found), manual=[e.grade_id for e in found if e.manual]
            )
            subs = []
            for learner in learners:
                sub = latest.get((learner.name, assignment.id, path.name))
                rows.append(Row(learner, assignment.id, path.name, versions.get(learner.name, ""), sub))
                if sub:
                    subs.append(sub)
                    nb.scores.append(sub.score)
            for ex in found:
                if ex.manual:
                    continue
                passed = sum(
                    1 for s in subs for r in s.exercises if r.grade_id == ex.grade_id and r.points >= ex.points
                )
                nb.pass_rates.append((ex.grade_id, round(100 * passed / len(subs)) if subs else 0))
            stats.append(nb)
    return CourseReport(course, learners, rows, stats)


CSV_COLUMNS = [
    "learner", "cohorts", "course", "assignment", "notebook", "version", "submission", "submitted_at",
    "score", "max_score", "exercises",
]


def to_csv(report: CourseReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        sub = row.submission
        writer.writerow([
            row.learner.name, " ".join(row.learner.cohorts), report.course.id, row.assignment, row.notebook,
            row.version, sub.id if sub else "", sub.created_at.isoformat() if sub else "",
            f"{sub.score:g}" if sub else "", f"{sub.max_score:g}" if sub else "",
            " ".join(f"{e.grade_id}={e.points:g}" for e in sub.exercises) if sub else "",
        ])
    return out.getvalue()
