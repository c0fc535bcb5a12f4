"""A trainer publishes the course they edited in their own environment (`courses/workcopy.py`).

From the trainers' page of a course: the check runs *as the trainer* on their working copy
(`~/sources/<course>`; their notebooks' code never runs as root), then, if every notebook passes,
this service (the one writer of the course data) replaces the platform's sources of that course with
the checked copy, keeps the previous one under `DATA/backups/courses/`, releases the course and
grades with the new version from then on. Learners' next start merges the new release into their
notebooks (`material.py`). One publication per course at a time; the page shows its progress.

On Kubernetes the trainers' homes are volumes this service does not mount: there, sources go through
Git and the hub image (see README), and the page says so.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..catalogue import Course, load_course
from ..courses import workcopy
from ..settings import Settings

log = logging.getLogger(__name__)
RUNNING, PUBLISHED, FAILED = "running", "published", "failed"


@dataclass
class Publication:
    course: str
    user: str
    state: str = RUNNING
    log: str = ""
    started: float = field(default_factory=time.time)


def trainer_sources(settings: Settings, user: str) -> Path:
    return settings.homes_dir / user / workcopy.SOURCES


def _as_trainer(user: str):
    """Run as the trainer's own account when this service is root (local backend with accounts)."""
    if os.geteuid() != 0:
        return None, os.environ.get("HOME", "/")
    from ..spawners import accounts

    try:
        account = pwd.getpwnam(accounts.system_name(user))
    except KeyError:
        raise LookupError(f"le compte de {user} n'existe pas encore : démarrez d'abord votre environnement") from None
    return accounts.becoming(account, umask=0o077), account.pw_dir


async def publish(settings: Settings, courses: dict[str, Course], job: Publication) -> None:
    """Check the trainer's copy as them, then put it in place and release it (updates `courses`)."""
    try:
        preexec, home = _as_trainer(job.user)
        sources = trainer_sources(settings, job.user)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "autoformation.courses.workcopy", "publish", job.course, str(sources),
            "--cell-timeout", str(settings.grading.cell_timeout),
            preexec_fn=preexec, cwd="/", env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home},
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)

        async def follow() -> None:
            async for line in proc.stderr:
                text = line.decode(errors="replace").replace("\r", "\n")
                text = "".join(t for t in text.splitlines(keepends=True) if "[IPKernelApp] WARNING" not in t)
                job.log = (job.log + text)[-20_000:]

        data, _ = await asyncio.gather(proc.stdout.read(), follow())
        if await proc.wait() != 0 or not data:
            job.state = FAILED
            return
        courses[job.course] = await asyncio.to_thread(apply, settings, job.course, data)
        job.log += f"\nPublié : {job.course} est à jour pour les apprenants (à leur prochain démarrage).\n"
        job.state = PUBLISHED
        log.info("%s published course %s", job.user, job.course)
    except Exception as err:  # the page says what went wrong; the platform's sources are untouched
        log.exception("publication of %s by %s failed", job.course, job.user)
        job.log += f"\nerreur : {err}\n"
        job.state = FAILED


def apply(settings: Settings, course_id: str, data: bytes) -> Course:
    """The checked copy (a tar from the trainer's process) in place of the course's sources, released."""
    from ..courses.release import release_course

    staging = settings.data_dir / "publishing" / course_id
    shutil.rmtree(staging, ignore_errors=True)
    workcopy.unpack(data, staging)  # plain files and folders only, nothing outside
    course = load_course(staging / course_id)
    if course.id != course_id:
        raise ValueError(f"the published course is '{course.id}', not '{course_id}'")
    target = settings.courses_dir / course_id
    backup = settings.data_dir / "backups" / "courses" / f"{course_id}-{time.strftime('%Y%m%d-%H%M%S')}"
    backup.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.move(target, backup)
    shutil.move(staging / course_id, target)
    if os.geteuid() == 0:  # as `up` leaves the sources: the platform's group reads them, learners do not
        from ..spawners import accounts

        accounts.share_with_platform(target)
    course = load_course(target)
    release_course(course, settings.release_dir, settings.courses.version, force=True)
    if os.geteuid() == 0:
        from ..spawners import accounts

        accounts.open_release(settings.release_dir / course_id)
    return course
