"""The trainers' pages of the grading service (/services/grading/trainers/): dashboards, CSV export,
manual grading.

They live in the grading service because it owns the grading data (submissions, trainers' grades,
nbgrader's gradebooks): one writer. Only trainers and admins reach them: the hub grants the custom
scope `custom:grading:trainers` to those groups alone (RBAC), the service asks for it in its OAuth
tokens, and every page here checks it. A trainer sees the cohorts the settings name for them; an
admin sees every learner.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import nbformat
from tornado import web

from .. import charts, notebooks
from ..catalogue import Course
from ..names import TRAINER_SCOPE
from ..settings import Settings
from ..web import ServicePage, hub_api
from . import publishing
from .feedback import FEEDBACK_CSP, with_trainer_grades
from .report import Learner, course_report, to_csv
from .store import DONE, Submission

log = logging.getLogger("autoformation.grading")


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


class TrainerPage(ServicePage):
    def prepare(self):
        # Signed-in users without the trainers' scope (learners) get a 403; the others sign in first.
        user = self.current_user
        if user is not None and TRAINER_SCOPE not in user.get("scopes", []):
            raise web.HTTPError(403, "Cet espace est réservé aux formateurs.")

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
        self.render_page("trainer_overview.html", reports=reports, learners=learners,
                         challenges=list(self.service.challenges.values()))


class CourseDashboard(TrainerPage):
    @web.authenticated
    async def get(self, course_id: str, fmt: str | None = None):
        course = self.course_or_404(course_id)
        learners = await self.learners()
        cohort = self.get_argument("cohort", "")
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

        self.set_header("Content-Security-Policy", FEEDBACK_CSP)
        self.finish(with_trainer_grades(sub))


class ManualGrading(TrainerPage):
    """The free-text answers of a submission, with a grade and a comment for each."""

    def answers(self, sub: Submission) -> list[dict]:
        course = self.course_or_404(sub.course)
        assignment = next(a for a in course.assignments if a.id == sub.assignment)
        source = nbformat.read(assignment.source_dir / sub.notebook, as_version=4)
        manual = {e.grade_id: e.points for e in notebooks.exercises(source) if e.manual}
        submitted = nbformat.reads(sub.content.decode("utf-8", "replace"), as_version=4)
        given = {r.grade_id: r for r in sub.exercises if r.manual}
        answers = []
        for cell in submitted.cells:
            grade_id = notebooks.grade_id(cell)
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
        await asyncio.to_thread(self.service.grader.grade_manually, sub, grade_id, points, max_points, comment)
        log.info("%s graded %s of submission %s: %s", self.current_user["name"], grade_id, sub.id, points)
        self.redirect(f"{self.service.prefix}trainers/grading/{sub.id}?ok={grade_id}")


class CoursePublish(TrainerPage):
    """Publish the course from the trainer's working copy (`~/sources/<course>`), checked first."""

    def job(self, course_id: str):
        return self.service.publications.get(course_id)

    @web.authenticated
    async def get(self, course_id: str):
        course = self.course_or_404(course_id)
        self.render_page("trainer_publish.html", course=course, job=self.job(course_id), states=publishing,
                         sources=f"~/{publishing.workcopy.SOURCES}/{course.id}",
                         cluster=self.service.settings.spawner.backend == "kubernetes")

    @web.authenticated
    async def post(self, course_id: str):
        self.course_or_404(course_id)
        if self.service.settings.spawner.backend == "kubernetes":
            raise web.HTTPError(400, "Sur Kubernetes, les sources des cours passent par Git (voir le README).")
        running = self.job(course_id)
        if running is not None and running.state == publishing.RUNNING:
            raise web.HTTPError(409, f"Une publication de ce cours est déjà en cours ({running.user}).")
        job = publishing.Publication(course_id, self.current_user["name"])
        self.service.publications[course_id] = job
        task = asyncio.create_task(publishing.publish(self.service.settings, self.service.courses, job))
        self.service.tasks.add(task)
        task.add_done_callback(self.service.tasks.discard)
        log.info("%s publishes course %s", job.user, course_id)
        self.redirect(f"{self.service.prefix}trainers/courses/{course_id}/publish")


def routes(prefix: str) -> list[tuple]:
    p = prefix + "trainers/"
    return [
        (p, Overview),
        (p + r"courses/([\w-]+)/publish", CoursePublish),
        (p + r"courses/([\w-]+)(\.csv)?", CourseDashboard),
        (p + r"feedback/(\d+)", LearnerFeedback),
        (p + r"grading/(\d+)", ManualGrading),
    ]
