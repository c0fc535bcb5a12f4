"""The grading service: a JupyterHub service (HubOAuth + RBAC scopes) at /services/grading/.

Learners submit notebooks (from JupyterLab, their "Ma progression" page or `autoformation submit`),
a bounded pool of workers grades them in the sandbox from the persistent queue, and learners read
their feedback and progress. Everyone reads and submits as themselves only. Trainers grade free-text
answers and follow their cohorts on its trainers' pages (`trainers.py`). It is the only writer of the
grading data: submissions, results, trainers' grades and nbgrader's gradebooks.

Run by the hub as a managed service: `python -m autoformation.grading.service`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import threading
from datetime import UTC
from urllib.parse import quote

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler
from tornado import web
from tornado.httpserver import HTTPServer

from .. import charts
from ..catalogue import Course, load_catalogue
from ..challenges import load_challenges
from ..courses.nbgrader_setup import tools_on_path
from ..names import HUB_SCOPE
from ..notebooks import MAX_NOTEBOOK_BYTES
from ..settings import Settings, load
from ..web import ServicePage, bind_host
from . import challenges, progress, trainers
from .executor import clean_leftover_groups
from .feedback import FEEDBACK_CSP, with_trainer_grades
from .store import DONE, GradeResult, Store, Submission, next_claimed

log = logging.getLogger("autoformation.grading")
MAX_PENDING_PER_LEARNER = 2
# A notebook of MAX_NOTEBOOK_BYTES in a JSON body: refused by the HTTP server beyond, before it is read.
MAX_BODY_BYTES = 6 * 1024 * 1024


class Grader:
    """The queue's workers: at most one grading per core (more makes correct answers time out)."""

    def __init__(self, settings: Settings, store: Store, courses: dict[str, Course]):
        self.settings, self.store, self.courses = settings, store, courses
        tools_on_path()  # nbgrader's gradebook runs `alembic`, whatever PATH the service was started with
        self.workers = settings.grading.workers or os.cpu_count() or 1
        self.wakeup = asyncio.Event()
        # Workers grade in threads: two generating a new gradebook at once race on its tables.
        self.gradebook_lock = threading.Lock()
        # nbgrader keeps one submission per learner and assignment: never grade two of them at once.
        self.learner_locks: dict[tuple[str, str, str], threading.Lock] = {}

    def learner_lock(self, sub: Submission) -> threading.Lock:
        with self.gradebook_lock:
            return self.learner_locks.setdefault((sub.course, sub.assignment, sub.user), threading.Lock())

    def grade_manually(self, sub: Submission, grade_id: str, points: float, max_points: float, comment: str) -> None:
        """A trainer's grade on a free-text answer: in the store (what the learner sees) and in nbgrader's
        gradebook (the record of every grade), never while the same learner's assignment is being graded."""
        from nbgrader.api import Gradebook, MissingEntry

        from .gradebook import gradebook_url

        with self.learner_lock(sub):
            self.store.grade_manually(sub.id, grade_id, points, max_points, comment)
            notebook = sub.notebook.removesuffix(".ipynb")
            with Gradebook(gradebook_url(self.settings, sub.course), course_id=sub.course) as gb:
                try:
                    gb.find_grade(grade_id, notebook, sub.assignment, sub.user).manual_score = points
                    gb.find_comment(grade_id, notebook, sub.assignment, sub.user).manual_comment = comment
                    gb.db.commit()
                except MissingEntry:
                    log.warning("no gradebook entry for %s of submission %s", grade_id, sub.id)

    def grade(self, sub: Submission) -> GradeResult:
        from .autograde import Limits, grade_submission
        from .cluster import exercise_in_image
        from .gradebook import gradebook_url, prepare_gradebook
        from .sandboxes import sandbox_for

        course = self.courses[sub.course]
        url = gradebook_url(self.settings, course.id)
        with self.gradebook_lock:
            prepare_gradebook(course, url)
        with self.learner_lock(sub):
            return grade_submission(
                course, sub.assignment, sub.notebook, sub.user, sub.content, url, Limits.from_settings(self.settings),
                sandbox_for(self.settings, course.image, exercise_in_image(course.id, sub.assignment)),
            )

    async def work(self) -> None:
        while True:
            sub = await next_claimed(self.store.claim, self.wakeup)
            log.info("grading submission %s (%s/%s/%s by %s)", sub.id, sub.course, sub.assignment, sub.notebook,
                     sub.user)
            try:
                result = await asyncio.to_thread(self.grade, sub)
            except Exception:
                log.exception("grading submission %s failed", sub.id)
                result = GradeResult(
                    "crashed", "La correction automatique a rencontré une erreur de la plateforme. "
                    "Votre travail est conservé : soumettez-le à nouveau un peu plus tard.",
                )
            if result.retryable and sub.attempts < 2:
                # A timeout may come from a loaded machine: one more try before it counts.
                log.info("submission %s timed out; queued again", sub.id)
                await asyncio.to_thread(self.store.requeue, sub.id)
                continue
            await asyncio.to_thread(self.store.finish, sub.id, result)
            log.info("submission %s: %s %s/%s", sub.id, result.status, result.score, result.max_score)

    def start(self) -> list[asyncio.Task]:
        removed = clean_leftover_groups()
        if removed:
            log.info("removed %d sandbox cgroup(s) left by an earlier stop", removed)
        recovered = self.store.recover()
        if recovered:
            log.info("%d submission(s) interrupted by the last stop are queued again", recovered)
        return [asyncio.ensure_future(self.work()) for _ in range(self.workers)]


