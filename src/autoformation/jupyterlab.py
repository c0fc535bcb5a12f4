"""Server extension of the learner's single-user server: submit a notebook from JupyterLab.

    POST <base_url>autoformation/submit            {"path": "ml/01-x/nb.ipynb"}  -> submission JSON (202)
    GET  <base_url>autoformation/submissions/<id>                                 -> submission JSON

The JupyterLab "Soumettre" button calls these; they forward to the grading service through
autoformation.learner, i.e. with this server's own hub token, so as this learner only.
Errors come back as {"message": "..."} in French, for the learner.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
from pathlib import Path

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from . import defi, learner

NAMESPACE = "autoformation"


def submission_status(sub_id: str) -> dict:
    """The grading service's current view of one of this learner's submissions."""
    service = os.environ.get("AUTOFORMATION_GRADING_URL", "").rstrip("/")
    if not service:
        raise learner.SubmitError(
            "Service de correction inconnu (AUTOFORMATION_GRADING_URL) : êtes-vous sur la plateforme ?"
        )
    return learner._request(f"{service}/api/submissions/{sub_id}")


def error_status(err: learner.SubmitError) -> int:
    """HTTP status for a failed submission, from what caused it (learner.py keeps the cause as context)."""
    cause = err.__cause__ or err.__context__
    if isinstance(cause, learner.NotebookTooBig):
        return 413
    if isinstance(cause, urllib.error.HTTPError):
        return cause.code if 400 <= cause.code < 600 else 502
    if isinstance(cause, urllib.error.URLError):
        return 503  # grading service unreachable
    if cause is None:
        return 500  # platform set-up: no hub token or no grading service address
    return 400  # the notebook itself: outside the catalogue, missing, not JSON


class _Handler(APIHandler):
    auth_resource = "contents"  # submitting reads the learner's files, like the contents API

    def fail(self, status: int, message: str) -> None:
        self.set_status(status)
        self.finish({"message": message})


class SubmitHandler(_Handler):
    @web.authenticated
    @authorized
    async def post(self):
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            return self.fail(400, "Requête invalide : JSON attendu, par exemple {\"path\": \"ml/01/nb.ipynb\"}.")
        rel_path = body.get("path") if isinstance(body, dict) else None
        if not isinstance(rel_path, str) or not rel_path.strip():
            return self.fail(400, "Requête invalide : indiquez le chemin du notebook (champ « path »).")
        root = Path(self.settings["server_root_dir"]).expanduser().resolve()
        notebook = (root / rel_path.lstrip("/")).resolve()
        if not notebook.is_relative_to(root):
            return self.fail(400, f"Chemin refusé : {rel_path} sort de votre dossier personnel.")
        try:
            sub = await asyncio.to_thread(learner.submit, notebook, wait=False)
        except learner.SubmitError as err:
            self.log.warning("submission of %s failed: %s", rel_path, err)
            return self.fail(error_status(err), str(err))
        self.set_status(202)
        self.finish(sub)


class StatusHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self, sub_id: str):
        try:
            sub = await asyncio.to_thread(submission_status, sub_id)
        except learner.SubmitError as err:
            return self.fail(error_status(err), str(err))
        self.finish(sub)


class ChallengeHandler(_Handler):
    """A predictions file of the learner's home sent to its challenge (`defis/<challenge>/...`)."""

    @web.authenticated
    @authorized
    async def post(self):
        try:
            rel_path = json.loads(self.request.body or b"{}").get("path")
        except (ValueError, AttributeError):
            rel_path = None
        if not isinstance(rel_path, str) or not rel_path.strip():
            return self.fail(400, "Requête invalide : indiquez le chemin du fichier de prédictions (champ « path »).")
        root = Path(self.settings["server_root_dir"]).expanduser().resolve()
        path = (root / rel_path.lstrip("/")).resolve()
        parts = path.relative_to(root).parts if path.is_relative_to(root) else ()
        if len(parts) < 3 or parts[0] != "defis":
            return self.fail(400, f"{rel_path} n'est pas dans le dossier d'un défi (defis/<défi>/).")
        try:
            sub = await asyncio.to_thread(defi.submit, path, parts[1], False)
        except (learner.SubmitError, OSError) as err:
            return self.fail(error_status(err) if isinstance(err, learner.SubmitError) else 400, str(err))
        self.set_status(202)
        self.finish({**sub, "challenge": parts[1]})


class ChallengeStatusHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self, challenge: str, sub_id: str):
        try:
            url = f"{learner._service()}/api/challenges/{challenge}/submissions/{sub_id}"
            sub = await asyncio.to_thread(learner._request, url)
        except learner.SubmitError as err:
            return self.fail(error_status(err), str(err))
        self.finish(sub)


def _jupyter_server_extension_points():
    return [{"module": "autoformation.jupyterlab"}]


def _load_jupyter_server_extension(serverapp):
    base_url = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(".*$", [
        (url_path_join(base_url, NAMESPACE, "submit"), SubmitHandler),
        (url_path_join(base_url, NAMESPACE, r"submissions/(\d+)"), StatusHandler),
        (url_path_join(base_url, NAMESPACE, "defi"), ChallengeHandler),
        (url_path_join(base_url, NAMESPACE, r"defis/([\w-]+)/(\d+)"), ChallengeStatusHandler),
    ])
    serverapp.log.info("autoformation: submit API at %s", url_path_join(base_url, NAMESPACE))
