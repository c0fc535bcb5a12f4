"""The learner's side of grading, usable from a terminal or a notebook (standard library only).

    $ autoformation submit ml/01-premiers-modeles/modeles.ipynb
    >>> from autoformation.learner import soumettre; soumettre()   # in the notebook itself

It sends the saved notebook to the grading service with the server's own token (so as the
learner, and only as them), waits for the result and prints it with the link to the feedback.
Elsewhere (the SSP Cloud, see images/onyxia/init.sh): `autoformation submit --hub URL NOTEBOOK` with
the learner's token from the hub's token page in AUTOFORMATION_TOKEN.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .notebooks import MAX_NOTEBOOK_BYTES


class NotebookTooBig(ValueError):
    """The notebook is over the grading service's cap: the learner's to fix (HTTP 413)."""


class SubmitError(RuntimeError):
    """Why a submission could not be sent; the message is for the learner (French)."""


def _outside(name: str) -> str:
    """Outside the platform (SSP Cloud): AUTOFORMATION_<NAME>, else ~/.config/autoformation/<name> (the init
    script writes the hub's address there; the learner may put their token there, readable by them only)."""
    value = os.environ.get(f"AUTOFORMATION_{name.upper()}", "")
    path = Path(os.environ.get("HOME", "~")).expanduser() / ".config" / "autoformation" / name
    if not value and path.is_file():
        value = path.read_text(encoding="utf-8").strip()
    return value


def _service() -> str:
    service = os.environ.get("AUTOFORMATION_GRADING_URL", "").rstrip("/")
    if not service and _outside("hub"):  # outside the platform: its public address
        service = _outside("hub").rstrip("/") + "/services/grading"
    if not service:
        raise SubmitError("Service de correction inconnu (AUTOFORMATION_GRADING_URL) : êtes-vous sur la plateforme ?")
    return service


def _request(url: str, data: dict | None = None, raw: bytes | None = None) -> dict:
    """A call to the grading service with the learner's own token: JSON, or a raw file (`raw`, CSV)."""
    token = os.environ.get("JUPYTERHUB_API_TOKEN") or _outside("token")
    if not token:
        raise SubmitError("Pas de jeton JupyterHub : soumettez depuis votre environnement sur la plateforme, ou "
                          "créez un jeton sur sa page « Token » et exportez-le : export AUTOFORMATION_TOKEN=...")
    body = json.dumps(data).encode() if data is not None else raw
    req = urllib.request.Request(url, data=body, headers={"Authorization": f"token {token}"})
    if body is not None:
        req.add_header("Content-Type", "application/json" if data is not None else "text/csv")
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        try:
            answer = json.loads(err.read())
            message = "\n".join([answer.get("message") or "", *answer.get("problems", [])]).strip()
        except ValueError:
            message = ""
        raise SubmitError(message or f"Le service de correction a répondu {err.code}.") from None
    except OSError as err:
        raise SubmitError(f"Le service de correction ne répond pas ({err}). Réessayez dans un moment.") from None


def submit(notebook: str | os.PathLike, wait: bool = True, timeout: float = 600) -> dict:
    service = _service()
    path = Path(notebook).expanduser().resolve()
    home = Path(os.environ.get("HOME", ".")).resolve()
    try:
        course, assignment, name = path.relative_to(home).parts
    except ValueError:
        inside = path.parts[-3:] if len(path.parts) > 3 and _outside("hub") else None
        # Outside the platform the material is in <work>/<course>/<chapter>/: the service checks the names.
        course, assignment, name = inside or (None, None, None)
    if course is None:  # the notebook's own fault (400 in JupyterLab), hence its cause
        raise SubmitError(
            f"{path} n'est pas un exercice du catalogue : soumettez un notebook rangé dans "
            "<cours>/<chapitre>/ de votre dossier personnel."
        ) from ValueError("not in <course>/<chapter>/")
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:  # the service refuses more: do not even send it
            raise SubmitError(f"{path.name} dépasse {MAX_NOTEBOOK_BYTES // 2**20} Mo : effacez les sorties "
                              "volumineuses (Édition › Effacer toutes les sorties), enregistrez, puis soumettez.") \
                from NotebookTooBig(path.stat().st_size)
        content = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SubmitError(f"Fichier introuvable : {path}") from None
    except ValueError:
        raise SubmitError(f"{path.name} n'est pas un notebook lisible (JSON invalide).") from None
    sub = _request(
        f"{service}/api/submissions",
        {"course": course, "assignment": assignment, "notebook": name, "content": content},
    )
    deadline = time.monotonic() + timeout
    while wait and time.monotonic() < deadline:
        sub = _request(f"{service}/api/submissions/{sub['id']}")
        if sub["status"] == "done":
            break
        time.sleep(1)
    return sub


def describe(sub: dict) -> str:
    if sub.get("status") != "done":
        return f"Soumission n° {sub['id']} envoyée : elle est dans la file de correction."
    score = f"Score : {sub['score']:g} / {sub['max_score']:g}"
    if sub.get("awaiting_trainer"):
        score += f" (dont {sub['awaiting_trainer']:g} point(s) en attente de la correction d'un formateur)"
    lines = [sub["message"], score]
    for ex in sub["exercises"]:
        mark = "✔" if ex["points"] >= ex["max_points"] else "✘"
        lines.append(f"  {mark} {ex['grade_id']} : {ex['points']:g} / {ex['max_points']:g}")
    if sub.get("feedback_url"):
        lines.append(f"Correction détaillée : {sub['feedback_url']}")
    return "\n".join(lines)


def soumettre(chemin: str | None = None) -> None:
    """Dans un notebook : enregistrez (Ctrl+S), puis exécutez `soumettre()` pour le faire corriger."""
    chemin = chemin or os.environ.get("JPY_SESSION_NAME")
    if not chemin:
        print("Indiquez le notebook à soumettre, par exemple soumettre('ml/01-premiers-modeles/modeles.ipynb').")
        return
    try:
        print(describe(submit(chemin)))
    except SubmitError as err:
        print(f"Soumission impossible : {err}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autoformation submit", description="Send a notebook to be graded.")
    parser.add_argument("notebook", help="path of the notebook, e.g. ml/01-premiers-modeles/modeles.ipynb")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for the result")
    parser.add_argument("--hub", help="the platform's address, when submitting from elsewhere (token: "
                        "AUTOFORMATION_TOKEN, from the hub's token page)")
    args = parser.parse_args(argv)
    if args.hub:
        os.environ["AUTOFORMATION_HUB"] = args.hub
    try:
        print(describe(submit(args.notebook, wait=not args.no_wait)))
    except SubmitError as err:
        print(f"autoformation submit: {err}", file=sys.stderr)
        return 1
    return 0
