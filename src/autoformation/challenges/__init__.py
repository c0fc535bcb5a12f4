"""Funathon challenges: `challenges/<id>/` folders, their release and the checking of predictions.

A challenge is a folder with `challenge.yaml` (phases, metric and its direction, leaderboard columns,
quota, public share of the test set), the organisers' `generate.py` (writes train.csv, test.csv and the
hidden labels.csv, deterministically, offline), `score.py` (predictions and labels to metrics, run in
the grading sandbox) and `parcours/` (a starter notebook per level, `<level>.ipynb`, in nbgrader's source
format: answers between solution markers, self-checked steps as graded test cells). The labels never
leave the grading service's own folder: not the release, not learners' homes, not the book.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from ..catalogue import LEVELS
from ..schema import first_error

MAX_PREDICTIONS_BYTES = 2 * 1024 * 1024
_TEXT = {"type": "string", "minLength": 1}
_FR = {"type": "object", "required": ["fr"], "properties": {"fr": _TEXT}}
CHALLENGE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "autoformation challenge.yaml",
    "type": "object",
    "required": ["id", "title", "summary", "levels", "kind", "id_column", "target", "metric", "columns",
                 "quota_per_day", "public_fraction", "phases"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9-]+$"},
        "title": _FR, "summary": _FR,
        "levels": {"type": "array", "minItems": 1, "items": {"enum": list(LEVELS)}},
        "kind": {"enum": ["regression", "classification"]},
        "image": {"type": "string", "pattern": "^[a-z0-9-]+$"},
        "id_column": _TEXT, "target": _TEXT,
        "metric": {"type": "object", "required": ["name", "direction"],
                   "properties": {"name": _TEXT, "direction": {"enum": ["minimize", "maximize"]}}},
        "columns": {"type": "array", "minItems": 1, "items": _TEXT},
        "quota_per_day": {"type": "integer", "minimum": 1},
        "finals": {"type": "integer", "minimum": 1},
        "public_fraction": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "phases": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["name", "start", "end"],
            "properties": {"name": _TEXT, "start": {"type": "string", "format": "date-time"},
                           "end": {"type": "string", "format": "date-time"}}}},
    },
}


class ChallengeError(ValueError):
    """A challenge folder is missing a file or its challenge.yaml is wrong; the message names it."""


@dataclass
class Phase:
    name: str
    start: datetime
    end: datetime


@dataclass
class Challenge:
    id: str
    title: str
    summary: str
    levels: list[str]
    kind: str
    id_column: str
    target: str
    metric: str
    minimize: bool
    columns: list[str]
    quota_per_day: int
    finals: int  # submissions a team may select for the private leaderboard
    public_fraction: float
    phases: list[Phase]
    path: Path
    image: str = "ml"  # the learner image it runs in (its data goes into that image's material)
    closed_at: datetime | None = None  # the organisers closed it early (the grading service knows)

    def phase(self, now: datetime | None = None) -> Phase | None:
        """The phase open now, if any."""
        now = now or datetime.now(UTC)
        if self.closed(now):
            return None
        return next((p for p in self.phases if p.start <= now < p.end), None)

    def closes_at(self) -> datetime:
        """The end of its last phase, or when the organisers closed it, if earlier."""
        end = max(p.end for p in self.phases)
        return min(end, self.closed_at) if self.closed_at is not None else end

    def closed(self, now: datetime | None = None) -> bool:
        """The private leaderboard is revealed; what is submitted from then on is "hors concours"."""
        return (now or datetime.now(UTC)) >= self.closes_at()

    def better(self, a: float, b: float) -> bool:
        return a < b if self.minimize else a > b


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def load_challenge(folder: Path) -> Challenge:
    where = folder / "challenge.yaml"
    try:
        data = yaml.safe_load(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ChallengeError(f"{where}: file not found") from None
    except yaml.YAMLError as err:
        raise ChallengeError(f"{where}: not valid YAML: {err}") from None
    problem = first_error(CHALLENGE_SCHEMA, data, noun="field")
    if problem:
        raise ChallengeError(f"{where}: {problem}")
    if data["id"] != folder.name:
        raise ChallengeError(f"{where}: id '{data['id']}' differs from its folder name '{folder.name}'")
    if data["metric"]["name"] not in data["columns"]:
        raise ChallengeError(f"{where}: the metric '{data['metric']['name']}' must be one of the columns")
    for name in ("generate.py", "score.py"):
        if not (folder / name).is_file():
            raise ChallengeError(f"{folder}: {name} is missing")
    phases = [Phase(p["name"], _time(p["start"]), _time(p["end"])) for p in data["phases"]]
    if any(p.end <= p.start for p in phases):
        raise ChallengeError(f"{where}: a phase must end after it starts")
    return Challenge(data["id"], data["title"]["fr"], data["summary"]["fr"], data["levels"], data["kind"],
                     data["id_column"], data["target"], data["metric"]["name"],
                     data["metric"]["direction"] == "minimize", data["columns"], data["quota_per_day"],
                     data.get("finals", 2), data["public_fraction"], phases, folder, data.get("image", "ml"))


def load_challenges(challenges_dir: Path) -> list[Challenge]:
    return [load_challenge(p.parent) for p in sorted(challenges_dir.glob("*/challenge.yaml"))]


# --- parcours -------------------------------------------------------------------------------------
def level_file(level: str) -> str:
    """The level's starter notebook's name: the level without accents ("débutant" -> "debutant.ipynb")."""
    import unicodedata

    return unicodedata.normalize("NFKD", level).encode("ascii", "ignore").decode() + ".ipynb"


def parcours_notebooks(challenge: Challenge) -> dict[str, Path]:
    """level -> its starter notebook (source version, with the answers)."""
    return {level: challenge.path / "parcours" / level_file(level) for level in challenge.levels
            if (challenge.path / "parcours" / level_file(level)).is_file()}


def parcours_steps(challenge: Challenge) -> dict[str, list[str]]:
    """level -> the ids of its self-checked steps (graded test cells), in order."""
    from ..notebooks import exercises

    steps = {}
    for level, path in parcours_notebooks(challenge).items():
        nb = json.loads(path.read_text(encoding="utf-8"))
        steps[level] = [ex.grade_id for ex in exercises(nb) if not ex.manual]
    return steps


def release_parcours(challenge: Challenge, target: Path) -> None:
    """The learners' version of each starter notebook: answers replaced by nbgrader's stub, outputs cleared."""
    import nbformat
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions

    from ..courses.nbgrader_setup import CODE_STUB

    for level, path in parcours_notebooks(challenge).items():
        nb = nbformat.read(path, as_version=4)
        try:
            for pre in (ClearSolutions(code_stub={"python": CODE_STUB}), ClearHiddenTests(), ClearOutput()):
                nb, _ = pre.preprocess(nb, {})
        except RuntimeError as err:  # nbgrader's own message (a missing END marker...)
            raise ChallengeError(f"{path}: {err}") from None
        # What the learner's kernel reports its self-checked steps against (autoformation.selfcheck).
        nb.metadata["autoformation"] = {"challenge": challenge.id, "level": level}
        nbformat.write(nb, target / level_file(level))


# --- release --------------------------------------------------------------------------------------
def public_ids(ids: list[str], fraction: float, salt: str) -> set[str]:
    """The ids scored on the public leaderboard: a fixed, unguessable-from-the-data share of the test set."""
    ranked = sorted(ids, key=lambda i: hashlib.sha256(f"{salt}:{i}".encode()).hexdigest())
    return set(ranked[: max(1, round(len(ids) * fraction))])


def release_challenge(challenge: Challenge, release_dir: Path, hidden_dir: Path, force: bool = False) -> dict:
    """Generate the data; the public part to `release_dir/<id>/` (learners' homes get it), the labels and
    the public/private split to `hidden_dir/<id>/` (the grading service's own folder). Nothing is done again
    while the challenge's folder is unchanged (`make up` releases at every start)."""
    from ..notebooks import hash_tree

    digest = hash_tree(challenge.path, salt="challenge-release-1")
    manifest = hidden_dir / challenge.id / "release.json"
    if not force and manifest.is_file() and (release_dir / challenge.id).is_dir():
        known = json.loads(manifest.read_text())
        if known.get("source_hash") == digest:
            return {**known["summary"], "up_to_date": True}
    with tempfile.TemporaryDirectory(prefix="defi-") as tmp:
        run = subprocess.run([sys.executable, str(challenge.path / "generate.py"), tmp], capture_output=True,
                             text=True, timeout=600)
        if run.returncode:
            raise ChallengeError(f"{challenge.id}: generate.py failed: {run.stderr.strip()[-1000:]}")
        produced = {p.name for p in Path(tmp).iterdir()}
        if not {"train.csv", "test.csv", "labels.csv"} <= produced:
            raise ChallengeError(f"{challenge.id}: generate.py must write train.csv, test.csv and labels.csv")
        labels = read_labels(Path(tmp) / "labels.csv", challenge)
        target = release_dir / challenge.id
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in sorted(produced - {"labels.csv"}):
            shutil.copyfile(Path(tmp) / name, target / name)
        release_parcours(challenge, target)
        hidden = hidden_dir / challenge.id
        hidden.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(tmp) / "labels.csv", hidden / "labels.csv")
        split = sorted(public_ids(list(labels), challenge.public_fraction, challenge.id))
        (hidden / "split.json").write_text(json.dumps({"public": split}))
        baseline = baseline_scores(challenge, Path(tmp) / "train.csv", labels, set(split))
        (hidden / "baseline.json").write_text(json.dumps(baseline))
    summary = {"release": str(target), "test_rows": len(labels), "public_rows": len(split), "baseline": baseline}
    manifest.write_text(json.dumps({"source_hash": digest, "summary": summary}))
    return {**summary, "up_to_date": False}


def scorer(challenge: Challenge):
    """The organisers' `score` function (trusted code: organiser tools only; learners' files are scored in
    the grading sandbox)."""
    import importlib.util

    name = f"score_{challenge.id.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(name, challenge.path / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.score


def split_scores(challenge: Challenge, predictions: dict, labels: dict, public: set[str]) -> dict[str, dict]:
    score = scorer(challenge)
    parts = {"public": [i for i in labels if i in public], "private": [i for i in labels if i not in public]}
    found = {part: score({i: predictions[i] for i in ids}, {i: labels[i] for i in ids}) for part, ids in parts.items()}
    return {part: {k: float(v) for k, v in metrics.items()} for part, metrics in found.items()}


def baseline_scores(challenge: Challenge, train: Path, labels: dict, public: set[str]) -> dict[str, dict]:
    """The leaderboard's reference row: the training mean (regression) or its most frequent class."""
    from collections import Counter
    from statistics import fmean

    with train.open(newline="", encoding="utf-8") as f:
        values = [r[challenge.target] for r in csv.DictReader(f)]
    guess = fmean(map(float, values)) if challenge.kind == "regression" else Counter(values).most_common(1)[0][0]
    return split_scores(challenge, {i: guess for i in labels}, labels, public)


def read_labels(path: Path, challenge: Challenge) -> dict[str, float | str]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if challenge.kind == "regression":
        return {r[challenge.id_column]: float(r[challenge.target]) for r in rows}
    return {r[challenge.id_column]: r[challenge.target] for r in rows}


# --- predictions ----------------------------------------------------------------------------------
def check_predictions(content: bytes, challenge: Challenge, test_ids: set[str]) -> tuple[dict, list[str]]:
    """The predictions of a submitted file, or the problems that keep it from counting (in French, one
    per problem; a rejected file uses no quota)."""
    if len(content) > MAX_PREDICTIONS_BYTES:
        return {}, [f"Fichier trop volumineux ({len(content) // 1024} Ko) : au plus "
                    f"{MAX_PREDICTIONS_BYTES // 1024} Ko, une ligne par identifiant du jeu de test."]
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return {}, ["Le fichier n'est pas encodé en UTF-8 : enregistrez-le en UTF-8 (CSV)."]
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","  # a French spreadsheet's CSV: ';' and 1,5
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as err:
        return {}, [f"CSV illisible : {err}."]
    if not rows:
        return {}, ["Le fichier est vide."]
    header = [h.strip() for h in rows[0]]
    wanted = [challenge.id_column, challenge.target]
    if sorted(header) != sorted(wanted):
        return {}, [f"Colonnes attendues : {', '.join(wanted)} ; reçues : {', '.join(header[:10]) or 'aucune'}."]
    id_at, value_at = header.index(challenge.id_column), header.index(challenge.target)
    problems: list[str] = []
    predictions: dict[str, float | str] = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != 2:
            problems.append(f"Ligne {line} : 2 valeurs attendues, {len(row)} reçues.")
            continue
        key, raw = row[id_at].strip(), row[value_at].strip()
        if key in predictions:
            problems.append(f"Ligne {line} : identifiant « {key[:40]} » en double.")
            continue
        if key not in test_ids:
            problems.append(f"Ligne {line} : identifiant « {key[:40]} » absent du jeu de test.")
            continue
        if challenge.kind == "regression":
            try:
                value = float(raw.replace(",", "."))
            except ValueError:
                problems.append(f"Ligne {line} : « {raw[:40]} » n'est pas un nombre.")
                continue
            if not math.isfinite(value):
                problems.append(f"Ligne {line} : valeur manquante ou infinie ({raw[:20]}).")
                continue
            predictions[key] = value
        else:
            if not raw:
                problems.append(f"Ligne {line} : valeur manquante.")
                continue
            predictions[key] = raw
        if len(problems) >= 20:
            break
    missing = test_ids - set(predictions)
    if missing and len(problems) < 20:
        problems.append(f"{len(missing)} identifiant(s) du jeu de test sans prédiction, par exemple "
                        f"« {sorted(missing)[0]} ».")
    return (predictions, []) if not problems else ({}, problems[:20])


def team_of(groups: list[str], prefix: str) -> str | None:
    """A participant's team: their Keycloak group with the teams' prefix (the first, if several)."""
    teams = sorted(g for g in groups if g.startswith(prefix))
    return teams[0] if teams else None
