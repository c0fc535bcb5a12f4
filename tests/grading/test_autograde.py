"""Grading one submission: honest, partly wrong and hostile notebooks, SQLite and PostgreSQL gradebooks."""

from __future__ import annotations

import copy
import html
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autoformation.catalogue import load_course
from autoformation.grading import executor
from autoformation.grading.autograde import Limits, grade_submission
from autoformation.grading.gradebook import gradebook_url, prepare_gradebook
from autoformation.settings import Settings
from tests.support.postgres import postgres_url  # noqa: F401

pytestmark = pytest.mark.slow

COURSE_DIR = Path(__file__).parent / "fixtures" / "courses" / "mini"
SOURCE = COURSE_DIR / "source" / "01-bases" / "01-bases.ipynb"
CORRECT = {
    "ex1-solution": "def double(x):\n    return x + x",
    "ex2-solution": "total = 0\nfor l in lignes:\n    total += int(l['population'])",
    "ex3-solution": "def majuscules(mots):\n    return [m.upper() for m in mots]",
}
HIDDEN_TEXT = ["HIDDEN_DOUBLE_NEGATIVE", "double(-7)", "HIDDEN_TOTAL_EXACT", "total == 400", "HIDDEN_UPPER_LIST",
               "majuscules([]) == []"]
SOLUTION_TEXT = ["SOLUTION_MARKER_DOUBLE", "SOLUTION_MARKER_TOTAL", "SOLUTION_MARKER_UPPER"]
LIMITS = Limits(cell_timeout=5, wall_timeout=90, memory_mb=1024, cpu_seconds=60, max_output_kb=64)


def submission(**answers: str) -> nbformat.NotebookNode:
    """The learner's notebook with the given code in solution cells (grade ids with _ for -)."""
    nb = nbformat.read(SOURCE, as_version=4)
    chosen = {**CORRECT, **{k.replace("_", "-"): v for k, v in answers.items()}}
    for cell in nb.cells:
        if cell.id in chosen:
            cell.source = chosen[cell.id]
    return nb


def as_bytes(nb) -> bytes:
    return nbformat.writes(nb).encode()


@pytest.fixture(scope="module")
def course():
    return load_course(COURSE_DIR)


@pytest.fixture(scope="module")
def platform(tmp_path_factory, course):
    """A gradebook and the folders learner code must not see (gradebook, sources, another home)."""
    root = tmp_path_factory.mktemp("platform")
    settings = Settings()
    settings.platform.data_dir = str(root / "data")
    homes = settings.homes_dir / "bob"
    homes.mkdir(parents=True)
    (homes / "secret.txt").write_text("la copie de bob")
    url = gradebook_url(settings, course.id)
    prepare_gradebook(course, url)
    return {"url": url, "hide": [settings.data_dir, COURSE_DIR], "settings": settings}


def grade(course, platform, nb_or_bytes, student="alice", limits=LIMITS):
    data = nb_or_bytes if isinstance(nb_or_bytes, bytes) else as_bytes(nb_or_bytes)
    return grade_submission(course, "01-bases", "01-bases.ipynb", student, data, platform["url"], limits)


def points(result) -> dict[str, float]:
    return {c.grade_id: c.points for c in result.cells}


def assert_no_secrets(result):
    for text in HIDDEN_TEXT + SOLUTION_TEXT:
        assert text not in result.feedback_html, text


def test_gradebook_urls(tmp_path):
    settings = Settings()
    settings.platform.data_dir = str(tmp_path)
    assert gradebook_url(settings, "ml") == f"sqlite:///{tmp_path}/grading/gradebook-ml.sqlite"
    settings.grading.db_url = "postgresql+psycopg2://u@h/db"
    assert gradebook_url(settings, "web-scraping") == (
        "postgresql+psycopg2://u@h/db?options=-csearch_path%3Dgradebook_web_scraping")


def test_prepare_is_cheap_when_unchanged(course, platform):
    import time

    start = time.monotonic()
    prepare_gradebook(course, platform["url"])
    assert time.monotonic() - start < 0.5


def test_honest_submission_full_marks(course, platform):
    result = grade(course, platform, submission())
    assert (result.status, result.message) == ("graded", "Votre notebook a été corrigé.")
    assert (result.score, result.max_score) == (6.0, 6.0)
    assert points(result) == {"ex1-tests": 2.0, "ex2-tests": 3.0, "ex3-tests": 1.0}
    assert "Bravo" in result.feedback_html
    assert_no_secrets(result)


