"""autoformation.notebooks: nbgrader metadata, exercises and folder hashes (fast, no kernel)."""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath

import nbformat
import nbgrader.utils
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autoformation import notebooks
from autoformation.catalogue import Assignment, Course
from autoformation.courses import command
from autoformation.grading import progress
from autoformation.notebooks import Exercise, exercises, hash_tree, notebook_exercises


def graded(cell, **nbgrader):
    meta = {"grade": False, "solution": False, "locked": False, "schema_version": 3}
    meta.update(nbgrader)
    cell.metadata["nbgrader"] = meta
    return cell


def autograder_test(grade_id="test_somme", points=2):
    return graded(new_code_cell("assert total == 6"), grade=True, locked=True, grade_id=grade_id, points=points)


def all_kinds():
    """One cell of each kind nbgrader's "Create assignment" toolbar makes, and plain cells."""
    return new_notebook(cells=[
        new_markdown_cell("# Titre"),
        new_code_cell("import math"),
        graded(new_code_cell("### BEGIN SOLUTION\ntotal = 6\n### END SOLUTION"), solution=True,
               grade_id="somme"),  # autograded answer: not graded by itself
        autograder_test(),
        graded(new_code_cell("### BEGIN SOLUTION\ndef f(): ...\n### END SOLUTION"), grade=True, solution=True,
               grade_id="code_libre", points=3),  # manually graded answer, code
        graded(new_markdown_cell("La somme vaut six."), grade=True, solution=True, grade_id="texte", points=1),
        graded(new_markdown_cell("Tracez la courbe."), task=True, locked=True, grade_id="tache", points=4),
        graded(new_markdown_cell("Consigne"), locked=True, grade_id="consigne"),  # read-only
    ])


def write(path: Path, nb) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


# --- metadata -------------------------------------------------------------------------------------


def test_predicates_are_nbgraders_own():
    assert notebooks.is_grade is nbgrader.utils.is_grade
    assert notebooks.is_solution is nbgrader.utils.is_solution
    assert notebooks.is_locked is nbgrader.utils.is_locked
    assert notebooks.is_task is nbgrader.utils.is_task
    with pytest.raises(AttributeError):
        notebooks.is_nothing  # noqa: B018


def test_metadata_of_nodes_and_plain_dict_cells():
    node = autograder_test("t1")
    plain = json.loads(json.dumps(node))
    assert notebooks.nbgrader_meta(node)["points"] == notebooks.nbgrader_meta(plain)["points"] == 2
    assert notebooks.grade_id(node) == notebooks.grade_id(plain) == "t1"
    for bare in ({"cell_type": "code"}, {"metadata": None}, {"metadata": {"nbgrader": None}}, new_code_cell("x")):
        assert notebooks.nbgrader_meta(bare) == {} and notebooks.grade_id(bare) is None
    assert notebooks.is_autograder_test(node) and notebooks.is_autograder_test(plain)
    assert not notebooks.is_autograder_test(graded(new_markdown_cell("x"), grade=True, grade_id="m", points=1))


