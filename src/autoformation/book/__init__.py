"""The companion book: every course in a Jupyter Book, notebooks executed by papermill, launch links to the hub.

    autoformation book build [--config PATH] [--quick] [-p NAME=VALUE ...] [--timeout S]
    autoformation book serve [--config PATH] [--port N]      (also: python -m autoformation.book serve)

Build layout, under the platform's data folder (`settings.data_dir / "book"`):
    source/         generated Jupyter Book sources (hand-written book/ + one part per course)
    cache/          executed notebooks, keyed on notebook + assignment folder + parameters
    work/           scratch copies of assignment folders notebooks run in
    _build/html/    the site (what `serve_dir` returns)
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import settings as settings_module
from ..catalogue import CourseError, load_catalogue
from ..challenges import load_challenges
from ..settings import PROJECT_ROOT, Settings, SettingsError
from . import downloads
from .execute import ExecutionError, execute_all
from .learner_view import LearnerViewError
from .site import BookError, build_html, jobs, notebook_pages, write_sources

BOOK_DIR = PROJECT_ROOT / "book"  # hand-written pages, _config.yml and _toc.yml
# Until settings have a `book` section: where released material is published for nbgitpuller (GitHub URL).
DEFAULT_CELL_TIMEOUT = 120  # seconds per cell
QUICK_PARAMETERS = {"quick": True}  # given to notebooks that have a `parameters` cell, with --quick


@dataclass
class BuildResult:
    html_dir: Path
    executed: list[str]  # notebooks that ran (the others came from the cache)
    notebooks: list[str]


def build_dir(settings: Settings) -> Path:
    return settings.data_dir / "book"


def serve_dir(settings: Settings) -> Path:
    """The built HTML folder the book service serves: `book.site_dir` (e.g. copied from the book's image on
    Kubernetes), else what `autoformation book build` made here."""
    return settings.path(settings.book.site_dir) if settings.book.site_dir else build_dir(settings) / "_build" / "html"


def build(settings: Settings, parameters: dict | None = None, timeout: int = DEFAULT_CELL_TIMEOUT,
          book_dir: Path = BOOK_DIR, report=print) -> BuildResult:
    courses = load_catalogue(settings.courses_dir)
    pages = notebook_pages(courses)
    root = build_dir(settings)
    executed_nbs, ran = execute_all(jobs(pages), root / "cache", root / "work", parameters or {}, timeout, report)
    report(f"writing the book's sources ({len(courses)} course(s), {len(pages)} notebook(s))")
    write_sources(book_dir, root / "source", courses, executed_nbs, settings.platform.url(),
                  settings.book.repository, settings.book.branch, tuple(load_challenges(settings.challenges_dir)))
    report("building HTML with jupyter-book...")
    start = time.monotonic()
    html = build_html(root / "source", root, report)
    downloads.publish(settings, html, report)  # for learners elsewhere (SSP Cloud): init script, material, wheel
    report(f"HTML built in {time.monotonic() - start:.1f} s: {html}")
    return BuildResult(html, ran, [p.label for p in pages])


def _parameter(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, yaml.safe_load(value)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="autoformation book", description="The companion Jupyter Book.")
    sub = parser.add_subparsers(dest="action", required=True)
    b = sub.add_parser("build", help="execute the notebooks (papermill, cached) and build the HTML")
    b.add_argument("--config", help="settings file (default: $AUTOFORMATION_CONFIG or hub_config/settings.yaml)")
    b.add_argument("--quick", action="store_true", help=f"pass {QUICK_PARAMETERS} to notebooks with a parameters cell")
    b.add_argument("-p", "--parameter", action="append", type=_parameter, default=[], metavar="NAME=VALUE",
                   help="a parameter for notebooks with a parameters cell (repeatable)")
    b.add_argument("--timeout", type=int, default=DEFAULT_CELL_TIMEOUT, help="seconds per cell")
    s = sub.add_parser("serve", help="serve the built HTML (a JupyterHub service)")
    s.add_argument("--config", help="settings file")
    s.add_argument("--port", type=int, help="port (default: from $JUPYTERHUB_SERVICE_URL, else book.port)")
    args = parser.parse_args(argv)
    try:
        settings = settings_module.load(args.config)
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.action == "serve":
        from .serve import serve

        return serve(serve_dir(settings), args.port, settings.book.port)
    parameters = {**(QUICK_PARAMETERS if args.quick else {}), **dict(args.parameter)}
    start = time.monotonic()
    try:
        result = build(settings, parameters, args.timeout)
    except (ExecutionError, LearnerViewError, BookError, CourseError) as err:
        print(f"error: book build failed: {err}", file=sys.stderr)
        return 1
    print(f"book built in {time.monotonic() - start:.1f} s ({len(result.executed)} of {len(result.notebooks)} "
          f"notebook(s) executed, the others cached): {result.html_dir}/index.html")
    return 0