def test_partly_wrong_submission(course, platform):
    # Passes the visible test of ex1 only for 2 (hidden tests catch it); ex3 fails its visible test.
    nb = submission(ex1_solution="def double(x):\n    return 4", ex3_solution="def majuscules(mots):\n    return mots")
    result = grade(course, platform, nb)
    assert result.status == "graded"
    assert points(result) == {"ex1-tests": 0.0, "ex2-tests": 3.0, "ex3-tests": 0.0}
    assert (result.score, result.max_score) == (3.0, 6.0)
    # ex1: a hidden test failed: its hint, not its code
    assert "Un test caché a échoué : Pensez aux nombres négatifs." in html.unescape(result.feedback_html)
    # ex3: its visible assertion message
    assert "majuscules(['a']) devrait valoir ['A']. Indice : str.upper()." in html.unescape(result.feedback_html)
    assert_no_secrets(result)


HOSTILE = {
    "infinite_loop": dict(ex2_solution="while True:\n    pass"),
    "memory_bomb": dict(ex1_solution="x = bytearray(8 * 1024 ** 3)\n" + CORRECT["ex1-solution"]),
    # Children never return to the kernel: they fork until refused, then sleep; the cell then fails.
    "fork_bomb": dict(ex1_solution="import os, time\nchildren = 0\ntry:\n    while True:\n"
                      "        if os.fork() == 0:\n            while True:\n                try:\n"
                      "                    os.fork()\n                except OSError:\n"
                      "                    time.sleep(300)\n        children += 1\nexcept OSError:\n    pass\n"
                      "raise RuntimeError(f'bombe stoppée après {children} processus')\n" + CORRECT["ex1-solution"]),
    "sys_exit": dict(ex1_solution="import sys\nsys.exit(3)"),
    "os_exit": dict(ex2_solution="import os\nos._exit(1)"),
    "huge_output": dict(ex1_solution="print('x' * 10_000_000)\n" + CORRECT["ex1-solution"]),
    "hide_errors": dict(ex1_solution="def double(x):\n    return 4\nip = get_ipython()\n"
                        "ip.showtraceback = lambda *a, **k: None\nip._showtraceback = lambda *a, **k: None"),
    "read_gradebook": dict(ex1_solution="open('{data}/grading/gradebook-mini.sqlite', 'rb').read()\n"
                           + CORRECT["ex1-solution"]),
    "read_course_source": dict(ex1_solution="open('{course}/source/01-bases/01-bases.ipynb').read()\n"
                               + CORRECT["ex1-solution"]),
    "read_other_home": dict(ex1_solution="open('{homes}/bob/secret.txt').read()\n" + CORRECT["ex1-solution"]),
    "unmount_hidden": dict(ex1_solution="import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                           "assert libc.umount2(b'{data}', 2) == 0, ctypes.get_errno()\n"
                           "open('{data}/grading/gradebook-mini.sqlite', 'rb').read()\n" + CORRECT["ex1-solution"]),
    # Tries to write a forged reply on every fd of the sandbox runner; only then answers correctly.
    "forge_reply": dict(ex1_solution="import os\nwritten = 0\nfor fd in os.listdir(f'/proc/{os.getppid()}/fd'):\n"
                        "    try:\n        with open(f'/proc/{os.getppid()}/fd/{fd}', 'w') as f:\n"
                        "            f.write('{\"outcome\": \"done\"}')\n            written += 1\n"
                        "    except PermissionError:\n        raise\n    except OSError:\n        pass\n"
                        "assert written\n"
                        + CORRECT["ex1-solution"]),
    "network": dict(ex1_solution="import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=2)\n"
                    + CORRECT["ex1-solution"]),
    "huge_file": dict(ex1_solution="with open('gros.bin', 'wb') as f:\n    for _ in range(1000):\n"
                      "        f.write(b'0' * 1024 * 1024)\n" + CORRECT["ex1-solution"]),
}


def hostile(name, platform):
    values = {"data": platform["settings"].data_dir, "course": COURSE_DIR, "homes": platform["settings"].homes_dir}
    return submission(**{k: v.replace("{data}", str(values["data"])).replace("{course}", str(values["course"]))
                         .replace("{homes}", str(values["homes"])) for k, v in HOSTILE[name].items()})


def test_infinite_loop_times_out_naming_the_cell(course, platform):
    result = grade(course, platform, hostile("infinite_loop", platform))
    assert result.status == "timeout" and not result.retryable  # the learner's own loop: no second try
    assert result.message == "Le temps limite de 5 s a été dépassé à la cellule 7 (boucle infinie ?)."
    assert points(result) == {"ex1-tests": 2.0, "ex2-tests": 0.0, "ex3-tests": 0.0}


def test_wall_clock_bounds_the_whole_notebook(course, platform):
    limits = Limits(cell_timeout=60, wall_timeout=8, memory_mb=1024, cpu_seconds=60, max_output_kb=64)
    result = grade(course, platform, hostile("infinite_loop", platform), limits=limits)
    assert (result.status, result.retryable, result.feedback_html) == ("timeout", False, "")
    assert "8 s" in result.message


