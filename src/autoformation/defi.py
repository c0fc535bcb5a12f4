"""Funathon challenges, from a participant's notebook or terminal (learner side, standard library only).

    >>> from autoformation import defi
    >>> defi.soumettre(predictions)          # a DataFrame (or a list of dicts) with the id and target columns

    $ autoformation defi soumettre predictions.csv [--defi prix-immobilier]

The challenge is the folder the notebook runs in (`~/defis/<id>/`) unless named. The file is checked by
the grading service (a refused file uses no quota), scored in its sandbox, and the team's score shown.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import time
import urllib.parse
from pathlib import Path

from .learner import SubmitError, _request, _service


def _challenge_here() -> str:
    cwd = Path.cwd().resolve()
    parts = cwd.parts
    if "defis" in parts and parts.index("defis") + 1 < len(parts):
        return parts[parts.index("defis") + 1]
    raise SubmitError("Indiquez le défi, par exemple soumettre(predictions, defi='prix-immobilier').")


def _level_here() -> str:
    """The level of the parcours notebook this runs in (its metadata, written at release), else ""."""
    try:
        nb = json.loads(Path(os.environ.get("JPY_SESSION_NAME", "")).read_text(encoding="utf-8"))
        return str(((nb.get("metadata") or {}).get("autoformation") or {}).get("level") or "")
    except (OSError, ValueError, AttributeError):
        return ""


def _csv(predictions) -> bytes:
    if hasattr(predictions, "to_csv"):  # a pandas DataFrame
        return predictions.to_csv(index=False).encode("utf-8")
    if isinstance(predictions, (str, Path)):
        return Path(predictions).expanduser().read_bytes()
    rows = list(predictions)
    if not rows or not isinstance(rows[0], dict):
        raise SubmitError("Soumettez un tableau (DataFrame) ou une liste de dictionnaires {id, valeur}.")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def submit(predictions, challenge: str | None = None, wait: bool = True, timeout: float = 300,
           level: str | None = None) -> dict:
    """Send the predictions; `level` (the parcours followed) defaults to the notebook's, else the team's."""
    service = _service()
    challenge = challenge or _challenge_here()
    url = f"{service}/api/challenges/{challenge}/submissions"
    level = level if level is not None else _level_here()
    query = f"?{urllib.parse.urlencode({'niveau': level})}" if level else ""
    sub = _request(url + query, raw=_csv(predictions))
    deadline = time.monotonic() + timeout
    while wait and time.monotonic() < deadline and sub.get("status") != "done":
        time.sleep(1)
        sub = _request(f"{url}/{sub['id']}")
    return sub


def describe(sub: dict) -> str:
    if sub.get("status") != "done":
        return f"Soumission n° {sub['id']} envoyée : elle est en cours d'évaluation."
    if sub.get("result") != "scored":
        return sub.get("message") or "La soumission n'a pas pu être évaluée."
    scores = ", ".join(f"{k} = {v:g}" for k, v in sub.get("public", {}).items())
    return f"Équipe {sub['team']} : score public {scores}. Classement : page du défi."


def soumettre(predictions, defi: str | None = None, niveau: str | None = None) -> None:
    """Dans un notebook : soumettez vos prédictions au défi (un tableau avec l'identifiant et la cible).
    Le niveau est celui du parcours ouvert, sinon celui de l'équipe."""
    try:
        print(describe(submit(predictions, defi, level=niveau)))
    except SubmitError as err:
        print(f"Soumission impossible : {err}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autoformation defi", description="Soumettre des prédictions à un défi.")
    sub = parser.add_subparsers(dest="action", required=True)
    s = sub.add_parser("soumettre", help="envoyer un fichier CSV de prédictions")
    s.add_argument("fichier")
    s.add_argument("--defi", help="le défi (par défaut : celui du dossier courant)")
    s.add_argument("--niveau", help="le parcours suivi (par défaut : celui de l'équipe)")
    args = parser.parse_args(argv)
    try:
        print(describe(submit(args.fichier, args.defi, level=args.niveau)))
        return 0
    except (SubmitError, OSError) as err:
        print(f"autoformation defi: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
