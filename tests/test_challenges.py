"""Funathon challenges (`autoformation.challenges`): the folder format, the release that keeps labels hidden,
and the checks a predictions file passes before it counts. Fast: no service, no browser."""

from __future__ import annotations

import csv
import shutil

import nbformat
import pytest
import yaml

from autoformation.challenges import (
    MAX_PREDICTIONS_BYTES,
    ChallengeError,
    check_predictions,
    load_challenge,
    load_challenges,
    parcours_steps,
    read_labels,
    release_challenge,
    team_of,
)
from autoformation.challenges.command import check

from .conftest import ROOT

REAL = ROOT / "challenges"


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    (challenge,) = [c for c in load_challenges(REAL) if c.id == "prix-immobilier"]
    root = tmp_path_factory.mktemp("defi")
    info = release_challenge(challenge, root / "release", root / "hidden")
    labels = read_labels(root / "hidden" / challenge.id / "labels.csv", challenge)
    return challenge, root, info, labels


def as_csv(rows, header=("id", "prix")) -> bytes:
    return ("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows]) + "\n").encode()


def test_the_release_gives_data_and_starter_notebook_and_keeps_the_labels(released):
    challenge, root, info, labels = released
    public = root / "release" / challenge.id
    assert sorted(p.name for p in public.iterdir()) == ["debutant.ipynb", "intermediaire.ipynb", "test.csv",
                                                        "train.csv"]
    with (public / "test.csv").open() as f:
        header = next(csv.reader(f))
    assert "prix" not in header and len(labels) == info["test_rows"] == 1000
    released_text = "".join(p.read_text(errors="replace") for p in public.rglob("*") if p.is_file())
    sample = [f"{i},{int(v)}" for i, v in list(labels.items())[:50]]
    assert not any(line in released_text for line in sample)  # no id with its price anywhere public
    assert info["public_rows"] == 500 and info["baseline"]["public"]["mape"] > 30
    # The starter notebooks are the learners' version: nbgrader's stub for every answer, the steps kept,
    # and what the kernel reports the steps against.
    starter = nbformat.read(public / "debutant.ipynb", as_version=4)
    answers = [c for c in starter.cells if (c.metadata.get("nbgrader") or {}).get("solution")]
    assert answers and all("# VOTRE CODE ICI\nraise NotImplementedError()" in c.source for c in answers)
    assert 'groupby(train["departement"]).median()' not in "".join(c.source for c in starter.cells)
    assert starter.metadata["autoformation"] == {"challenge": "prix-immobilier", "level": "débutant"}
    assert parcours_steps(challenge) == {"débutant": ["verif-1", "verif-2"], "intermédiaire": ["verif-1", "verif-2"]}
    # Released again with nothing changed (as `make up` does at every start): nothing is done.
    assert release_challenge(challenge, root / "release", root / "hidden")["up_to_date"]


def test_a_good_file_passes_and_every_kind_of_bad_one_is_named(released):
    challenge, _, _, labels = released
    ids = set(labels)
    good = as_csv([(i, 250000) for i in sorted(ids)])
    predictions, problems = check_predictions(good, challenge, ids)
    assert problems == [] and len(predictions) == 1000
    first = sorted(ids)[0]
    cases = {
        "wrong columns": (as_csv([(first, 1)], header=("id", "price")), "Colonnes attendues : id, prix"),
        "latin-1": ("id,prix\nV03000,é\n".encode("latin-1"), "encodé en UTF-8"),
        "huge": (b"x" * (MAX_PREDICTIONS_BYTES + 1), "trop volumineux"),
        "empty": (b"", "vide"),
        "duplicate": (as_csv([(first, 1), (first, 2)]), "en double"),
        "NaN": (as_csv([(first, "nan")]), "manquante ou infinie"),
        "inf": (as_csv([(first, "inf")]), "manquante ou infinie"),
        "formula": (as_csv([(first, "=HYPERLINK(\"http://x\")")]), "n'est pas un nombre"),
        "unknown id": (as_csv([("<script>alert(1)</script>", 3)]), "absent du jeu de test"),
        "missing ids": (as_csv([(first, 3)]), "999 identifiant(s) du jeu de test sans prédiction"),
        "extra column": (b"id,prix\nV03000,1,2\n", "2 valeurs attendues, 3 reçues"),
    }
    for name, (content, message) in cases.items():
        predictions, problems = check_predictions(content, challenge, ids)
        assert predictions == {} and any(message in p for p in problems), (name, problems)
        assert len(problems) <= 20
    # A French spreadsheet's export (';' between columns, a decimal comma) is read as it means.
    french = "id;prix\n" + "".join(f"{i};250000,5\n" for i in sorted(ids))
    ok, problems = check_predictions(french.encode(), challenge, ids)
    assert problems == [] and ok[first] == 250000.5


def test_teams_are_the_groups_with_the_prefix():
    assert team_of(["learners", "equipe-b", "equipe-a"], "equipe-") == "equipe-a"
    assert team_of(["learners", "promo-a"], "equipe-") is None


def test_the_real_challenges_pass_their_checks_and_a_broken_one_is_named(tmp_path):
    challenges = {c.id: c for c in load_challenges(REAL)}
    assert set(challenges) == {"prix-immobilier", "codage-naf"}
    for challenge in challenges.values():  # released, scored (baseline, perfect), starters run, nothing leaks
        assert check(challenge, tmp_path / challenge.id) == [], challenge.id
    challenge = challenges["prix-immobilier"]
    broken = tmp_path / "casse" / "prix-immobilier"
    shutil.copytree(challenge.path, broken)
    data = yaml.safe_load((broken / "challenge.yaml").read_text())
    (broken / "score.py").write_text("def score(p, l):\n    return {'mape': 0.0}\n")  # rmse forgotten
    starter = broken / "parcours" / "debutant.ipynb"
    starter.write_text(starter.read_text().replace('\\"surface\\"]).groupby', '\\"surfaces\\"]).groupby'))
    # Answers left in plain cells: the learners' version would hand them out and pass its steps untouched.
    second = broken / "parcours" / "intermediaire.ipynb"
    source = second.read_text()
    second.write_text(source.replace('"solution": true', '"solution": false').replace("### BEGIN SOLUTION\\n", "")
                      .replace("\\n### END SOLUTION", ""))
    problems = check(load_challenge(broken), tmp_path / "broken")
    assert any("leaderboard columns" in p for p in problems)
    assert any("debutant.ipynb does not run to the end" in p and "surfaces" in p for p in problems), problems
    assert any("the released intermediaire.ipynb runs to the end with no answer" in p for p in problems), problems
    # Solution markers outside a solution cell: nbgrader's own message, naming the notebook.
    second.write_text(source.replace('"solution": true', '"solution": false'))
    with pytest.raises(ChallengeError, match="intermediaire.ipynb: Solution region detected in a non-solution cell"):
        check(load_challenge(broken), tmp_path / "broken-again")
    data["metric"]["direction"] = "maximise"
    (broken / "challenge.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(ChallengeError, match="field 'metric.direction' must be one of minimize, maximize"):
        load_challenge(broken)
