"""Course data on S3: the `s3_data` of course.yaml, fetched into the course's source folder.

Public statistics are published in public `diffusion/` folders of S3 buckets (the SSP Cloud's MinIO).
A course may declare such files; `autoformation courses check` and `release` (hence `make up`) fetch each
one into its place in the source folder when it is missing or its declared sha256 differs, so that
checking, grading, the book and the release all read a local file, as with the courses' own data. The
endpoint is `courses.s3_endpoint`, or AWS_S3_ENDPOINT as the SSP Cloud sets it; objects are read
anonymously (path-style URL), as public objects are.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ..catalogue import Course, CourseError

MAX_BYTES = 500 * 1024 * 1024


def endpoint(configured: str) -> str:
    value = os.environ.get("AWS_S3_ENDPOINT") or configured
    return (value if "://" in value else f"https://{value}").rstrip("/")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(course: Course, s3_endpoint: str, report=print) -> list[Path]:
    """Fetch what is missing or stale; returns the files written. Raises CourseError naming the object."""
    written = []
    source = (course.path / "source").resolve()
    for item in course.s3_data:
        target = (source / item["to"]).resolve()
        if source not in target.parents:
            raise CourseError(f"{course.id}: s3_data 'to: {item['to']}' leaves the course's source folder")
        wanted = item.get("sha256")
        if target.is_file() and (not wanted or _sha256(target) == wanted):
            continue
        bucket_key = item["object"].removeprefix("s3://")
        url = f"{endpoint(s3_endpoint)}/{bucket_key}"
        report(f"{course.id}: fetching {item['object']} from {endpoint(s3_endpoint)}")
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            try:
                with urllib.request.urlopen(url, timeout=120) as answer:
                    size = 0
                    while block := answer.read(1 << 20):
                        size += len(block)
                        if size > MAX_BYTES:
                            raise CourseError(f"{course.id}: {item['object']} is over {MAX_BYTES >> 20} MB")
                        tmp.write(block)
            except (urllib.error.URLError, OSError) as err:
                Path(tmp.name).unlink(missing_ok=True)
                raise CourseError(f"{course.id}: cannot fetch {item['object']} ({url}): {err}") from None
            except CourseError:
                Path(tmp.name).unlink(missing_ok=True)
                raise
        if wanted and _sha256(Path(tmp.name)) != wanted:
            Path(tmp.name).unlink()
            raise CourseError(f"{course.id}: {item['object']} does not have the sha256 course.yaml declares")
        os.chmod(tmp.name, 0o644)
        os.replace(tmp.name, target)
        written.append(target)
    return written
