"""Submissions, their grading results and the queue, in one SQL database (SQLite or PostgreSQL).

The queue is the `submission` table itself: a submission is `queued` until a worker claims it
(`grading`), then `done` with its result written in the same transaction. A service killed while
grading leaves `grading` rows: `recover()` puts them back in the queue at start-up, so nothing is
lost, and a result is written once per submission.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    false,
    select,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, defer, mapped_column, relationship, selectinload, sessionmaker

QUEUED, GRADING, DONE = "queued", "grading", "done"
MIGRATIONS = Path(__file__).parent / "migrations"


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Submission(Base):
    __tablename__ = "af_submission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user: Mapped[str] = mapped_column(String(255), index=True)
    course: Mapped[str] = mapped_column(String(128))
    assignment: Mapped[str] = mapped_column(String(128))
    notebook: Mapped[str] = mapped_column(String(255))  # file name, e.g. "modeles.ipynb"
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # claims, including interrupted ones
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Result (set once, when status becomes done)
    result: Mapped[str] = mapped_column(String(16), default="")  # graded | rejected | timeout | crashed
    message: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[float] = mapped_column(Float, default=0.0)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    feedback_html: Mapped[str] = mapped_column(Text, default="")
    exercises: Mapped[list[ExerciseResult]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="ExerciseResult.id"
    )


class ExerciseResult(Base):
    __tablename__ = "af_exercise_result"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("af_submission.id"), index=True)
    grade_id: Mapped[str] = mapped_column(String(255))
    points: Mapped[float] = mapped_column(Float)
    max_points: Mapped[float] = mapped_column(Float)
    manual: Mapped[bool] = mapped_column(default=False)  # graded by a trainer
    comment: Mapped[str] = mapped_column(Text, default="")
    submission: Mapped[Submission] = relationship(back_populates="exercises")


class ChallengeSubmission(Base):
    """A team's predictions for a challenge: queued, then scored (public and private parts) or rejected."""

    __tablename__ = "af_challenge_submission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge: Mapped[str] = mapped_column(String(128), index=True)
    team: Mapped[str] = mapped_column(String(255))
    user: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)  # the checked predictions, as JSON
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    result: Mapped[str] = mapped_column(String(16), default="")  # scored | failed | refused
    message: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[dict] = mapped_column(JSON, default=dict)  # metric -> value on the public part
    private: Mapped[dict] = mapped_column(JSON, default=dict)  # ... on the private part (shown after closing)
    final: Mapped[bool] = mapped_column(default=False, server_default=false())  # selected for the private board
    level: Mapped[str] = mapped_column(String(32), default="", server_default="")  # the parcours it came from


