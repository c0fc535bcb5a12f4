"""The trainers' service (/services/formateur/): dashboards, CSV export and manual grading.

Only trainers and admins reach it: the hub grants `access:services!service=formateur` to the
trainer and admin groups alone (RBAC), so the hub's OAuth refuses everybody else with a 403.
A trainer sees the cohorts the settings name for them; an admin sees every learner.

Run by the hub as a managed service: `python -m autoformation.trainers.service`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from datetime import datetime

import nbformat
from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler
from tornado import web
from tornado.httpserver import HTTPServer

from .. import charts
from ..catalogue import Course, load_catalogue
from ..grading.store import DONE, Store, Submission
from ..settings import Settings, load
from ..web import ServicePage, bind_host, hub_api
from .report import Learner, course_report, to_csv

log = logging.getLogger("autoformation.trainers")
NAME = "formateur"


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


class TrainerPage(ServicePage):
    async def learners(self) -> list[Learner]:
        """The learners this trainer follows, with their cohorts and last activity (from the hub)."""
        settings: Settings = self.service.settings
        roles = {settings.groups.learners, settings.groups.trainers, settings.groups.admins}
        users = await hub_api("/users?state=")
        me = next((u for u in users if u["name"] == self.current_user["name"]), None)
        if me is None:
            raise web.HTTPError(403, "Compte inconnu du hub.")
        is_admin = me.get("admin") or settings.groups.admins in me.get("groups", [])
        followed = set(settings.trainers.cohorts.get(me["name"], []))
        learners = []
        for user in users:
            if settings.groups.learners not in user.get("groups", []):
                continue
            cohorts = sorted(set(user.get("groups", [])) - roles)
            if is_admin or followed & set(cohorts):
                learners.append(Learner(user["name"], cohorts, _time(user.get("last_activity"))))
        return sorted(learners, key=lambda learner: learner.name)

    def course_or_404(self, course_id: str) -> Course:
        course = self.service.courses.get(course_id)
        if course is None:
            raise web.HTTPError(404, f"Le cours « {course_id} » n'existe pas.")
        return course

    async def submission_of_my_learner(self, sub_id: str) -> Submission:
        sub = self.service.store.get(int(sub_id))
        if sub is None or sub.user not in {learner.name for learner in await self.learners()}:
            raise web.HTTPError(404, "Soumission introuvable parmi vos apprenants.")
        return sub


class Overview(TrainerPage):
    @web.authenticated
    async def get(self):
        learners = await self.learners()
        reports = [course_report(self.service.store, c, learners) for c in self.service.courses.values()]
        self.render_page("trainer_overview.html", reports=reports, learners=learners)


class CourseDashboard(TrainerPage):
    @web.authenticated
    async def get(self, course_id: str, fmt: str | None = None):
        course = self.course_or_404(course_id)
        learners = await self.learners()
        cohort = self.get_argument("cohorte", "")
        if cohort:
            learners = [learner for learner in learners if cohort in learner.cohorts]
        report = course_report(self.service.store, course, learners)
        if fmt == ".csv":
            self.set_header("Content-Type", "text/csv; charset=utf-8")
            self.set_header("Content-Disposition", f'attachment; filename="{course.id}-resultats.csv"')
            self.finish(to_csv(report))
            return
        graphs = []
        for nb in report.stats:
            if nb.max_score:
                graphs.append(charts.histogram(nb.scores, 5, nb.max_score, f"Scores · {nb.assignment}/{nb.notebook}"))
            if nb.pass_rates:
                graphs.append(charts.horizontal_bars(
                    [(gid, rate, "bar") for gid, rate in nb.pass_rates],
                    f"Taux de réussite par exercice · {nb.notebook}",
                ))
        all_cohorts = sorted({c for learner in await self.learners() for c in learner.cohorts})
        self.render_page("trainer_course.html", report=report, graphs=graphs, cohort=cohort, cohorts=all_cohorts)


class LearnerFeedback(TrainerPage):
    @web.authenticated
    async def get(self, sub_id: str):
        sub = await self.submission_of_my_learner(sub_id)
        from ..grading.service import FEEDBACK_CSP, with_trainer_grades

        self.set_header("Content-Security-Policy", FEEDBACK_CSP)
        self.finish(with_trainer_grades(sub))


class ManualGrading(TrainerPage):
    """The free-text answers of a submission, with a grade and a comment for each."""

    def answers(self, sub: Submission) -> list[dict]:
        course = self.course_or_404(sub.course)
        assignment = next(a for a in course.assignments if a.id == sub.assignment)
        source = nbformat.read(assignment.source_dir / sub.notebook, as_version=4)
        manual = {
            c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"].get("points", 0)
            for c in source.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.metadata.get("nbgrader", {}).get("grade")
        }
        submitted = nbformat.reads(sub.content.decode("utf-8", "replace"), as_version=4)
        given = {r.grade_id: r for r in sub.exercises if r.manual}
        answers = []
        for cell in submitted.cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id in manual:
                answers.append({
                    "grade_id": grade_id, "text": cell.source, "max_points": manual[grade_id],
                    "points": given[grade_id].points if grade_id in given else None,
                    "comment": given[grade_id].comment if grade_id in given else "",
                })
        return answers

    @web.authenticated
    async def get(self, sub_id: str):
        sub = await self.submission_of_my_learner(sub_id)
        self.render_page("trainer_grading.html", sub=sub, answers=self.answers(sub), saved=self.get_argument("ok", ""))

    @web.authenticated
    async def post(self, sub_id: str):
        sub = await self.submission_of_my_learner(sub_id)
        if sub.status != DONE:
            raise web.HTTPError(409, "Cette soumission n'est pas encore corrigée automatiquement.")
        answers = {a["grade_id"]: a for a in self.answers(sub)}
        grade_id = self.get_body_argument("grade_id")
        if grade_id not in answers:
            raise web.HTTPError(400, f"Pas de réponse rédigée « {grade_id} » dans cette soumission.")
        try:
            points = float(self.get_body_argument("points").replace(",", "."))
        except ValueError:
            raise web.HTTPError(400, "La note doit être un nombre.") from None
        max_points = answers[grade_id]["max_points"]
        if not 0 <= points <= max_points:
            raise web.HTTPError(400, f"La note doit être comprise entre 0 et {max_points:g}.")
        comment = self.get_body_argument("comment", "").strip()
        self.service.store.grade_manually(sub.id, grade_id, points, max_points, comment)
        await asyncio.to_thread(self.service.save_to_gradebook, sub, grade_id, points, comment)
        log.info("%s graded %s of submission %s: %s", self.current_user["name"], grade_id, sub.id, points)
        self.redirect(f"{self.service.prefix}correction/{sub.id}?ok={grade_id}")


class TrainerService:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{NAME}/")
        self.store = Store(settings.grading_db_url())
        self.courses = {c.id: c for c in load_catalogue(settings.courses_dir)}
        self.hub_auth = HubOAuth(api_token=os.environ.get("JUPYTERHUB_API_TOKEN", ""), cache_max_age=60)

    def save_to_gradebook(self, sub: Submission, grade_id: str, points: float, comment: str) -> None:
        """Keep nbgrader's gradebook the record of every grade, manual ones included."""
        from nbgrader.api import Gradebook, MissingEntry

        from ..grading.gradebook import gradebook_url

        notebook = sub.notebook.removesuffix(".ipynb")
        with Gradebook(gradebook_url(self.settings, sub.course), course_id=sub.course) as gb:
            try:
                grade = gb.find_grade(grade_id, notebook, sub.assignment, sub.user)
                grade.manual_score = points
                found = gb.find_comment(grade_id, notebook, sub.assignment, sub.user)
                found.manual_comment = comment
                gb.db.commit()
            except MissingEntry:
                log.warning("no gradebook entry for %s of submission %s", grade_id, sub.id)

    def app(self) -> web.Application:
        p = self.prefix
        routes = [
            (p, Overview),
            (p + r"cours/([\w-]+)(\.csv)?", CourseDashboard),
            (p + r"feedback/(\d+)", LearnerFeedback),
            (p + r"correction/(\d+)", ManualGrading),
            (p + "oauth_callback", HubOAuthCallbackHandler),
        ]
        return web.Application(routes, service=self, hub_auth=self.hub_auth, cookie_secret=secrets.token_bytes(32))


async def serve(settings: Settings, port: int) -> None:
    service = TrainerService(settings)
    HTTPServer(service.app(), xheaders=True).listen(port, bind_host())
    log.info("trainers' service on 127.0.0.1:%d%s", port, service.prefix)
    await asyncio.Event().wait()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="[%(levelname)1.1s %(asctime)s formateur] %(message)s")
    settings = load()
    asyncio.run(serve(settings, settings.trainers.port))


if __name__ == "__main__":
    main()
