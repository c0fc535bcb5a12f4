"""The "Soumettre" server extension in a real jupyter_server, against a stand-in grading service."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from autoformation import jupyterlab as ext
from autoformation.learner import SubmitError

ROOT = Path(__file__).resolve().parents[1]
JUPYTER = Path(sys.executable).parent / "jupyter"
SERVER_TOKEN = "server-secret"
HUB_TOKEN = "hub-token-of-ada"
DONE = {
    "id": 7, "status": "done", "message": "Bravo, tout est juste sauf un exercice.", "score": 2.0, "max_score": 3.0,
    "exercises": [{"grade_id": "ex1", "points": 2.0, "max_points": 2.0},
                  {"grade_id": "ex2", "points": 0.0, "max_points": 1.0}],
    "feedback_url": "/services/grading/feedback/7",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeGrading(BaseHTTPRequestHandler):
    """The grading service's JSON API: one submission, queued on the first look, done after."""

    received: list[dict] = []
    looks = 0

    def reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeGrading.received.append({"auth": self.headers.get("Authorization"), "path": self.path, **body})
        self.reply(202, {"id": 7, "status": "queued", "url": "/services/grading/api/submissions/7"})

    def do_GET(self):
        if self.path == "/services/grading/api/submissions/7":
            FakeGrading.looks += 1
            self.reply(200, {"id": 7, "status": "queued"} if FakeGrading.looks == 1 else DONE)
        else:
            self.reply(404, {"message": "Soumission introuvable."})

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def grading():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGrading)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/services/grading/"
    server.shutdown()


@pytest.fixture(scope="module")
def server(tmp_path_factory, grading):
    home = tmp_path_factory.mktemp("ada")
    chapter = home / "ml" / "01-x"
    chapter.mkdir(parents=True)
    notebook = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (chapter / "nb.ipynb").write_text(json.dumps(notebook))
    (chapter / "broken.ipynb").write_text("{ not json")
    (chapter / "huge.ipynb").write_text(json.dumps({**notebook, "metadata": {"big": "x" * (6 * 1024 * 1024)}}))
    (home / "loose.ipynb").write_text(json.dumps(notebook))
    port = free_port()
    env = {
        **os.environ, "HOME": str(home), "JUPYTER_CONFIG_PATH": str(ROOT / "hub_config" / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(home / ".runtime"), "JUPYTERHUB_API_TOKEN": HUB_TOKEN,
        "AUTOFORMATION_GRADING_URL": grading,
    }
    args = [str(JUPYTER), "server", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={SERVER_TOKEN}", f"--ServerApp.root_dir={home}",
            "--ServerApp.base_url=/user/ada/"]
    if os.geteuid() == 0:
        args.append("--allow-root")
    log = open(home / "server.log", "w")
    proc = subprocess.Popen(args, env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/user/ada/"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}api/status?token={SERVER_TOKEN}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("jupyter server did not start:\n" + (home / "server.log").read_text()[-3000:])
            time.sleep(0.3)
    yield base
    proc.terminate()
    proc.wait(timeout=15)
    log.close()


def call(url: str, body: dict | None = None, token: str | None = SERVER_TOKEN) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None)
    if token:
        req.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def test_submit_then_follow_until_done(server):
    status, sub = call(f"{server}autoformation/submit", {"path": "ml/01-x/nb.ipynb"})
    assert (status, sub["id"], sub["status"]) == (202, 7, "queued")
    sent = FakeGrading.received[-1]
    assert sent["auth"] == f"token {HUB_TOKEN}"  # as the learner, with the server's hub token
    assert (sent["path"], sent["course"], sent["assignment"], sent["notebook"]) == (
        "/services/grading/api/submissions", "ml", "01-x", "nb.ipynb")
    assert sent["content"]["nbformat"] == 4

    assert call(f"{server}autoformation/submissions/7")[1]["status"] == "queued"
    status, done = call(f"{server}autoformation/submissions/7")
    assert status == 200
    assert (done["status"], done["score"], done["max_score"]) == ("done", 2.0, 3.0)
    assert [e["grade_id"] for e in done["exercises"]] == ["ex1", "ex2"]
    assert done["feedback_url"] == "/services/grading/feedback/7"


@pytest.mark.parametrize("path, status, message", [
    ("../elsewhere/nb.ipynb", 400, "sort de votre dossier personnel"),
    ("loose.ipynb", 400, "n'est pas un exercice du catalogue"),
    ("ml/01-x/broken.ipynb", 400, "JSON invalide"),
    ("ml/01-x/absent.ipynb", 400, "Fichier introuvable"),
    ("ml/01-x/huge.ipynb", 413, "dépasse 5 Mo"),
    ("", 400, "indiquez le chemin du notebook"),
])
def test_submit_errors_are_french_messages(server, path, status, message):
    before = len(FakeGrading.received)
    got_status, body = call(f"{server}autoformation/submit", {"path": path})
    assert got_status == status
    assert message in body["message"]
    assert len(FakeGrading.received) == before  # nothing sent to the grading service


def test_unknown_submission_keeps_the_service_status_and_message(server):
    assert call(f"{server}autoformation/submissions/99") == (404, {"message": "Soumission introuvable."})


def test_anonymous_requests_are_refused(server):
    status, _ = call(f"{server}autoformation/submit", {"path": "ml/01-x/nb.ipynb"}, token=None)
    assert status in (401, 403)
    assert call(f"{server}autoformation/submissions/7", token=None)[0] in (401, 403)


def test_error_status_follows_the_cause(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", HUB_TOKEN)
    with pytest.raises(SubmitError, match="ne répond pas") as unreachable:
        ext.learner._request(f"http://127.0.0.1:{free_port()}/api/submissions/1")
    assert ext.error_status(unreachable.value) == 503
    monkeypatch.delenv("AUTOFORMATION_GRADING_URL", raising=False)
    with pytest.raises(SubmitError, match="AUTOFORMATION_GRADING_URL") as unset:
        ext.submission_status("1")
    assert ext.error_status(unset.value) == 500


def test_lab_page_loads_the_submit_extension(server):
    html = urllib.request.urlopen(f"{server}lab?token={SERVER_TOKEN}", timeout=30).read().decode()
    config = json.loads(html.split('id="jupyter-config-data" type="application/json">', 1)[1].split("</script>", 1)[0])
    names = [e["name"] for e in config.get("federated_extensions", [])]
    assert "@autoformation/submit" in names, (
        "the Soumettre extension is not installed in this environment (make install builds it)")
    assert "@autoformation/submit" not in json.dumps(config.get("disabledExtensions", []))