class BaseHandler(ServicePage):
    @property
    def app(self) -> GradingService:
        return self.service

    def check_self(self, name: str) -> None:
        if self.current_user["name"] != name or self.current_user.get("kind", "user") != "user":
            raise web.HTTPError(403, "Vous ne pouvez consulter que votre propre travail.")

    def is_hub(self) -> bool:
        """The hub's own calls (catalogue, spawn hook): a service token holding the hub's scope."""
        return self.current_user.get("kind") == "service" and HUB_SCOPE in self.current_user.get("scopes", [])

    def submission_or_404(self, sub_id: str) -> Submission:
        sub = self.app.store.get(int(sub_id))
        if sub is None:
            raise web.HTTPError(404, "Soumission introuvable.")
        self.check_self(sub.user)
        return sub

    def enqueue(self, course_id: str, assignment_id: str, notebook: str, content: bytes) -> int:
        course = self.app.courses.get(course_id)
        assignment = next((a for a in course.assignments if a.id == assignment_id), None) if course else None
        if assignment is None or notebook not in {p.name for p in assignment.notebooks}:
            raise web.HTTPError(400, f"Aucun exercice « {course_id}/{assignment_id}/{notebook} » dans le catalogue.")
        if len(content) > MAX_NOTEBOOK_BYTES:
            raise web.HTTPError(413, f"Ce notebook dépasse {MAX_NOTEBOOK_BYTES // 2**20} Mo : effacez les sorties "
                                "volumineuses puis soumettez.")
        pending = [s for s in self.app.store.submissions(user=self.current_user["name"]) if s.status != DONE]
        if len(pending) >= MAX_PENDING_PER_LEARNER:
            raise web.HTTPError(429, f"Vous avez déjà {len(pending)} notebooks en cours de correction : attendez "
                                "leur résultat avant d'en soumettre un autre.")
        sub_id = self.app.store.submit(self.current_user["name"], course_id, assignment_id, notebook, content)
        self.app.grader.wakeup.set()
        return sub_id


class ProgressPage(BaseHandler):
    @web.authenticated
    def get(self):
        name = self.current_user["name"]
        courses = progress.learner_progress(self.app.store, list(self.app.courses.values()), name)
        chart = charts.horizontal_bars(
            [(cp.course.title, cp.percent, cp.status) for cp in courses], "Exercices réussis par cours"
        )
        pending = [s for s in self.app.store.submissions(user=name) if s.status != DONE]
        self.render_page("progress.html", courses=courses, chart=chart, labels=progress.LABELS, pending=pending)


class StartCourse(BaseHandler):
    """Commencer / Reprendre: start the learner's server for this course and open the next notebook."""

    @web.authenticated
    def get(self, course_id: str):
        course = self.app.courses.get(course_id)
        if course is None:
            raise web.HTTPError(404, f"Le cours « {course_id} » n'existe pas.")
        name = self.current_user["name"]
        cp = progress.course_progress(course, self.app.store.submissions(user=name, course=course_id))
        target = cp.next_notebook or cp.notebooks[0]
        lab = f"{self.app.hub_prefix}user-redirect/lab/tree/{quote(target.path)}"
        self.redirect(f"{self.app.hub_prefix}spawn/{quote(name)}?profile={quote(course_id)}&next={quote(lab)}")


