"""Where a learner stands (`grading/progress.py`), from submissions alone: fast, no service, no kernel."""

from __future__ import annotations

from autoformation.catalogue import load_catalogue
from autoformation.grading.progress import IN_PROGRESS, NOT_STARTED, PASSED, REJECTED, course_progress
from autoformation.grading.store import DONE, QUEUED, ExerciseResult, Submission

from ..conftest import ROOT

(DEMO,) = load_catalogue(ROOT / "tests" / "fixtures" / "courses")  # bases.ipynb: test_moyenne 2, test_compter 1
NOTEBOOK = ("demo", "01-bases", "bases.ipynb")


def submission(sub_id: int, status: str = DONE, result: str = "graded", **points: float) -> Submission:
    sub = Submission(id=sub_id, user="alice", course=NOTEBOOK[0], assignment=NOTEBOOK[1], notebook=NOTEBOOK[2],
                     status=status, result=result, score=sum(points.values()))
    sub.exercises = [ExerciseResult(grade_id=g, points=p, max_points=p) for g, p in points.items()]
    return sub


def statuses(subs: list[Submission]) -> tuple[str, str, int]:
    progress = course_progress(DEMO, subs)
    (nb,) = progress.notebooks
    return nb.status, progress.status, progress.percent


def test_nothing_submitted_is_not_started():
    assert statuses([]) == (NOT_STARTED, NOT_STARTED, 0)


def test_a_refused_submission_says_so_until_one_is_graded():
    assert statuses([submission(1, result="rejected")])[0] == REJECTED
    assert statuses([submission(1, result="rejected"), submission(2, test_moyenne=2)])[0] == IN_PROGRESS


def test_a_submission_waiting_for_grading_is_in_progress():
    assert statuses([submission(1, status=QUEUED, result="")])[0] == IN_PROGRESS


def test_all_automatic_tests_passed_is_passed_even_before_the_trainer_grades():
    status, course, percent = statuses([submission(1, test_moyenne=2, test_compter=1)])
    assert (status, course, percent) == (PASSED, PASSED, 100)


def test_the_latest_graded_submission_counts():
    subs = [submission(1, test_moyenne=2, test_compter=1), submission(2, test_moyenne=0, test_compter=1)]
    status, _, percent = statuses(subs)
    assert (status, percent) == (IN_PROGRESS, 50)
    (nb,) = course_progress(DEMO, list(reversed(subs))).notebooks  # whatever order they come in
    assert nb.submission.id == 2


def test_the_free_text_answer_counts_only_once_a_trainer_graded_it():
    (nb,) = course_progress(DEMO, [submission(1, test_moyenne=2, test_compter=1, explication=1)]).notebooks
    manual = next(e for e in nb.exercises if e.grade_id == "explication")
    assert (manual.points, nb.score, nb.max_score) == (None, 3, 4)  # the grader's 1 point for it is not a grade


def test_progress_counts_each_level():
    # bases.ipynb: test_moyenne (débutant, the default), test_compter (intermédiaire); a free-text answer
    progress = course_progress(DEMO, [submission(1, test_moyenne=2)])
    levels = dict((level, (passed, total)) for level, passed, total in progress.levels)
    assert levels["intermédiaire"] == (0, 1) and levels["débutant"][0] == 1
    assert "expert" not in levels  # a level the course does not have is not shown
    progress = course_progress(DEMO, [submission(1, test_moyenne=2, test_compter=1)])
    assert dict((lv, p) for lv, p, _ in progress.levels)["intermédiaire"] == 1
