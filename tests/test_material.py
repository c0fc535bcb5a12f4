"""Course material reaches learners' homes without overwriting their work."""

from __future__ import annotations

import json
import subprocess
import sys

from autoformation.material import MANIFEST, sync


def release(root, files, version="1"):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "ml").mkdir(parents=True, exist_ok=True)
    (root / "ml" / "release.json").write_text(json.dumps({"course": "ml", "version": version}))


def test_first_start_copies_everything(tmp_path):
    src, home = tmp_path / "release", tmp_path / "home"
    release(src, {"ml/01/cours.ipynb": "v1", "ml/01/data/x.csv": "a,b"})
    report = sync(src, home)
    assert sorted(report.copied) == ["ml/01/cours.ipynb", "ml/01/data/x.csv"]
    assert (home / "ml/01/cours.ipynb").read_text() == "v1"
    assert not (home / "ml/release.json").exists()
    assert json.loads((home / MANIFEST).read_text())["versions"] == {"ml": "1"}


def test_update_replaces_untouched_files_and_keeps_edits(tmp_path):
    src, home = tmp_path / "release", tmp_path / "home"
    release(src, {"ml/01/a.ipynb": "v1", "ml/01/b.ipynb": "v1"})
    sync(src, home)
    (home / "ml/01/b.ipynb").write_text("my answers")  # the learner works on b
    release(src, {"ml/01/a.ipynb": "v2", "ml/01/b.ipynb": "v2", "ml/02/c.ipynb": "v2"}, version="2")
    report = sync(src, home)
    assert report.updated == ["ml/01/a.ipynb"]
    assert report.kept == ["ml/01/b.ipynb"]
    assert report.copied == ["ml/02/c.ipynb"]
    assert (home / "ml/01/a.ipynb").read_text() == "v2"
    assert (home / "ml/01/b.ipynb").read_text() == "my answers"
    assert json.loads((home / MANIFEST).read_text())["versions"] == {"ml": "2"}
    # Nothing changed since: a restart copies nothing and still keeps the edit.
    again = sync(src, home)
    assert again.copied == again.updated == [] and again.kept == ["ml/01/b.ipynb"]


def test_a_file_the_learner_made_is_never_overwritten(tmp_path):
    src, home = tmp_path / "release", tmp_path / "home"
    (home / "ml/01").mkdir(parents=True)
    (home / "ml/01/a.ipynb").write_text("mine")
    release(src, {"ml/01/a.ipynb": "v1"})
    assert sync(src, home).kept == ["ml/01/a.ipynb"]
    assert (home / "ml/01/a.ipynb").read_text() == "mine"


def test_command_line_used_in_containers(tmp_path):
    src, home = tmp_path / "release", tmp_path / "home"
    release(src, {"ml/01/a.ipynb": "v1"})
    command = [sys.executable, "-m", "autoformation.material", str(src), str(home)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "1 new, 0 updated, 0 merged (new version, the learner's answers kept), 0 kept" in out.stdout
    assert (home / "ml/01/a.ipynb").exists()


def _cell(key, source, kind="code", **nbgrader):
    cell = {"cell_type": kind, "id": key, "source": source, "metadata": {}}
    if nbgrader:
        cell["metadata"]["nbgrader"] = {"grade_id": key, **nbgrader}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def _nb(*cells):
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_a_new_release_of_a_notebook_the_learner_worked_on_keeps_their_answers_and_own_cells(tmp_path):
    src, home = tmp_path / "release", tmp_path / "home"
    lesson = _cell("intro", "# Leçon v1", "markdown", locked=True)
    answer = _cell("ex1", "raise NotImplementedError()", solution=True)
    tests = _cell("ex1-tests", "assert x == 1", grade=True, locked=True, points=1)
    old_example = _cell("lecon-02", "print('exemple')", locked=True)  # renamed by the trainer below
    release(src, {"ml/01/a.ipynb": _nb(lesson, old_example, answer, tests)})
    sync(src, home)
    mine = json.loads((home / "ml/01/a.ipynb").read_text())
    mine["cells"][2]["source"] = "x = 1"
    mine["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    mine["cells"].insert(3, _cell("brouillon", "print('mon essai')"))  # a cell of her own, after her answer
    (home / "ml/01/a.ipynb").write_text(json.dumps(mine))
    before = (home / "ml/01/a.ipynb").read_text()
    # the trainer fixes a typo in the lesson and changes the test
    release(src, {"ml/01/a.ipynb": _nb(_cell("intro", "# Leçon v2", "markdown", locked=True),
                                        _cell("exemple-affichage", "print('exemple')", locked=True), answer,
                                        _cell("ex1-tests", "assert x == 1 and x > 0", grade=True, locked=True,
                                              points=1))}, version="2")
    report = sync(src, home)
    assert report.merged == ["ml/01/a.ipynb"] and report.kept == []
    merged = json.loads((home / "ml/01/a.ipynb").read_text())
    assert [c["source"] for c in merged["cells"]] == ["# Leçon v2", "print('exemple')", "x = 1",
                                                     "print('mon essai')", "assert x == 1 and x > 0"]
    assert merged["cells"][2]["outputs"][0]["text"] == "1\n"
    (backup,) = (home / ".autoformation" / "backups" / "ml" / "01").iterdir()
    assert backup.read_text() == before  # her file as it was, in case
    # restarting with the same release changes nothing more
    again = sync(src, home)
    assert again.merged == [] and again.kept == ["ml/01/a.ipynb"]
