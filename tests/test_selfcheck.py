"""The learner's instant self-check in a real kernel: the hint, not a traceback, and still an error."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def kernel():
    installed = Path(sys.prefix) / "etc" / "ipython" / "ipython_kernel_config.py"
    assert installed.read_text() == (ROOT / "hub_config/ipython/ipython_kernel_config.py").read_text(), (
        "make install copies hub_config/ipython/ into the environment"
    )
    km, kc = start_new_kernel(kernel_name="python3")
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def run(kc, code: str) -> tuple[str, list[dict]]:
    reply = kc.execute_interactive(code, timeout=30, output_hook=lambda msg: outputs.append(msg))
    return reply["content"]["status"], outputs


outputs: list[dict] = []


def test_failed_check_shows_the_hint_and_stays_an_error(kernel):
    outputs.clear()
    status, msgs = run(kernel, 'x = 2\nassert x == 3, "x devrait valoir 3. Indice : relisez la consigne."')
    assert status == "error"
    errors = [m["content"] for m in msgs if m["msg_type"] == "error"]
    assert errors and errors[0]["ename"] == "AssertionError"
    text = "\n".join(errors[0]["traceback"])
    assert "Pas encore" in text and "x devrait valoir 3. Indice : relisez la consigne." in text
    assert "Traceback" not in text and "File " not in text


def test_assert_without_message_names_the_condition(kernel):
    outputs.clear()
    status, msgs = run(kernel, "assert 1 + 1 == 3")
    text = "\n".join(next(m["content"] for m in msgs if m["msg_type"] == "error")["traceback"])
    assert status == "error" and "1 + 1 == 3" in text


def test_other_errors_keep_their_traceback(kernel):
    outputs.clear()
    status, msgs = run(kernel, "1 / 0")
    error = next(m["content"] for m in msgs if m["msg_type"] == "error")
    assert status == "error" and error["ename"] == "ZeroDivisionError"
    assert "Pas encore" not in "\n".join(error["traceback"])
