"""Instant self-check, kindly: a failed visible test shows its French hint, not a traceback.

An IPython extension loaded in every learner kernel (hub_config/ipython/ipython_kernel_config.py).
Running an exercise's test cell is the check: its `assert ..., "message"` carries the hint. The
failure is still an error (the cell stops, nbgrader's validate and grading see it); only what the
learner reads changes.
"""

from __future__ import annotations

import traceback

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


def load_ipython_extension(shell) -> None:
    shell.set_custom_exc((AssertionError,), _friendly)