class Feedback(BaseHandler):
    @web.authenticated
    def get(self, sub_id: str):
        sub = self.submission_or_404(sub_id)
        if sub.status != DONE:
            self.render_page("pending.html", sub=sub)
            return
        if not sub.feedback_html:
            self.render_page("result.html", sub=sub)
            return
        # Learner outputs are untrusted HTML: no scripts, no requests, an origin of its own.
        self.set_header("Content-Security-Policy", FEEDBACK_CSP)
        self.finish(with_trainer_grades(sub))


class SubmissionPage(BaseHandler):
    @web.authenticated
    def get(self, sub_id: str):
        sub = self.submission_or_404(sub_id)
        self.render_page("pending.html" if sub.status != DONE else "result.html", sub=sub)


# --- JSON API (token or cookie) -------------------------------------------------------------------
def submission_json(sub: Submission, prefix: str) -> dict:
    return {
        "id": sub.id, "user": sub.user, "course": sub.course, "assignment": sub.assignment,
        "notebook": sub.notebook, "status": sub.status, "result": sub.result, "message": sub.message,
        "score": sub.score, "max_score": sub.max_score,
        # Points of free-text answers no trainer has graded yet (part of max_score, not of score).
        "awaiting_trainer": max(0.0, sub.max_score - sum(e.max_points for e in sub.exercises)),
        "exercises": [{"grade_id": e.grade_id, "points": e.points, "max_points": e.max_points} for e in sub.exercises],
        "feedback_url": f"{prefix}feedback/{sub.id}" if sub.status == DONE else None,
        "created_at": sub.created_at.isoformat() + "Z",
    }


class SubmissionsAPI(BaseHandler):
    @web.authenticated
    def post(self):
        try:
            body = json.loads(self.request.body)
            course, assignment, notebook = body["course"], body["assignment"], body["notebook"]
            content = json.dumps(body["content"]).encode() if isinstance(body["content"], dict) else body["content"]
            if isinstance(content, str):
                content = content.encode()
        except (ValueError, KeyError, TypeError):
            raise web.HTTPError(400, "Attendu : JSON {course, assignment, notebook, content}.") from None
        sub_id = self.enqueue(course, assignment, notebook, content)
        self.set_status(202)
        self.finish({"id": sub_id, "status": "queued", "url": f"{self.app.prefix}api/submissions/{sub_id}"})

    @web.authenticated
    def get(self):
        subs = self.app.store.submissions(user=self.current_user["name"])
        self.finish({"submissions": [submission_json(s, self.app.prefix) for s in subs]})


class SubmissionAPI(BaseHandler):
    @web.authenticated
    def get(self, sub_id: str):
        self.finish(submission_json(self.submission_or_404(sub_id), self.app.prefix))


class ProgressAPI(BaseHandler):
    @web.authenticated
    def get(self, name: str | None = None):
        name = name or self.current_user["name"]
        if not self.is_hub():
            self.check_self(name)
        courses = progress.learner_progress(self.app.store, list(self.app.courses.values()), name)
        self.finish({
            "user": name,
            # When each challenge closes (the organisers may have closed it early): the hub's cards show it.
            "challenges": {c.id: {"closes_at": c.closes_at().isoformat()} for c in self.app.challenges.values()},
            "courses": [
                {
                    "course": cp.course.id, "status": cp.status, "percent": cp.percent, "label": cp.label,
                    "levels": [{"level": lv, "passed": p, "total": t} for lv, p, t in cp.levels],
                    "notebooks": [
                        {
                            "path": nb.path, "status": nb.status, "score": nb.score, "max_score": nb.max_score,
                            "exercises": [
                                {"grade_id": e.grade_id, "status": e.status, "points": e.points,
                                 "max_points": e.max_points, "manual": e.manual, "level": e.level}
                                for e in nb.exercises
                            ],
                        }
                        for nb in cp.notebooks
                    ],
                }
                for cp in courses
            ],
        })


class MaterialAPI(BaseHandler):
    """The hub tells which release of each course a learner's environment got at its start."""

    @web.authenticated
    def post(self, name: str):
        if not self.is_hub():
            raise web.HTTPError(403, "Réservé au hub.")
        try:
            versions = json.loads(self.request.body)["versions"]
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in versions.items()):
                raise TypeError
        except (ValueError, KeyError, TypeError, AttributeError):
            raise web.HTTPError(400, "Attendu : JSON {versions: {cours: version}}.") from None
        self.app.store.record_material(name, versions)
        self.finish({"user": name, "versions": versions})


