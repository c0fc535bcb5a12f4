"""`autoformation courses list|check|release [COURSE ...] [--config PATH] [--no-cache]`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed

from .. import settings as settings_module
from ..catalogue import CourseError, load_catalogue
from ..notebooks import exercises
from .checking import CheckCache, NotebookJob, NotebookResult, check_notebook, content_hash


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autoformation courses", description="list, check and release the courses")
    parser.add_argument("--config", help="settings file (default: hub_config/settings.yaml)")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="courses, assignments, exercises and points")
    check = sub.add_parser("check", help="lint, run, release and autograde every notebook")
    check.add_argument("courses", nargs="*", metavar="COURSE")
    check.add_argument("--no-cache", action="store_true", help="re-check notebooks that passed unchanged")
    check.add_argument("--workers", type=int, default=0, help="parallel notebooks (default and maximum: cores)")
    release = sub.add_parser("release", help="write the learner versions to the release folder")
    release.add_argument("courses", nargs="*", metavar="COURSE")
    release.add_argument("--force", action="store_true", help="rewrite even when sources are unchanged")
    for p in (check, release, sub.choices["list"]):
        p.add_argument("--config", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    return parser


def _select(courses, wanted):
    if not wanted:
        return courses
    known = {c.id: c for c in courses}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise CourseError(f"unknown course '{unknown[0]}' (known: {', '.join(known) or 'none'})")
    return [known[w] for w in wanted]


def _counts(notebook) -> tuple[int, int, float]:
    """(auto-graded exercises, manually graded ones, points) of one notebook; zeros when unreadable."""
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
    except ValueError:
        return 0, 0, 0.0
    found = exercises(nb)
    manual = sum(ex.manual for ex in found)
    return len(found) - manual, manual, sum(ex.points for ex in found)


def _list(courses) -> int:
    print(f"{'course / assignment':45} {'auto':>5} {'manual':>7} {'points':>7}")
    for course in courses:
        print(f"{course.id} — {course.title}")
        for assignment in course.assignments:
            totals = [sum(x) for x in zip(*(_counts(nb) for nb in assignment.notebooks), strict=False)] or [0, 0, 0]
            print(f"  {assignment.id:43} {totals[0]:>5} {totals[1]:>7} {totals[2]:>7g}")
    return 0


def run_checks(jobs: list[NotebookJob], cache: CheckCache | None, workers: int) -> list[NotebookResult]:
    from tqdm import tqdm

    results, todo = [], []
    for job in jobs:
        key = content_hash(job)
        if cache and cache.passed(key):
            results.append(NotebookResult(job.where, True, cached=True))
        else:
            todo.append((job, key))
    workers = max(1, min(workers or os.cpu_count() or 1, os.cpu_count() or 1, len(todo) or 1))
    with ProcessPoolExecutor(max_workers=workers) as pool, tqdm(total=len(todo), desc="notebooks", unit="nb",
                                                                  file=sys.stderr) as bar:
        futures = {pool.submit(check_notebook, job): (job, key) for job, key in todo}
        for future in as_completed(futures):
            job, key = futures[future]
            try:
                result = future.result()
            except Exception as err:  # a crash in the checker itself is a failure of that notebook
                result = NotebookResult(job.where, False, [f"{job.where}: checker crashed: {err!r}"])
            if result.ok and cache:
                cache.record(key, result)
            results.append(result)
            bar.update(1)
    return sorted(results, key=lambda r: r.where)


def _summary(results: list[NotebookResult]) -> None:
    width = max([len(r.where) for r in results] + [len("notebook")])
    print(f"\n{'notebook':{width}} {'result':8} {'time':>8}")
    for r in results:
        status = "cached" if r.cached else ("ok" if r.ok else "FAILED")
        print(f"{r.where:{width}} {status:8} {r.seconds:>7.1f}s")
    failed = [r for r in results if not r.ok]
    for r in failed:
        for error in r.errors:
            print(f"ERROR {error}", file=sys.stderr)
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = settings_module.load(args.config)
        courses = _select(load_catalogue(settings.courses_dir), getattr(args, "courses", []))
    except (settings_module.SettingsError, CourseError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.action == "list":
        return _list(courses)
    from .s3data import fetch

    try:  # data declared on S3, into the source folders, before anything reads them
        for course in courses:
            fetch(course, settings.courses.s3_endpoint)
    except CourseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.action == "check":
        jobs = [NotebookJob(c.id, a.id, nb, settings.grading.cell_timeout)
                for c in courses for a in c.assignments for nb in a.notebooks]
        cache = None if args.no_cache else CheckCache(settings.data_dir / "cache")
        results = run_checks(jobs, cache, args.workers)
        _summary(results)
        return 0 if results and all(r.ok for r in results) else 1
    from .release import release_course

    status = 0
    for course in courses:
        try:
            written = release_course(course, settings.release_dir, settings.courses.version, args.force)
            print(f"{course.id}: {'released' if written else 'up to date'} in {settings.release_dir / course.id}")
        except RuntimeError as err:
            print(f"error: {err}", file=sys.stderr)
            status = 1
    return status
