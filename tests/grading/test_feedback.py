"""Feedback scrubbing (`grading/feedback.py`) on tiny notebooks: hidden test lines never reach a learner."""

from __future__ import annotations

import copy

from nbformat.v4 import new_code_cell, new_notebook, new_output

from autoformation.grading.feedback import HIDDEN_FAILURE, explain_failures, leaks, scrub_cells

SECRET = "assert moyenne([10, 20]) == 15"
TEST = {"nbgrader": {"grade": True, "grade_id": "test_moyenne", "points": 2, "solution": False}}


def failed_test(ename: str, evalue: str, source: str) -> dict:
    cell = new_code_cell(source, metadata=copy.deepcopy(TEST))
    cell.outputs = [new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}", SECRET])]
    return cell


def test_a_visible_assertion_message_is_kept_and_a_hidden_one_becomes_generic():
    message = "La moyenne de [1, 3] vaut 2."
    visible = failed_test("AssertionError", message, f'assert m == 2, "{message}"')
    hidden = failed_test("AssertionError", "", "assert m == 2")
    nb = new_notebook(cells=[visible, hidden])
    explain_failures(nb, {SECRET})
    assert visible.outputs[0]["traceback"] == ["AssertionError: La moyenne de [1, 3] vaut 2."]
    assert hidden.outputs[0]["traceback"] == [HIDDEN_FAILURE]


def test_a_hidden_tests_hint_reaches_the_learner_but_not_its_code():
    hint = "Comparez des moyennes pondérées, pas des moyennes simples."
    cell = failed_test("AssertionError", hint, "assert m == 2")
    other = failed_test("AssertionError", "attendu 15", "assert m == 2")  # not a hint the trainer wrote
    explain_failures(new_notebook(cells=[cell, other]), {SECRET}, {hint})
    assert cell.outputs[0]["traceback"] == [f"Un test caché a échoué : {hint}"]
    assert other.outputs[0]["traceback"] == [HIDDEN_FAILURE]
    assert not leaks(str(cell.outputs), {SECRET})


def test_an_error_message_quoting_a_hidden_line_is_replaced():
    cell = failed_test("NameError", f"name 'moyenne' is not defined in {SECRET}", "moyenne")
    explain_failures(new_notebook(cells=[cell]), {SECRET})
    assert cell.outputs[0]["traceback"] == [HIDDEN_FAILURE] and not leaks(str(cell.outputs), {SECRET})


def test_scrubbing_removes_hidden_lines_from_sources_and_outputs_and_keeps_the_rest():
    cell = new_code_cell(f"m = 2\n{SECRET}\nprint(m)")
    cell.outputs = [new_output("stream", name="stdout", text=f"trace: {SECRET}\n")]
    kept = new_code_cell("print('bonjour')")
    kept.outputs = [new_output("stream", name="stdout", text="bonjour\n")]
    nb = new_notebook(cells=[cell, kept])
    scrub_cells(nb, {SECRET})
    assert cell.source == "m = 2\n# (test caché)\nprint(m)"
    assert cell.outputs[0]["text"] == HIDDEN_FAILURE + "\n"
    assert kept.outputs[0]["text"] == "bonjour\n" and kept.source == "print('bonjour')"


def test_trainers_grades_go_on_top_of_the_feedback_escaped():
    from autoformation.grading.feedback import with_trainer_grades
    from autoformation.grading.store import ExerciseResult, Submission

    sub = Submission(score=3, max_score=4, feedback_html="<html><body><p>Correction</p></body></html>")
    sub.exercises = [ExerciseResult(grade_id="explication", points=1, max_points=2, manual=True,
                                    comment="Bien <script>vu</script>"),
                     ExerciseResult(grade_id="test_moyenne", points=2, max_points=2, manual=False)]
    page = with_trainer_grades(sub)
    assert page.index('id="trainer-grades"') < page.index("<p>Correction</p>")
    assert "<strong>explication</strong> : 1 / 2" in page and "test_moyenne" not in page
    assert "&lt;script&gt;" in page and "<script>" not in page
    sub.exercises = sub.exercises[1:]
    assert with_trainer_grades(sub) == sub.feedback_html  # nothing graded by a trainer: untouched
