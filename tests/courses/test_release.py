"""`autoformation courses release` and `list` on the fixture course."""

from __future__ import annotations

import hashlib
import json

from autoformation.courses import command


def test_release_writes_learner_versions_without_solutions(project, capsys):
    assert command.main(["--config", str(project.settings), "release"]) == 0
    target = project.data / "release" / "mini"
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert files == ["01-bases/01-bases.ipynb", "01-bases/data/valeurs.csv", "release.json"]
    notebook = (target / "01-bases/01-bases.ipynb").read_text()
    cells = {c["metadata"]["nbgrader"]["grade_id"]: c for c in json.loads(notebook)["cells"]}
    # the answer is nowhere but in the checkpoint after the exercise (a locked cell, there on purpose)
    assert "total = sum(valeurs)" not in "".join("".join(c["source"]) for k, c in cells.items()
                                                 if k != "point-etape-somme")
    assert "La somme vaut six" not in notebook
    # the trainer's wrong answers stay with the trainer; an exercise's level goes with it
    assert "wrong" not in notebook and "compte les valeurs" not in notebook
    assert cells["test_moyenne"]["metadata"]["autoformation"] == {"level": "intermédiaire"}
    assert "HIDDEN" not in notebook and "isinstance(total, int)" not in notebook
    assert "# VOTRE CODE ICI" in notebook and "VOTRE RÉPONSE ICI" in notebook
    manifest = json.loads((target / "release.json").read_text())
    assert manifest["course"] == "mini" and manifest["version"] == "2026.11"
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((target / name).read_bytes()).hexdigest() == digest
    assert "mini: released" in capsys.readouterr().out

    assert command.main(["--config", str(project.settings), "release"]) == 0
    assert "mini: up to date" in capsys.readouterr().out
    project.edit(2, source="### BEGIN SOLUTION\ntotal = sum(valeurs)  # somme\n### END SOLUTION")
    assert command.main(["--config", str(project.settings), "release"]) == 0
    assert "mini: released" in capsys.readouterr().out


def test_list_counts_exercises_and_points(project, capsys):
    assert command.main(["--config", str(project.settings), "list"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "01-bases" in x)
    assert line.split() == ["01-bases", "2", "1", "4"]


def test_unknown_course_is_named(project, capsys):
    assert command.main(["--config", str(project.settings), "check", "nope"]) == 2
    assert "unknown course 'nope' (known: mini)" in capsys.readouterr().err
