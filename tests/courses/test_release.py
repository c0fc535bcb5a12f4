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
    assert "total = sum(valeurs)" not in notebook and "La somme vaut six" not in notebook
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
    assert line.split() == ["01-bases", "1", "1", "3"]


def test_unknown_course_is_named(project, capsys):
    assert command.main(["--config", str(project.settings), "check", "nope"]) == 2
    assert "unknown course 'nope' (known: mini)" in capsys.readouterr().err
