"""`autoformation up` stopped with `kill` while a submission is being graded: everything it started is
gone within 10 s, and the interrupted submission is graded after the next start."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from autoformation.grading.store import DONE, GRADING, Store
from autoformation.settings import load
from tests.conftest import start_platform

pytestmark = pytest.mark.slow

COURSES = Path(__file__).parent / "fixtures" / "courses"
SOURCE = COURSES / "demo" / "source" / "01-bases" / "bases.ipynb"


def slow_notebook(seconds: int) -> bytes:
    nb = nbformat.read(SOURCE, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "moyenne":
            cell.source = f"import time\ntime.sleep({seconds})\n" + cell.source
    return nbformat.writes(nb).encode()


def wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_kill_mid_grading_leaves_nothing_and_loses_nothing(tmp_path):
    platform = start_platform(tmp_path, courses={"source_dir": str(COURSES)})
    try:
        store = Store(load(platform.settings_file).grading_db_url())
        sub_id = store.submit("alice", "demo", "01-bases", "bases.ipynb", slow_notebook(25))
        wait(lambda: store.get(sub_id).status == GRADING, 60, "grading to start")
        time.sleep(2)  # the sandbox is running
        tree = psutil.Process(platform.proc.pid).children(recursive=True)
        assert any("runner.py" in " ".join(p.cmdline()) for p in tree if p.is_running())
        started = time.monotonic()
        platform.proc.send_signal(signal.SIGTERM)  # what `kill` does
        platform.proc.wait(10)
        _, alive = psutil.wait_procs(tree, timeout=max(0.1, 10 - (time.monotonic() - started)))
        assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], [p.cmdline() for p in alive]
        assert time.monotonic() - started < 10
        assert store.get(sub_id).status == GRADING  # interrupted, not lost
    finally:
        platform.stop()
    platform = start_platform(tmp_path, courses={"source_dir": str(COURSES)})
    try:
        wait(lambda: store.get(sub_id).status == DONE, 120, "the interrupted submission to be graded")
        assert (store.get(sub_id).result, store.get(sub_id).score) == ("graded", 3.0)
    finally:
        platform.stop()
