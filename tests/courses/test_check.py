"""`autoformation courses check` on the fixture course and on copies broken on purpose."""

from __future__ import annotations

import pytest

from autoformation.courses import command
from autoformation.courses.checking import CheckCache, NotebookJob, check_notebook, content_hash

WHERE = "mini/01-bases/01-bases.ipynb"
SUM_TESTS = ('assert total == 6, "total devrait valoir 6. Indice : sum(valeurs)."\n'
             "### BEGIN HIDDEN TESTS\n"
             '_attendu = sum(int(l) for l in open("data/valeurs.csv").read().split()[1:])\n'
             'assert isinstance(total, int) and total == _attendu, "additionnez les valeurs du fichier"\n'
             "### END HIDDEN TESTS\n"
             'print("✔ Premières vérifications réussies.")')


def run_check(project, capsys, *extra):
    status = command.main(["--config", str(project.settings), "check", *extra])
    out = capsys.readouterr()
    return status, out.out + out.err


def job(project):
    return NotebookJob("mini", "01-bases", project.notebook)


def test_fixture_passes_and_cache_skips_unchanged_then_reruns_changed(project, capsys, monkeypatch):
    status, output = run_check(project, capsys)
    assert status == 0, output
    assert "1 passed, 0 failed" in output
    assert CheckCache(project.data / "cache").passed(content_hash(job(project)))

    executed = []
    real = command.check_notebook
    monkeypatch.setattr(command, "ProcessPoolExecutor", _InlinePool)
    monkeypatch.setattr(command, "check_notebook", lambda j: executed.append(j.where) or real(j))
    status, output = run_check(project, capsys)
    assert status == 0 and executed == [], output
    assert "cached" in output

    # a changed data file of the assignment invalidates the cache
    (project.notebook.parent / "data" / "valeurs.csv").write_text("x\n1\n2\n4\n")
    status, output = run_check(project, capsys)
    assert executed == [WHERE]
    assert status == 1 and f"{WHERE}, cell 'test_somme': raises AssertionError: total devrait valoir 6" in output


class _InlinePool:
    """A ProcessPoolExecutor stand-in running jobs in this process, so a test can see what ran."""

    def __init__(self, max_workers):
        assert max_workers >= 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, *args):
        from concurrent.futures import Future

        future = Future()
        future.set_result(fn(*args))
        return future


def test_no_cache_forces_a_rerun(project, capsys, monkeypatch):
    project.edit(3, source="assert False, 'x'", points=None)  # lint failure: fast, and proves it ran
    key = content_hash(job(project))
    CheckCache(project.data / "cache").record(key, check_notebook(job(project)))  # pretend it passed
    assert run_check(project, capsys)[0] == 0
    status, output = run_check(project, capsys, "--no-cache")
    assert status == 1 and "graded cell without points" in output


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda p: p.notebook.write_text('{"cells": [ '), f"{WHERE}: malformed notebook JSON"),
        (lambda p: p.edit(2, source="total = sum(valeurs)"),
         f"{WHERE}, cell 'somme': solution cell without '### BEGIN SOLUTION'"),
        (lambda p: p.edit(3, grade_id="somme"), f"{WHERE}, cell 'somme': duplicate grade id 'somme' (also cell #2)"),
        (lambda p: p.edit(3, points=None), f"{WHERE}, cell 'test_somme': graded cell without points"),
        (lambda p: p.edit(1, source="x = 1\n### BEGIN HIDDEN TESTS\nassert x\n### END HIDDEN TESTS"),
         f"{WHERE}, cell 'lecture': hidden-test markers in a cell that is not a graded test cell"),
        (lambda p: p.edit(2, source="### BEGIN SOLUTION\ntotal = sum(valeurs)\n"),
         f"{WHERE}, cell 'somme': unbalanced markers: '### BEGIN SOLUTION' is never closed"),
        (lambda p: p.edit(3, source=SUM_TESTS.replace('assert total == 6, "', 'print("ok")\nassert total == 6, "')),
         f"{WHERE}, cell 'test_somme': prints before the hidden tests"),
        (lambda p: p.edit(3, source=SUM_TESTS.replace('"additionnez les valeurs du fichier"', 'f"attendu {_attendu}"')),
         f"{WHERE}, cell 'test_somme': a hidden assert's message must be a plain string"),
        (lambda p: p.edit(0, grade_id="lecon-01"), f"{WHERE}, cell 'lecon-01': id 'lecon-01' is a position"),
        (lambda p: p.edit(0, locked=False), f"{WHERE}, cell 'intro': neither an exercise nor read-only"),
        (lambda p: p.set_platform(2, wrong=[]), f"{WHERE}, exercise 'somme': no wrong answer"),
        (lambda p: p.set_platform(2, wrong=[{"code": "total = 0", "fails": ["test_moyenne"]}]),
         f"{WHERE}, exercise 'somme': wrong answer #1 names 'test_moyenne', not one of its test cells (test_somme)"),
        (lambda p: p.set_platform(6, level="facile"), f"{WHERE}, cell 'test_moyenne': level 'facile' is not one of"),
    ],
    ids=["malformed-json", "missing-markers", "duplicate-grade-id", "points-missing", "hidden-outside-test",
         "unbalanced", "print-before-hidden", "computed-hidden-message", "positional-id", "unlocked-lesson",
         "no-wrong-answer", "wrong-answer-names-another-exercise", "unknown-level"],
)
def test_authoring_mistakes_are_named(project, capsys, breakage, message):
    breakage(project)
    status, output = run_check(project, capsys)
    assert status == 1
    assert message in output


