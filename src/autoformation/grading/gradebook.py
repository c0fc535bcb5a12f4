"""One nbgrader gradebook per course, holding the source cells (points, checksums, hidden tests)."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from ..catalogue import Course
from ..notebooks import hash_tree

HASH_TABLE = "autoformation_source_hash"


def schema_name(course_id: str) -> str:
    return "gradebook_" + re.sub(r"[^a-z0-9_]", "_", course_id.lower())


def gradebook_url(settings, course_id: str) -> str:
    """SQLite file per course by default; with PostgreSQL, one schema per course in the same database."""
    db_url = settings.grading.db_url
    if db_url.startswith("postgresql"):
        sep = "&" if "?" in db_url else "?"
        return f"{db_url}{sep}options={quote('-csearch_path=' + schema_name(course_id))}"
    return f"sqlite:///{settings.grading_dir / f'gradebook-{course_id}.sqlite'}"


def source_hash(course: Course) -> dict[str, str]:
    """Per assignment, the hash of its source folder: the gradebook is regenerated when it changes."""
    return {assignment.id: hash_tree(assignment.source_dir) for assignment in course.assignments}


def _engine(url: str, course_id: str) -> sa.Engine:
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    if url.startswith("postgresql"):
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema_name(course_id)}"'))
    return engine


def prepare_gradebook(course: Course, url: str) -> None:
    """Generate every assignment of the course into the gradebook at `url`, unless its sources are unchanged."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    engine = _engine(url, course.id)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE IF NOT EXISTS {HASH_TABLE} (assignment TEXT PRIMARY KEY, hash TEXT)"))
        known = dict(conn.execute(sa.text(f"SELECT assignment, hash FROM {HASH_TABLE}")).all())
    engine.dispose()
    for assignment, digest in source_hash(course).items():
        if known.get(assignment) == digest:
            continue
        source = next(a for a in course.assignments if a.id == assignment).source_dir
        with tempfile.TemporaryDirectory(prefix="nbgrader-") as root:
            shutil.copytree(source, Path(root, "source", assignment))
            config = Config()
            config.CourseDirectory.root = root
            config.CourseDirectory.db_url = url
            config.CourseDirectory.course_id = course.id
            config.CourseDirectory.assignment_id = assignment
            config.GenerateAssignment.create_assignment = True
            config.GenerateAssignment.force = True
            converter = GenerateAssignment(coursedir=CourseDirectory(config=config), config=config)
            converter.start()
        engine = _engine(url, course.id)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DELETE FROM {HASH_TABLE} WHERE assignment = :a"), {"a": assignment})
            conn.execute(sa.text(f"INSERT INTO {HASH_TABLE} VALUES (:a, :h)"), {"a": assignment, "h": digest})
        engine.dispose()