class ParcoursStep(Base):
    """A participant's self-checks of one step of a challenge's parcours (reported by their kernel): how
    often tried, whether passed. Self-reported, so organisers' information only, never a score."""

    __tablename__ = "af_parcours_step"

    challenge: Mapped[str] = mapped_column(String(128), primary_key=True)
    user: Mapped[str] = mapped_column(String(255), primary_key=True)
    level: Mapped[str] = mapped_column(String(32), primary_key=True)
    step: Mapped[str] = mapped_column(String(128), primary_key=True)
    team: Mapped[str] = mapped_column(String(255), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    passed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    first_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    last_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class ChallengeState(Base):
    """An organiser's decision on a challenge: closed (the private leaderboard revealed) at that time."""

    __tablename__ = "af_challenge_state"

    challenge: Mapped[str] = mapped_column(String(128), primary_key=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closed_by: Mapped[str] = mapped_column(String(255), default="")


class MaterialVersion(Base):
    """Which release of a course a learner's environment was given at its last start."""

    __tablename__ = "af_material"

    user: Mapped[str] = mapped_column(String(255), primary_key=True)
    course: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now)


@dataclass
class CellResult:
    grade_id: str
    points: float
    max_points: float


@dataclass
class GradeResult:
    """What grading a submission gives: from the sandboxed grader to the store, the pages and the API."""

    status: str  # graded | rejected | timeout | crashed
    message: str
    score: float = 0.0
    max_score: float = 0.0
    cells: list[CellResult] = field(default_factory=list)
    feedback_html: str = ""
    retryable: bool = False  # a timeout that may come from load: tried once more before it counts


def migrate(engine) -> None:
    """Bring the database to the schema of this code (`migrations/`, Alembic). Databases made before
    migrations existed (by `create_all`) hold the first revision's schema: they are stamped with it."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        tables = set(inspect(conn).get_table_names())
        if "af_submission" in tables and "af_alembic_version" not in tables:
            command.stamp(config, "0001")
        command.upgrade(config, "head")


async def next_claimed(claim, wakeup):
    """The next item `claim` hands out (a submission, a predictions file), waiting for a wake-up, or two
    seconds, while there is none: the workers of both queues."""
    import asyncio

    while True:
        item = await asyncio.to_thread(claim)
        if item is not None:
            return item
        wakeup.clear()
        try:
            await asyncio.wait_for(wakeup.wait(), timeout=2)
        except TimeoutError:
            pass


class Store:
    def __init__(self, url: str):
        connect_args = {}
        if url.startswith("sqlite:///"):
            connect_args = {"timeout": 30}
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        migrate(self.engine)
        self.session = sessionmaker(self.engine, expire_on_commit=False)
        # One claim at a time in this process: two workers reading "nothing of alice's is being graded"
        # together would both take one of hers (the service is the queue's only consumer).
        self.claim_lock = threading.Lock()

    # --- queue -------------------------------------------------------------------------------
    def submit(self, user: str, course: str, assignment: str, notebook: str, content: bytes) -> int:
        with self.session.begin() as db:
            sub = Submission(user=user, course=course, assignment=assignment, notebook=notebook, content=content)
            db.add(sub)
            db.flush()
            return sub.id

    def recover(self) -> int:
        """Put back in the queue what a stopped service was grading or scoring."""
        with self.session.begin() as db:
            return sum(db.execute(update(table).where(table.status == GRADING).values(status=QUEUED)).rowcount
                       for table in (Submission, ChallengeSubmission))

    def claim(self) -> Submission | None:
        """Take the oldest queued submission whose learner has nothing of that assignment being graded
        (nbgrader keeps one submission per learner and assignment), so that no worker waits on a learner
        while others queue; atomic, so two workers never grade the same one."""
        with self.claim_lock, self.session.begin() as db:
            busy = set(db.execute(select(Submission.user, Submission.course, Submission.assignment)
                                  .where(Submission.status == GRADING)).all())
            candidates = db.execute(
                select(Submission.id, Submission.user, Submission.course, Submission.assignment)
                .where(Submission.status == QUEUED).order_by(Submission.id).limit(200)
            ).all()
            for sub_id, user, course, assignment in candidates:
                if (user, course, assignment) in busy:
                    continue
                claimed = db.execute(
                    update(Submission)
                    .where(Submission.id == sub_id, Submission.status == QUEUED)
                    .values(status=GRADING, attempts=Submission.attempts + 1, started_at=now())
                ).rowcount
                if claimed:
                    return db.get(Submission, sub_id)
        return None

    def requeue(self, sub_id: int) -> None:
        with self.session.begin() as db:
            db.execute(update(Submission).where(Submission.id == sub_id).values(status=QUEUED))

    def finish(self, sub_id: int, result: GradeResult) -> bool:
        """Write the result once: a submission already done keeps its first result."""
        with self.session.begin() as db:
            sub = db.get(Submission, sub_id, with_for_update=True)
            if sub is None or sub.status == DONE:
                return False
            sub.status, sub.finished_at = DONE, now()
            sub.result, sub.message = result.status, result.message
            sub.score, sub.max_score, sub.feedback_html = result.score, result.max_score, result.feedback_html
            sub.exercises = [ExerciseResult(grade_id=c.grade_id, points=c.points, max_points=c.max_points)
                             for c in result.cells]
            return True

    # --- reading -----------------------------------------------------------------------------
    def get(self, sub_id: int) -> Submission | None:
        with self.session() as db:
            sub = db.get(Submission, sub_id)
            if sub is not None:
                sub.exercises  # noqa: B018 (load before the session closes)
            return sub

    def submissions(self, user: str | None = None, course: str | None = None) -> list[Submission]:
        with self.session() as db:
            # The notebooks and feedback are large and not needed for listings.
            query = (
                select(Submission)
                .options(defer(Submission.content), defer(Submission.feedback_html), selectinload(Submission.exercises))
                .order_by(Submission.id)
            )
            if user is not None:
                query = query.where(Submission.user == user)
            if course is not None:
                query = query.where(Submission.course == course)
            return list(db.scalars(query).all())

    def record_material(self, user: str, versions: dict[str, str]) -> None:
        with self.session.begin() as db:
            for course, version in versions.items():
                db.merge(MaterialVersion(user=user, course=course, version=version, updated_at=now()))

    def material_versions(self, course: str) -> dict[str, str]:
        with self.session() as db:
            rows = db.scalars(select(MaterialVersion).where(MaterialVersion.course == course)).all()
            return {row.user: row.version for row in rows}

    def grade_manually(self, sub_id: int, grade_id: str, points: float, max_points: float, comment: str) -> None:
        """A trainer's grade and comment on a free-text answer of a submission (replaces an earlier one)."""
        with self.session.begin() as db:
            sub = db.get(Submission, sub_id)
            for ex in list(sub.exercises):
                if ex.grade_id == grade_id:
                    sub.exercises.remove(ex)
            sub.exercises.append(
                ExerciseResult(grade_id=grade_id, points=points, max_points=max_points, manual=True, comment=comment)
            )
            sub.score = sum(e.points for e in sub.exercises)

    # --- challenges ----------------------------------------------------------------------------
    def submit_predictions(self, challenge: str, team: str, user: str, content: bytes, level: str = "") -> int:
        with self.session.begin() as db:
            sub = ChallengeSubmission(challenge=challenge, team=team, user=user, content=content, level=level)
            db.add(sub)
            db.flush()
            return sub.id

    def record_refused(self, challenge: str, team: str, user: str, problems: str) -> None:
        """A file that did not pass the checks: no score, no quota; organisers see who is stuck on what."""
        with self.session.begin() as db:
            db.add(ChallengeSubmission(challenge=challenge, team=team, user=user, content=b"", status=DONE,
                                       result="refused", message=problems))

    def claim_predictions(self) -> ChallengeSubmission | None:
        with self.claim_lock, self.session.begin() as db:
            for sub_id in db.scalars(select(ChallengeSubmission.id).where(ChallengeSubmission.status == QUEUED)
                                     .order_by(ChallengeSubmission.id).limit(20)):
                claimed = db.execute(update(ChallengeSubmission)
                                     .where(ChallengeSubmission.id == sub_id, ChallengeSubmission.status == QUEUED)
                                     .values(status=GRADING)).rowcount
                if claimed:
                    return db.get(ChallengeSubmission, sub_id)
        return None

    def finish_predictions(self, sub_id: int, result: str, message: str, public: dict, private: dict) -> bool:
        with self.session.begin() as db:
            sub = db.get(ChallengeSubmission, sub_id, with_for_update=True)
            if sub is None or sub.status == DONE:
                return False
            sub.status, sub.result, sub.message, sub.public, sub.private = DONE, result, message, public, private
            return True

    def challenge_submissions(self, challenge: str, team: str | None = None) -> list[ChallengeSubmission]:
        with self.session() as db:
            query = (select(ChallengeSubmission).options(defer(ChallengeSubmission.content))
                     .where(ChallengeSubmission.challenge == challenge).order_by(ChallengeSubmission.id))
            if team is not None:
                query = query.where(ChallengeSubmission.team == team)
            return list(db.scalars(query).all())

    def challenge_scores(self, challenge: str) -> list:
        """What the leaderboard needs of every submission, as plain rows (no ORM objects: with thousands
        of submissions, loading them is most of the time)."""
        s = ChallengeSubmission
        with self.session() as db:
            return list(db.execute(select(s.id, s.team, s.user, s.created_at, s.status, s.result, s.public,
                                          s.private, s.final, s.level)
                                   .where(s.challenge == challenge).order_by(s.id)).all())

    def record_step(self, challenge: str, team: str, user: str, level: str, step: str, passed: bool) -> None:
        with self.session.begin() as db:
            row = db.get(ParcoursStep, (challenge, user, level, step), with_for_update=True)
            if row is None:
                row = ParcoursStep(challenge=challenge, user=user, level=level, step=step, attempts=0)
                db.add(row)
            row.team, row.attempts, row.last_at = team, row.attempts + 1, now()
            if passed and row.passed_at is None:
                row.passed_at = row.last_at

    def parcours_steps(self, challenge: str) -> list[ParcoursStep]:
        with self.session() as db:
            return list(db.scalars(select(ParcoursStep).where(ParcoursStep.challenge == challenge)
                                   .order_by(ParcoursStep.last_at)))

    def set_final(self, sub_id: int, final: bool) -> None:
        with self.session.begin() as db:
            db.execute(update(ChallengeSubmission).where(ChallengeSubmission.id == sub_id).values(final=final))

    def close_challenge(self, challenge: str, by: str) -> datetime:
        with self.session.begin() as db:
            state = db.merge(ChallengeState(challenge=challenge, closed_at=now(), closed_by=by))
            return state.closed_at

    def closed_challenges(self) -> dict[str, datetime]:
        with self.session() as db:
            return {s.challenge: s.closed_at for s in db.scalars(select(ChallengeState)) if s.closed_at}

    def get_predictions(self, sub_id: int) -> ChallengeSubmission | None:
        with self.session() as db:
            return db.get(ChallengeSubmission, sub_id)

    def pending(self) -> int:
        with self.session() as db:
            return len(db.scalars(select(Submission.id).where(Submission.status != DONE)).all())