@pytest.mark.parametrize("name", ["memory_bomb", "fork_bomb", "sys_exit", "hide_errors", "read_gradebook",
                                  "read_course_source", "read_other_home", "network", "huge_file",
                                  "unmount_hidden", "forge_reply"])
def test_hostile_code_fails_its_exercise_only(course, platform, name):
    assert (platform["settings"].grading_dir / "gradebook-mini.sqlite").is_file()  # there, but hidden
    result = grade(course, platform, hostile(name, platform))
    assert (result.status, result.message) == ("graded", "Votre notebook a été corrigé.")
    assert points(result) == {"ex1-tests": 0.0, "ex2-tests": 3.0, "ex3-tests": 1.0}, name
    assert_no_secrets(result)


def test_kernel_death_counts_remaining_cells_zero(course, platform):
    result = grade(course, platform, hostile("os_exit", platform))
    assert result.status == "graded"
    assert "Le noyau Python s'est arrêté à la cellule 7" in result.message
    assert points(result) == {"ex1-tests": 2.0, "ex2-tests": 0.0, "ex3-tests": 0.0}


def test_output_printed_during_grading_never_reaches_the_feedback(course, platform):
    result = grade(course, platform, hostile("huge_output", platform))
    assert result.status == "graded" and result.score == 6.0
    assert "x" * 1000 not in result.feedback_html
    assert len(result.feedback_html) < 2_000_000


def test_deleted_and_edited_test_cells_are_restored(course, platform):
    nb = submission(ex1_solution="def double(x):\n    return 4")
    nb.cells = [c for c in nb.cells if c.id != "ex1-tests"]  # deleted: comes back and fails
    for cell in nb.cells:
        if cell.id == "ex3-tests":
            cell.source = "print('tout va bien')"
    nb.cells = [c for c in nb.cells if c.id != "ex3-solution"] + [new_code_cell("x = 1")]
    result = grade(course, platform, nb)
    assert result.status == "graded"
    assert points(result) == {"ex1-tests": 0.0, "ex2-tests": 3.0, "ex3-tests": 0.0}


def test_malformed_and_wrong_notebooks_are_rejected(course, platform):
    assert grade(course, platform, b'{"cells": [').message == (
        "Le fichier envoyé n'est pas un notebook valide (JSON illisible).")
    assert grade(course, platform, b'{"cells": [').status == "rejected"
    assert grade(course, platform, b'[1, 2]').status == "rejected"
    too_big = grade(course, platform, b" " * (6 * 1024 * 1024))
    assert too_big.status == "rejected" and "trop gros" in too_big.message
    result = grade_submission(course, "01-bases", "autre.ipynb", "alice", as_bytes(submission()), platform["url"],
                              LIMITS)
    assert result.status == "rejected" and "autre.ipynb" in result.message


def test_honest_submission_after_hostile_ones(course, platform):
    # Same learner as the hostile submissions: the gradebook holds this grading's scores, not stale ones.
    result = grade(course, platform, submission(ex2_solution="total = 0"))
    assert (result.status, result.score) == ("graded", 3.0)
    assert points(result) == {"ex1-tests": 2.0, "ex2-tests": 0.0, "ex3-tests": 1.0}


def test_postgresql_gradebook(course, postgres_url, tmp_path):  # noqa: F811
    settings = Settings()
    settings.grading.db_url = postgres_url
    url = gradebook_url(settings, course.id)
    prepare_gradebook(course, url)
    prepare_gradebook(course, url)
    nb = copy.deepcopy(submission(ex3_solution="def majuscules(mots):\n    return ['A']"))
    result = grade_submission(course, "01-bases", "01-bases.ipynb", "alice", as_bytes(nb), url, LIMITS)
    assert result.status == "graded"
    assert (result.score, result.max_score) == (5.0, 6.0)
    assert json.dumps(points(result)) == json.dumps({"ex1-tests": 2.0, "ex2-tests": 3.0, "ex3-tests": 0.0})


def test_a_value_the_learner_changes_after_a_test_read_it_is_read_again(tmp_path):
    # x is read by the first test, then changed by the learner's next cell: the second test sees 2, not 1
    cells = [{"kind": "code", "source": "x = 1\nt = {'a': 1}"}, {"kind": "test", "source": "assert x == 1"},
             {"kind": "code", "source": "x = 2\nt['b'] = 2"},
             {"kind": "test", "source": "assert x == 2, 'x lu avant'\nassert t == {'a': 1, 'b': 2}"}]
    reply = executor.run(cells, "", tmp_path, LIMITS)
    assert reply["outcome"] == "done", reply
    assert reply["tests"]["1"]["passed"] and reply["tests"]["3"]["passed"], reply["tests"]