class GradingService:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/grading/")
        self.hub_prefix = "/hub/"
        self.public_url = settings.platform.url()
        self.store = Store(settings.grading_db_url())
        self.courses = {c.id: c for c in load_catalogue(settings.courses_dir)}
        self.grader = Grader(settings, self.store, self.courses)
        self.challenges = {c.id: c for c in load_challenges(settings.challenges_dir)
                           if (settings.challenges_hidden_dir / c.id / "labels.csv").is_file()}  # released ones
        self.baselines = {c: json.loads(p.read_text()) for c in self.challenges
                          if (p := settings.challenges_hidden_dir / c / "baseline.json").is_file()}
        for challenge_id, closed_at in self.store.closed_challenges().items():  # closed early by organisers
            if challenge_id in self.challenges:
                self.challenges[challenge_id].closed_at = closed_at.replace(tzinfo=UTC)
        self.scorer = challenges.Scorer(settings, self.store, self.challenges)
        self.hub_auth = HubOAuth(api_token=os.environ.get("JUPYTERHUB_API_TOKEN", ""), cache_max_age=60)
        self.publications: dict = {}  # course id -> its latest Publication (publishing.py)
        self.tasks: set = set()  # background work the service keeps a reference to

    def app(self) -> web.Application:
        p = self.prefix
        routes = [
            (p, web.RedirectHandler, {"url": p + "progress"}),
            (p + "progress", ProgressPage),
            (p + r"courses/([\w-]+)", StartCourse),
            (p + r"feedback/(\d+)", Feedback),
            (p + r"submissions/(\d+)", SubmissionPage),
            (p + "api/submissions", SubmissionsAPI),
            (p + r"api/submissions/(\d+)", SubmissionAPI),
            (p + "api/progress", ProgressAPI),
            (p + r"api/progress/([^/]+)", ProgressAPI),
            (p + r"api/material/([^/]+)", MaterialAPI),
            *trainers.routes(p),
            *challenges.handlers(BaseHandler)(p),
            *challenges.organiser_handlers(trainers.TrainerPage)(p),
            (p + "oauth_callback", HubOAuthCallbackHandler),
        ]
        return web.Application(
            routes, service=self, hub_auth=self.hub_auth, cookie_secret=secrets.token_bytes(32),
        )


async def serve(settings: Settings) -> None:
    service = GradingService(settings)
    server = HTTPServer(service.app(), xheaders=True, max_body_size=MAX_BODY_BYTES)
    server.listen(settings.grading.port, bind_host())
    log.info("grading service on 127.0.0.1:%d%s, %d worker(s)", settings.grading.port, service.prefix,
             service.grader.workers)
    tasks = service.grader.start() + [asyncio.ensure_future(service.scorer.work())]
    await asyncio.gather(*tasks)


def stop_now(*_) -> None:
    """SIGTERM: stop within a second whatever is being graded. Interrupted submissions stay `grading`
    in the store and are queued again at the next start (`Store.recover`), as after a crash."""
    from . import executor

    log.info("stopping: sandboxes killed, interrupted submissions will be graded after the next start")
    executor.kill_all()
    logging.shutdown()
    os._exit(0)


def release_challenges(settings: Settings) -> None:
    """The hidden labels are the service's own: made again here from the organisers' deterministic
    `generate.py` when missing or out of date (`make up` has done it already on one machine; in the hub
    pod on Kubernetes, nobody else does). A challenge that fails is left out, with its reason."""
    from ..challenges import ChallengeError, release_challenge

    for challenge in load_challenges(settings.challenges_dir):
        try:
            done = release_challenge(challenge, settings.challenges_release_dir, settings.challenges_hidden_dir)
            if not done["up_to_date"]:
                log.info("challenge %s released: %d rows to predict", challenge.id, done["test_rows"])
        except (ChallengeError, OSError) as err:
            log.error("challenge %s left out: %s", challenge.id, err)


def main() -> None:
    import shutil
    import signal

    from . import executor

    logging.basicConfig(level=logging.INFO, format="[%(levelname)1.1s %(asctime)s grading] %(message)s")
    settings = load()
    release_challenges(settings)
    staging = settings.grading_dir / "sandboxes"
    shutil.rmtree(staging, ignore_errors=True)  # what a killed service left
    staging.mkdir(parents=True, exist_ok=True)
    executor.staging_dir = str(staging)
    signal.signal(signal.SIGTERM, stop_now)
    signal.signal(signal.SIGINT, stop_now)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
