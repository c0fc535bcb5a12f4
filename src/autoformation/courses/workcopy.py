"""Trainers edit the courses where they read them: a working copy of the sources in their own environment.

At each start of a trainer's server, the platform's course sources are synced into `~/sources/<course>/`
(the material rules, without merging: a file the trainer edited is theirs until they publish it). The
trainer edits the nbgrader source notebooks in JupyterLab (nbgrader's "Create Assignment" toolbar is on in
trainers' servers), then publishes from the trainers' pages: `publish` runs *as the trainer* (their code
is only ever executed under their own account), copies their working copy of the course, runs
`courses check` on it and, if it passes, writes it as a tar stream on stdout. The grading service
unpacks that stream (plain files and folders only, each inside the course: `unpack`) over the
platform's sources and releases the course: learners' next start merges the new version into theirs.

    python -m autoformation.courses.workcopy receive DEST       # a tar of the sources on stdin
    python -m autoformation.courses.workcopy publish COURSE SOURCES [--cell-timeout S]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

from ..notebooks import IGNORED_FOLDERS

SOURCES = "sources"  # the working copy's folder in a trainer's home


def _skip(name: str) -> bool:
    return name in IGNORED_FOLDERS or name.startswith(".")


def pack(folder: Path, names: list[str] | None = None) -> bytes:
    """A tar.gz of `folder`'s entries `names` (all when None), without caches, checkpoints or dot files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for entry in sorted(names if names is not None else [p.name for p in folder.iterdir()]):
            if _skip(entry) or not (folder / entry).exists():
                continue
            tar.add(folder / entry, arcname=entry, filter=lambda info: None if any(
                _skip(part) for part in Path(info.name).parts) or info.issym() or info.islnk() else info)
    return buffer.getvalue()


def unpack(data: bytes, dest: Path) -> None:
    """Regular files and folders only, each inside `dest` (tarfile's "data" filter is not in every 3.11)."""
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar:
            target = (root / member.name).resolve()
            if Path(member.name).is_absolute() or ".." in Path(member.name).parts or not target.is_relative_to(root):
                raise ValueError(f"refused: {member.name!r} points outside the course")
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
            else:
                raise ValueError(f"refused: {member.name!r} is not a plain file or folder")


def receive(data: bytes, dest: Path):
    """The platform's sources (a tar from `pack`) into the trainer's working copy `dest`."""
    from .. import material

    with tempfile.TemporaryDirectory(prefix="af-sources-") as tmp:
        unpack(data, Path(tmp))
        return material.sync(tmp, dest, merge=False)


def publish(course_id: str, sources: Path, cell_timeout: int) -> tuple[int, bytes]:
    """(exit status, tar of the checked course): runs as the trainer; progress and errors on stderr."""
    from ..catalogue import CourseError, load_course
    from .checking import NotebookJob
    from .command import _summary, run_checks

    folder = sources / course_id
    if not (folder / "course.yaml").is_file():
        print(f"error: no course '{course_id}' in {sources} (its course.yaml is missing)", file=sys.stderr)
        return 2, b""
    with tempfile.TemporaryDirectory(prefix="af-publish-") as tmp:
        copy = Path(tmp) / course_id
        shutil.copytree(folder, copy, ignore=lambda d, names: [n for n in names if _skip(n)])
        try:
            course = load_course(copy)
        except CourseError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2, b""
        if course.id != course_id:
            print(f"error: course.yaml says id '{course.id}', not '{course_id}'", file=sys.stderr)
            return 2, b""
        jobs = [NotebookJob(course.id, a.id, nb, cell_timeout) for a in course.assignments for nb in a.notebooks]
        stdout, sys.stdout = sys.stdout, sys.stderr  # the summary goes with the progress
        try:
            results = run_checks(jobs, None, 0)
            _summary(results)
        finally:
            sys.stdout = stdout
        if not results or not all(r.ok for r in results):
            return 1, b""
        return 0, pack(Path(tmp), [course_id])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autoformation.courses.workcopy")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("receive").add_argument("dest")
    pub = sub.add_parser("publish")
    pub.add_argument("course")
    pub.add_argument("sources")
    pub.add_argument("--cell-timeout", type=int, default=60)
    args = parser.parse_args(argv)
    if args.action == "receive":
        report = receive(sys.stdin.buffer.read(), Path(args.dest))
        print(json.dumps({"copied": len(report.copied), "updated": len(report.updated), "kept": len(report.kept)}))
        return 0
    # Only the tar goes to the real stdout: anything else (kernels, workers, prints) to stderr.
    sys.stdout.flush()
    tar_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    status, data = publish(args.course, Path(args.sources), args.cell_timeout)
    with tar_out:
        tar_out.write(data)
    return status


if __name__ == "__main__":
    sys.exit(main())