def test_markers():
    assert notebooks.MARKERS == (("### BEGIN SOLUTION", "### END SOLUTION"),
                                 ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"))


# --- exercises ------------------------------------------------------------------------------------


def test_exercises_are_the_graded_cells_and_only_tests_are_automatic():
    assert exercises(all_kinds()) == (
        Exercise("test_somme", 2.0, manual=False),
        Exercise("code_libre", 3.0, manual=True),
        Exercise("texte", 1.0, manual=True),
        Exercise("tache", 4.0, manual=True),
    )


def test_exercises_of_a_plain_dict_notebook_and_of_none():
    nb = all_kinds()
    assert exercises(json.loads(nbformat.writes(nb))) == exercises(nb)
    assert exercises(new_notebook(cells=[new_markdown_cell("# Titre"), new_code_cell("x = 1")])) == ()


def test_notebook_exercises_is_cached_and_read_again_when_the_file_changes(tmp_path):
    path = write(tmp_path / "nb.ipynb", new_notebook(cells=[autograder_test(points=1)]))
    first = notebook_exercises(path)
    assert first == (Exercise("test_somme", 1.0, False),)
    assert notebook_exercises(path) is first  # not read again

    stat = path.stat()
    write(path, new_notebook(cells=[autograder_test(points=2)]))  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert notebook_exercises(path) == (Exercise("test_somme", 2.0, False),)

    write(path, new_notebook(cells=[autograder_test(points=2), autograder_test("test_2", points=5)]))
    assert [e.grade_id for e in notebook_exercises(path)] == ["test_somme", "test_2"]


def test_course_list_and_progress_agree_on_manual_and_automatic(tmp_path):
    folder = tmp_path / "c" / "source" / "a1"
    path = write(folder / "a1.ipynb", all_kinds())
    course = Course("c", {"fr": "C"}, {"fr": ""}, [], [], "débutant", 10, [], [], "base",
                    [Assignment("a1", "A1", folder)], tmp_path / "c")
    (nb,) = progress.course_progress(course, []).notebooks
    manual = sum(e.manual for e in nb.exercises)
    assert command._counts(path) == (len(nb.exercises) - manual, manual, nb.max_score) == (1, 3, 10.0)
    assert [e.grade_id for e in nb.auto] == ["test_somme"]


# --- hash_tree ------------------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "tree"
    (root / "data").mkdir(parents=True)
    (root / "nb.ipynb").write_text("{}")
    (root / "data" / "valeurs.csv").write_text("x\n1\n")
    return root


def test_same_tree_same_digest(tree, tmp_path):
    digest = hash_tree(tree)
    assert len(digest) == 64 and hash_tree(tree) == digest
    copy = tmp_path / "elsewhere" / "copy"
    copy.mkdir(parents=True)
    (copy / "nb.ipynb").write_text("{}")
    (copy / "data").mkdir()
    (copy / "data" / "valeurs.csv").write_text("x\n1\n")
    assert hash_tree(copy) == digest  # relative paths: where the tree is does not matter


@pytest.mark.parametrize("change", ["content", "rename", "move", "new file", "removed file"])
def test_changes_change_the_digest(tree, change):
    before = hash_tree(tree)
    csv = tree / "data" / "valeurs.csv"
    if change == "content":
        csv.write_text("x\n2\n")
    elif change == "rename":
        csv.rename(tree / "data" / "autres.csv")
    elif change == "move":
        csv.rename(tree / "valeurs.csv")
    elif change == "new file":
        (tree / "data" / "vide.txt").write_text("")
    else:
        csv.unlink()
    assert hash_tree(tree) != before


def test_checkpoints_and_pycache_are_ignored(tree):
    before = hash_tree(tree)
    (tree / ".ipynb_checkpoints").mkdir()
    (tree / ".ipynb_checkpoints" / "nb-checkpoint.ipynb").write_text('{"old": 1}')
    (tree / "data" / "__pycache__").mkdir()
    (tree / "data" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\0\1")
    assert hash_tree(tree) == before
    (tree / ".hidden").write_text("other dotfiles count")
    assert hash_tree(tree) != before


def test_skip_is_honoured_with_relative_posix_paths(tree):
    seen = []

    def skip(rel: PurePosixPath) -> bool:
        seen.append(rel)
        return rel.suffix == ".csv"

    before = hash_tree(tree, skip=skip)
    assert sorted(seen) == [PurePosixPath("data/valeurs.csv"), PurePosixPath("nb.ipynb")]
    (tree / "data" / "valeurs.csv").write_text("changed")
    (tree / "data" / "more.csv").write_text("new")
    assert hash_tree(tree, skip=skip) == before
    assert hash_tree(tree) != hash_tree(tree, skip=skip)
    (tree / "nb.ipynb").write_text('{"changed": 1}')
    assert hash_tree(tree, skip=skip) != before


def test_a_single_file(tree):
    csv = tree / "data" / "valeurs.csv"
    digest = hash_tree(csv)
    assert digest != hash_tree(tree) and hash_tree(csv) == digest
    csv.write_text("x\n2\n")
    assert hash_tree(csv) != digest


def test_salt_changes_the_digest(tree, tmp_path):
    assert hash_tree(tree, salt="v1") != hash_tree(tree) != hash_tree(tree, salt="v2")
    assert hash_tree(tree, salt="v1") == hash_tree(tree, salt="v1")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert hash_tree(empty, salt="a") != hash_tree(empty, salt="b")
