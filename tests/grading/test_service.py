"""The grading service process: its queue survives a SIGKILL, and progress follows its results (SQLite, PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import yaml

from autoformation.catalogue import load_catalogue
from autoformation.grading import progress
from autoformation.grading.gradebook import gradebook_url
from autoformation.grading.store import DONE, GRADING, Store
from autoformation.settings import load
from tests.conftest import free_port

pytestmark = pytest.mark.slow

COURSES = Path(__file__).resolve().parents[1] / "fixtures" / "courses"
COURSE, ASSIGNMENT, NOTEBOOK = "demo", "01-bases", "bases.ipynb"
SOURCE = COURSES / COURSE / "source" / ASSIGNMENT / NOTEBOOK
# The demo notebook's auto-graded tests: test_moyenne (2 points) and test_compter (1 point).
WRONG_MEAN = "def moyenne(liste):\n    return sum(liste)"
WRONG_COUNT = "n = 0"


def notebook(mean: str | None = None, count: str | None = None, sleep: float = 0) -> bytes:
    """The solution notebook, with the given answer cells replaced; `sleep` makes its grading last."""
    nb = nbformat.read(SOURCE, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "moyenne" and mean is not None:
            cell.source = mean
        if grade_id == "compter" and count is not None:
            cell.source = count
        if grade_id == "moyenne" and sleep:
            cell.source = f"import time\ntime.sleep({sleep})\n" + cell.source
    return nbformat.writes(nb).encode()


@dataclass
class Service:
    """`python -m autoformation.grading.service` as the hub runs it, on its own settings file."""

    settings_file: Path
    log: Path
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "AUTOFORMATION_CONFIG": str(self.settings_file),
            "JUPYTERHUB_API_TOKEN": "test-token",
            "JUPYTERHUB_SERVICE_PREFIX": "/services/grading/",
            # As a bare interpreter sees it: the service must find its tools (nbgrader runs `alembic`) itself.
            "PATH": "/usr/local/bin:/usr/bin:/bin",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autoformation.grading.service"],
            stdout=self.log.open("a"), stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )

    def descendants(self) -> list[int]:
        """The service's child processes (sandboxes and their kernels), from /proc."""
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found, todo = [], [self.proc.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                found.append(child)
                todo.append(child)
        return found

    def kill(self) -> None:
        """SIGKILL the service, then its orphaned sandboxes (as stopping its container would)."""
        orphans = self.descendants()
        groups = set()
        for pid in orphans:  # the sandboxes' pids cgroups, which the killed service cannot remove any more
            try:
                lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
            except OSError:
                continue
            groups |= {line.split(":", 2)[2] for line in lines if ":pids:/autoformation-" in line}
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        for pid in orphans:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for group in groups:
            for _ in range(50):
                try:
                    Path("/sys/fs/cgroup/pids", group.lstrip("/")).rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # its processes are still exiting
                    time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()


@pytest.fixture
def service(tmp_path, db_url):
    values = {
        "platform": {"data_dir": str(tmp_path / "data")},
        "courses": {"source_dir": str(COURSES)},
        "grading": {"port": free_port(), "db_url": db_url, "workers": 2},
    }
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(yaml.safe_dump(values))
    svc = Service(settings_file, tmp_path / "service.log")
    yield svc
    svc.stop()


def wait_for(condition, service: Service, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if service.proc.poll() is not None:
            pytest.fail(f"the grading service exited ({service.proc.returncode}):\n{service.log.read_text()}")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}:\n{service.log.read_text()}")


def test_a_killed_service_loses_nothing_and_grades_nothing_twice(service):
    settings = load(service.settings_file)
    store = Store(settings.grading_db_url())
    expected = {  # learner -> (notebook, score out of 3)
        "learner1": (notebook(), 3.0),
        "learner2": (notebook(count=WRONG_COUNT, sleep=6), 2.0),  # slow: graded when the service is killed
        "learner3": (notebook(mean=WRONG_MEAN), 1.0),
        "learner4": (notebook(mean=WRONG_MEAN, count=WRONG_COUNT), 0.0),
        "learner5": (notebook(), 3.0),
        "learner6": (notebook(count=WRONG_COUNT), 2.0),
    }
    ids = {user: store.submit(user, COURSE, ASSIGNMENT, NOTEBOOK, content) for user, (content, _) in expected.items()}
    service.start()

    def mid_queue():
        subs = store.submissions()
        statuses = {s.user: s.status for s in subs}
        return statuses["learner2"] == GRADING and any(s.status == DONE for s in subs)

    wait_for(mid_queue, service, 120, "one submission graded while learner2's is being graded")
    service.kill()
    at_kill = {s.user: s for s in store.submissions()}
    interrupted = {user for user, s in at_kill.items() if s.status == GRADING}
    done_before = {user for user, s in at_kill.items() if s.status == DONE}
    assert "learner2" in interrupted and done_before
    assert len(interrupted) + len(done_before) < len(expected), "the kill came too late: nothing was left queued"

    service.start()
    wait_for(lambda: store.pending() == 0, service, 150, "the whole queue to be graded after the restart")

    subs = store.submissions()
    assert sorted(s.id for s in subs) == sorted(ids.values())  # nothing lost, nothing added
    for sub in subs:
        content, score = expected[sub.user]
        # One total everywhere: the free-text answer's point counts in the maximum.
        assert (sub.result, sub.score, sub.max_score) == ("graded", score, 4.0), sub.user
        # One result: one set of exercise results, not one per grading.
        assert sorted(e.grade_id for e in sub.exercises) == ["test_compter", "test_moyenne"], sub.user
        assert sub.attempts == (2 if sub.user in interrupted else 1), sub.user
        assert store.get(sub.id).content == content
    # Submissions graded before the kill were not graded again.
    assert all(store.get(ids[user]).finished_at == at_kill[user].finished_at for user in done_before)
    assert f"{len(interrupted)} submission(s) interrupted by the last stop are queued again" in service.log.read_text()

    from nbgrader.api import Gradebook

    with Gradebook(gradebook_url(settings, COURSE), course_id=COURSE) as gb:
        book = {user: gb.find_submission(ASSIGNMENT, user).score for user in expected}
    assert book == {user: score for user, (_, score) in expected.items()}


def test_progress_follows_a_grading_round(service):
    settings = load(service.settings_file)
    store = Store(settings.grading_db_url())
    courses = load_catalogue(settings.courses_dir)
    assert [c.id for c in courses] == [COURSE]

    def course_progress(user: str) -> progress.CourseProgress:
        (cp,) = progress.learner_progress(store, courses, user)
        return cp

    store.submit("alice", COURSE, ASSIGNMENT, NOTEBOOK, notebook(mean=WRONG_MEAN))
    store.submit("alice", COURSE, ASSIGNMENT, NOTEBOOK, notebook())  # her second try is right
    store.submit("bruno", COURSE, ASSIGNMENT, NOTEBOOK, notebook(mean=WRONG_MEAN))
    store.submit("claire", COURSE, ASSIGNMENT, NOTEBOOK, b"pas un notebook")
    # Waiting in the queue: started, nothing passed yet.
    for user in ("alice", "bruno", "claire"):
        cp = course_progress(user)
        assert (cp.status, cp.percent, cp.notebooks[0].pending) == (progress.IN_PROGRESS, 0, True), user
    assert (course_progress("diane").status, course_progress("diane").percent) == (progress.NOT_STARTED, 0)

    service.start()
    wait_for(lambda: store.pending() == 0, service, 120, "the grading round")

    assert [(s.user, s.result) for s in store.submissions()] == [
        ("alice", "graded"), ("alice", "graded"), ("bruno", "graded"), ("claire", "rejected"),
    ]

    alice = course_progress("alice")
    assert (alice.status, alice.percent, alice.label) == (progress.PASSED, 100, "Réussi")
    nb = alice.notebooks[0]
    assert (nb.pending, nb.score, nb.max_score) == (False, 3.0, 4.0)  # the free-text answer awaits a trainer
    assert {e.grade_id: e.status for e in nb.exercises} == {
        "test_moyenne": progress.PASSED, "test_compter": progress.PASSED, "explication": progress.IN_PROGRESS,
    }
    assert alice.next_notebook is None

    bruno = course_progress("bruno")
    assert (bruno.status, bruno.percent, bruno.label) == (progress.IN_PROGRESS, 50, "En cours")
    assert {e.grade_id: (e.status, e.points) for e in bruno.notebooks[0].auto} == {
        "test_moyenne": (progress.IN_PROGRESS, 0.0), "test_compter": (progress.PASSED, 1.0),
    }
    assert bruno.next_notebook.path == f"{COURSE}/{ASSIGNMENT}/{NOTEBOOK}"

    diane = course_progress("diane")
    assert (diane.status, diane.percent) == (progress.NOT_STARTED, 0)

    claire = course_progress("claire")  # her only submission was refused: said so, not "Pas commencé"
    assert (claire.notebooks[0].status, claire.notebooks[0].rejected.result) == (progress.REJECTED, "rejected")
    assert (claire.status, progress.LABELS[claire.notebooks[0].status]) == (progress.IN_PROGRESS, "Soumission refusée")


def alive(pids: list[int]) -> list[str]:
    """Those still running (zombies excluded), with their command lines."""
    found = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if state != "Z":
            found.append(f"{pid} {cmd[:200]}")
    return found


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sigterm_stops_at_once_and_the_interrupted_submission_is_graded_after_restart(service):
    settings = load(service.settings_file)
    store = Store(settings.grading_db_url())
    sub_id = store.submit("lent", COURSE, ASSIGNMENT, NOTEBOOK, notebook(sleep=20))
    service.start()
    wait_for(lambda: store.get(sub_id).status == GRADING and service.descendants(), service, 60, "grading to start")
    tree = service.descendants()
    started = time.monotonic()
    service.proc.send_signal(signal.SIGTERM)
    service.proc.wait(10)
    deadline = time.monotonic() + 5
    while alive(tree) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert time.monotonic() - started < 10
    assert not alive(tree), "a sandbox outlived the service"
    assert store.get(sub_id).status == GRADING  # interrupted: queued again at the next start
    service.start()
    wait_for(lambda: store.get(sub_id).status == DONE, service, 90, "the interrupted submission")
    assert (store.get(sub_id).result, store.get(sub_id).score) == ("graded", 3.0)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_learner_with_slow_notebooks_keeps_nobody_waiting(service):
    settings = load(service.settings_file)
    store = Store(settings.grading_db_url())
    first = store.submit("alice", COURSE, ASSIGNMENT, NOTEBOOK, notebook(sleep=8))
    second = store.submit("alice", COURSE, ASSIGNMENT, NOTEBOOK, notebook(sleep=8))
    other = store.submit("bruno", COURSE, ASSIGNMENT, NOTEBOOK, notebook())
    service.start()  # two workers: one takes alice's first, the other must not wait for it
    wait_for(lambda: store.pending() == 0, service, 150, "the queue")
    a1, a2, b = store.get(first), store.get(second), store.get(other)
    assert b.finished_at < a1.finished_at, "bruno waited behind alice"
    assert a2.started_at >= a1.finished_at  # alice's two gradings never overlap (one nbgrader submission)
    assert [s.score for s in (a1, a2, b)] == [3.0, 3.0, 3.0]
