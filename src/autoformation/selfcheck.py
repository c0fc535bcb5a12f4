"""Instant self-check, kindly: a failed visible test shows its French hint, not a traceback.

An IPython extension loaded in every learner kernel (hub_config/ipython/ipython_kernel_config.py).
Running an exercise's test cell is the check: its `assert ..., "message"` carries the hint. The
failure is still an error (the cell stops, nbgrader's validate and grading see it); only what the
learner reads changes.

In a Funathon parcours (`~/defis/<challenge>/<level>.ipynb`), each self-checked step is also reported
to the grading service, so that organisers see which teams are stuck where. The report is sent in the
background, with the learner's own token, and any failure to send it is ignored: it never slows or
breaks the learner's notebook. It is self-reported: organisers' information, never a score.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import traceback
import urllib.request
from pathlib import Path

RED, GREEN, BOLD, RESET = "\x1b[31m", "\x1b[32m", "\x1b[1m", "\x1b[0m"


def _friendly(shell, etype, value, tb, tb_offset=None):
    message = str(value).strip()
    if not message:
        # An assert without a message: show the condition that failed.
        frames = traceback.extract_tb(tb)
        line = frames[-1].line if frames else ""
        message = f"la condition « {line} » n'est pas vérifiée."
    stb = [
        f"{RED}{BOLD}✘ Pas encore : {RESET}{message}",
        "Corrigez votre réponse plus haut, exécutez-la, puis relancez ce test.",
    ]
    shell._showtraceback(etype, value, stb)
    return stb


@functools.lru_cache(maxsize=8)
def _parcours_cells(path: str, mtime_ns: int) -> dict[str, tuple[str, str, str]]:
    """cell id -> (challenge, level, step) for the self-checked steps of a released parcours notebook
    (read again only when the file changes: every cell run asks)."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    about = (nb.get("metadata") or {}).get("autoformation") or {}
    if not (about.get("challenge") and about.get("level")):
        return {}
    steps = {}
    for cell in nb.get("cells") or []:
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if cell.get("id") and meta.get("grade") and not meta.get("solution") and meta.get("grade_id"):
            steps[cell["id"]] = (about["challenge"], about["level"], meta["grade_id"])
    return steps


def _parcours_step(notebook: Path, cell_id: str) -> tuple[str, str, str] | None:
    """(challenge, level, step) when `cell_id` is a self-checked step of a released parcours notebook."""
    try:
        mtime = notebook.stat().st_mtime_ns
    except OSError:
        return None
    return _parcours_cells(str(notebook), mtime).get(cell_id)


def _send(url: str, token: str, report: dict) -> None:
    request = urllib.request.Request(url, data=json.dumps(report).encode(), method="POST", headers={
        "Authorization": f"token {token}", "Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except OSError:
        pass  # the service is down or refuses: the learner's work goes on


def _report_step(shell, result) -> None:
    service = os.environ.get("AUTOFORMATION_GRADING_URL", "").rstrip("/")
    token = os.environ.get("JUPYTERHUB_API_TOKEN")
    notebook = os.environ.get("JPY_SESSION_NAME", "")
    if not (service and token and notebook.endswith(".ipynb") and "defis" in Path(notebook).parts):
        return
    kernel = getattr(shell, "kernel", None)
    parent = kernel.get_parent("shell") if kernel is not None else {}
    cell_id = ((parent or {}).get("metadata") or {}).get("cellId")
    found = _parcours_step(Path(notebook), cell_id) if cell_id else None
    if found:
        challenge, level, step = found
        report = {"level": level, "step": step, "passed": bool(result.success)}
        threading.Thread(target=_send, args=(f"{service}/api/challenges/{challenge}/steps", token, report),
                         daemon=True).start()


def load_ipython_extension(shell) -> None:
    shell.set_custom_exc((AssertionError,), _friendly)
    shell.events.register("post_run_cell", lambda result: _report_step(shell, result))