def test_a_wrong_answer_that_passes_is_named(project, capsys):
    # the trainer's "wrong" answer is in fact right: the tests cannot tell it from the solution
    project.set_platform(2, wrong=[{"why": "la bonne réponse, autrement", "code": "total = 1 + 2 + 3"}])
    status, output = run_check(project, capsys)
    assert status == 1
    assert (f"{WHERE}, exercise 'somme': wrong answer #1 (la bonne réponse, autrement) scores 2 on 'test_somme', "
            "not 0") in output


def test_an_exercise_that_needs_the_previous_answer_is_named(project, capsys):
    # without the checkpoint, leaving the sum blank zeroes the mean too
    project.edit(4, source="# (plus de point d'étape)")
    status, output = run_check(project, capsys)
    assert status == 1
    assert (f"{WHERE}, cell 'test_moyenne': 0/1 when exercise(s) 'somme' are left blank: "
            "each exercise must be gradable on its own") in output


def test_notebook_that_raises_names_the_cell(project, capsys):
    project.edit(1, source='valeurs = [int(l) for l in open("data/absent.csv")]')
    status, output = run_check(project, capsys)
    assert status == 1
    assert f"{WHERE}, cell 'lecture': raises FileNotFoundError" in output


def test_wrong_solution_fails(project, capsys):
    # visible tests pass (total == 6) but the hidden test wants an int computed from the data
    project.edit(2, source="### BEGIN SOLUTION\ntotal = 6.0\n### END SOLUTION")
    status, output = run_check(project, capsys)
    assert status == 1
    assert f"{WHERE}, cell 'test_somme': raises AssertionError" in output


def test_test_cell_passing_without_an_answer_fails(project, capsys):
    # the test does not look at the answer: the untouched learner version would score points
    project.edit(3, source='print("Bravo, c\'est juste !")')
    status, output = run_check(project, capsys)
    assert status == 1
    assert f"{WHERE}, cell 'test_somme': the untouched learner version scores 2.0/2.0, not 0" in output


def test_cell_timeout_names_the_cell(project, capsys):
    project.settings.write_text(project.settings.read_text()[:-1] + ', "grading": {"cell_timeout": 2}}')
    project.edit(1, source="import time\ntime.sleep(30)")
    status, output = run_check(project, capsys)
    assert status == 1
    assert f"{WHERE}, cell 'lecture': takes longer than 2 s" in output


def test_hidden_test_leaking_into_release_fails(project, capsys):
    # a misspelt marker: nbgrader keeps the "hidden" test in the learner version
    project.edit(3, source='assert total == 6, "total devrait valoir 6."\n'
                 "### BEGIN HIDDEN TEST\nassert isinstance(total, int)\n### END HIDDEN TEST")
    status, output = run_check(project, capsys)
    assert status == 1
    assert f"{WHERE}, release cell 'test_somme': hidden-test text left in the learner version" in output


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 9, 17])
def test_blank_runs_see_every_dependency_in_few_runs(count):
    from autoformation.courses.checking import blank_sets

    sets = blank_sets(count)
    # for every exercise j and every other exercise i, a run leaves i blank and keeps j
    assert all(any(i in s and j not in s for s in sets) for i in range(count) for j in range(count) if i != j)
    assert all(any(i in s for s in sets) for i in range(count))
    assert len(sets) <= max(2, 2 * (count - 1).bit_length())
