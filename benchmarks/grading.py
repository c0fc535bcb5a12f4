"""Benchmarks of the learner loop (run: `make bench`, or `python benchmarks/grading.py`).

1. Self-check latency: running an exercise's visible test cell in a learner kernel (p50, p95),
   against the baseline of the same cell without the self-check extension, in the same run.
2. Grading throughput: N submissions through the grading service's queue and workers (sandboxed,
   one worker per core) against the baseline of serial `nbgrader autograde` (the CLI) on the same
   submissions, in the same run. The grades must be identical.

Each figure is printed with its ratio to the baseline measured in this run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]
COURSES = ROOT / "tests" / "fixtures" / "courses"
COURSE, ASSIGNMENT, NOTEBOOK = "demo", "01-bases", "bases.ipynb"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def self_check_latency(runs: int) -> dict[str, list[float]]:
    code = 'def moyenne(l):\n    return sum(l)\nassert moyenne([2, 4]) == 3, "moyenne([2, 4]) devrait valoir 3."'
    timings = {}
    for label, setup in (("baseline (plain kernel)", "get_ipython().set_custom_exc((), None)"),
                         ("self-check", "")):
        km, kc = start_new_kernel(kernel_name="python3")
        try:
            if setup:
                kc.execute_interactive(setup, timeout=30)
            samples = []
            for _ in range(runs):
                start = time.perf_counter()
                kc.execute_interactive(code, timeout=30, output_hook=lambda msg: None)
                samples.append(time.perf_counter() - start)
            timings[label] = samples
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    return timings


def submissions(n: int) -> list[tuple[str, bytes]]:
    """N learners' notebooks: solutions with some answers broken, so scores differ."""
    source = nbformat.read(COURSES / COURSE / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    out = []
    for i in range(n):
        nb = nbformat.from_dict(json.loads(json.dumps(source)))
        if i % 3 == 1:
            nb.cells[3].source = "def moyenne(liste):\n    return sum(liste)"
        if i % 3 == 2:
            nb.cells[6].source = "n = 0"
        out.append((f"learner{i:02d}", nbformat.writes(nb).encode()))
    return out


def through_the_service(subs: list[tuple[str, bytes]], work: Path) -> tuple[float, dict[str, float]]:
    from autoformation.catalogue import load_catalogue
    from autoformation.grading.service import Grader
    from autoformation.grading.store import DONE, Store
    from autoformation.settings import load

    settings_file = work / "settings.yaml"
    settings_file.write_text(
        f"platform: {{data_dir: {work / 'data'}}}\ncourses: {{source_dir: {COURSES}}}\n"
    )
    settings = load(settings_file)
    store = Store(settings.grading_db_url())
    courses = {c.id: c for c in load_catalogue(settings.courses_dir)}
    grader = Grader(settings, store, courses)
    # The gradebook is prepared once, before the clock starts (as a running service has it).
    from autoformation.grading.gradebook import gradebook_url, prepare_gradebook

    prepare_gradebook(courses[COURSE], gradebook_url(settings, COURSE))

    async def run() -> float:
        tasks = grader.start()
        # A running service is warm: one submission per worker graded before the clock starts.
        for i in range(grader.workers):
            store.submit(f"warmup{i}", COURSE, ASSIGNMENT, NOTEBOOK, subs[0][1])
        grader.wakeup.set()
        while store.pending():
            await asyncio.sleep(0.05)
        start = time.perf_counter()
        for user, content in subs:
            store.submit(user, COURSE, ASSIGNMENT, NOTEBOOK, content)
        grader.wakeup.set()
        while store.pending():
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - start
        for task in tasks:
            task.cancel()
        return elapsed

    elapsed = asyncio.run(run())
    scores = {s.user: s.score for s in store.submissions() if s.status == DONE and not s.user.startswith("warmup")}
    return elapsed, scores


def serial_nbgrader(subs: list[tuple[str, bytes]], work: Path) -> tuple[float, dict[str, float]]:
    course = work / "nbgrader"
    shutil.copytree(COURSES / COURSE / "source", course / "source")
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\nc.CourseDirectory.course_id = 'demo'\n"
    )
    nbgrader = [sys.executable, "-m", "nbgrader"]
    run = dict(cwd=course, check=True, capture_output=True)
    subprocess.run(nbgrader + ["generate_assignment", ASSIGNMENT, "--force"], **run)
    for user, content in subs:
        subprocess.run(nbgrader + ["db", "student", "add", user], **run)
        folder = course / "submitted" / user / ASSIGNMENT
        shutil.copytree(COURSES / COURSE / "source" / ASSIGNMENT / "data", folder / "data")
        (folder / NOTEBOOK).write_bytes(content)
    start = time.perf_counter()
    subprocess.run(nbgrader + ["autograde", ASSIGNMENT, "--force"], **run)
    elapsed = time.perf_counter() - start
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {user: gb.find_submission(ASSIGNMENT, user).score for user, _ in subs}
    return elapsed, scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=12, help="submissions to grade (default 12)")
    parser.add_argument("--runs", type=int, default=30, help="self-check executions (default 30)")
    args = parser.parse_args()
    from autoformation.courses.nbgrader_setup import tools_on_path

    tools_on_path()  # nbgrader runs `alembic` as a command: also when started as .venv/bin/python

    timings = self_check_latency(args.runs)
    base = timings["baseline (plain kernel)"]
    print(f"Self-check latency over {args.runs} runs")
    for label, samples in timings.items():
        p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
        print(f"  {label:<26} p50 {p50 * 1000:7.1f} ms ({p50 / percentile(base, 0.5):.2f}x)"
              f"   p95 {p95 * 1000:7.1f} ms ({p95 / percentile(base, 0.95):.2f}x)")

    subs = submissions(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        serial_time, serial_scores = serial_nbgrader(subs, Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        service_time, service_scores = through_the_service(subs, Path(tmp))
    print(f"Grading {args.n} submissions")
    print(f"  baseline: serial nbgrader autograde  {serial_time:7.1f} s  {args.n / serial_time:.2f} /s (1.00x)")
    print(f"  grading service (sandboxed, warm)    {service_time:7.1f} s  {args.n / service_time:.2f} /s "
          f"({serial_time / service_time:.2f}x throughput)")
    same = serial_scores == service_scores
    print(f"  grades identical: {'yes' if same else 'NO'}")
    if not same:
        for user in sorted(serial_scores):
            print(f"    {user}: nbgrader {serial_scores[user]} / service {service_scores.get(user)}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
