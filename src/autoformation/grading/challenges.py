"""Funathon challenges in the grading service: teams submit predictions, the sandbox scores them,
everyone reads the leaderboard (/services/grading/challenges/<id>).

A team is a Keycloak group with the teams' prefix; quotas are per team and per day; a file that does
not pass the checks is refused with its problems and uses no quota. The organisers' scorer runs in
the grading sandbox, like learner code: it reads the checked predictions and the hidden labels there.
The public part of the test set ranks during the phase; the private part is revealed once it closes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tornado import web

from .. import charts
from ..challenges import Challenge, check_predictions, parcours_steps, read_labels, team_of
from .store import DONE, ChallengeSubmission, Store, next_claimed

log = logging.getLogger("autoformation.grading")
SCORES_MARK = "AUTOFORMATION-SCORES "
# Run by the runner in its own interpreter, in the sandbox, in the folder of the staged files below.
SCORER_CELL = f'''import importlib.util, json
_spec = importlib.util.spec_from_file_location("score", "score.py")
_scorer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_scorer)
_pred, _labels = json.load(open("predictions.json")), json.load(open("labels.json"))
_public = set(json.load(open("split.json"))["public"])
_out = {{}}
_parts = {{"public": [i for i in _labels if i in _public], "private": [i for i in _labels if i not in _public]}}
for _part, _ids in _parts.items():
    _got = _scorer.score({{i: _pred[i] for i in _ids}}, {{i: _labels[i] for i in _ids}})
    _out[_part] = {{str(k): float(v) for k, v in _got.items()}}
print({SCORES_MARK!r} + json.dumps(_out))
'''


def digits(value: float) -> float:
    """Scores shown rounded (probing the public part with many tiny changes pays little)."""
    return float(f"{value:.4g}")


class Scorer:
    """The challenges' worker: one prediction file at a time, from the store's queue."""

    def __init__(self, settings, store: Store, challenges: dict[str, Challenge]):
        self.settings, self.store, self.challenges = settings, store, challenges
        self.wakeup = asyncio.Event()
        self.version = 0  # bumped whenever what a leaderboard shows may have changed
        self.boards: dict[tuple, tuple] = {}  # (challenge, level) -> (version and closed, the board)
        self.steps = {c.id: parcours_steps(c) for c in challenges.values()}  # challenge -> level -> step ids

    def hidden(self, challenge: Challenge) -> Path:
        return self.settings.challenges_hidden_dir / challenge.id

    def test_ids(self, challenge: Challenge) -> set[str]:
        return set(read_labels(self.hidden(challenge) / "labels.csv", challenge))

    def score(self, sub: ChallengeSubmission) -> tuple[str, str, dict, dict]:
        from . import executor
        from .executor import Limits
        from .sandboxes import sandbox_for

        challenge = self.challenges[sub.challenge]
        labels = read_labels(self.hidden(challenge) / "labels.csv", challenge)
        with tempfile.TemporaryDirectory(prefix="defi-") as tmp:
            staged = Path(tmp)
            (staged / "predictions.json").write_bytes(sub.content)
            (staged / "labels.json").write_text(json.dumps(labels))
            shutil.copyfile(self.hidden(challenge) / "split.json", staged / "split.json")
            shutil.copyfile(challenge.path / "score.py", staged / "score.py")
            g = self.settings.grading
            limits = Limits(cell_timeout=g.cell_timeout, wall_timeout=g.timeout, memory_mb=g.memory_mb,
                            cpu_seconds=g.cpu_seconds, max_output_kb=g.max_output_kb)
            reply = executor.run([{"kind": "test", "source": SCORER_CELL}], "", staged, limits,
                                 sandbox=sandbox_for(self.settings, challenge.image))
        test = (reply.get("tests") or {}).get("0") or {}
        outputs = test.get("outputs") or []
        text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
        if reply.get("outcome") != "done" or not test.get("passed") or SCORES_MARK not in text:
            error = next((o.get("evalue", "") for o in outputs if o.get("output_type") == "error"), "")
            log.error("challenge %s: the scorer failed on submission %s: %s %s", sub.challenge, sub.id,
                      reply.get("outcome"), error)
            return ("failed", "Le calcul du score a échoué (erreur du script des organisateurs, prévenus) : "
                    "votre soumission ne compte pas dans le quota.", {}, {})
        scores = json.loads(text.split(SCORES_MARK, 1)[1].splitlines()[0])
        return "scored", "Prédictions évaluées.", scores["public"], scores["private"]

    async def work(self) -> None:
        while True:
            sub = await next_claimed(self.store.claim_predictions, self.wakeup)
            try:
                result = await asyncio.to_thread(self.score, sub)
            except Exception:
                log.exception("scoring submission %s of %s failed", sub.id, sub.challenge)
                result = ("failed", "Le calcul du score a rencontré une erreur de la plateforme : soumettez à "
                          "nouveau un peu plus tard.", {}, {})
            await asyncio.to_thread(self.store.finish_predictions, sub.id, *result)
            self.version += 1
            log.info("challenge %s, submission %s of %s: %s %s", sub.challenge, sub.id, sub.team, result[0],
                     result[2])


@dataclass
class Row:
    team: str
    score: float | None
    scores: dict
    submissions: int
    last: datetime | None
    baseline: bool = False


def in_competition(challenge: Challenge, sub: ChallengeSubmission) -> bool:
    """Submitted before the challenge closed (the others are "hors concours", self-paced practice)."""
    return sub.created_at < challenge.closes_at().astimezone(UTC).replace(tzinfo=None)


def counted(challenge: Challenge, subs: list[ChallengeSubmission], part: str) -> list[ChallengeSubmission]:
    """The scored submissions a part of the leaderboard ranks: on the public part every one made during the
    competition; on the private part each team's selected finals, else its best public one (as Kaggle does:
    no cherry-picking after the reveal); on the "after" part, those made once it closed."""
    scored = [s for s in subs if s.status == DONE and s.result == "scored"]
    if part == "after":
        return [s for s in scored if not in_competition(challenge, s)]
    scored = [s for s in scored if in_competition(challenge, s)]
    if part == "public":
        return scored
    chosen = []
    for team in dict.fromkeys(s.team for s in scored):
        mine = [s for s in scored if s.team == team]
        finals = [s for s in mine if s.final]
        if finals:
            chosen += finals
        else:
            best = mine[0]
            for s in mine[1:]:
                if challenge.better(s.public[challenge.metric], best.public[challenge.metric]):
                    best = s
            chosen.append(best)
    return chosen


def leaderboard(challenge: Challenge, subs: list[ChallengeSubmission], part: str,
                baseline: dict | None) -> list[Row]:
    """One row per team (its best score on `part`), the baseline among them, best first."""
    best: dict[str, Row] = {}
    scores_of = "private" if part == "after" else part  # after closing, practice is scored on the private part
    for sub in counted(challenge, subs, part):
        row = best.setdefault(sub.team, Row(sub.team, None, {}, 0, None))
        row.submissions += 1
        row.last = sub.created_at
        value = (getattr(sub, scores_of) or {}).get(challenge.metric)
        if value is not None and (row.score is None or challenge.better(value, row.score)):
            row.score, row.scores = value, getattr(sub, scores_of)
    rows = [r for r in best.values() if r.score is not None]
    if baseline and part in baseline:
        rows.append(Row("Référence (moyenne)", baseline[part][challenge.metric], baseline[part], 0, None, True))
    return sorted(rows, key=lambda r: r.score if challenge.minimize else -r.score)


STUCK_ATTEMPTS = 3  # failed self-checks of one step, by a team's members, before organisers are told


@dataclass
class ParcoursState:
    """Where a team is in its parcours: steps passed out of the level's, and the step it is trying now."""

    level: str
    passed: int
    total: int
    current: str | None = None  # the first step no member has passed yet
    attempts: int = 0  # failed self-checks of it so far
    since: datetime | None = None

    @property
    def stuck(self) -> bool:
        return self.current is not None and self.attempts >= STUCK_ATTEMPTS


def parcours_progress(rows: list, steps: dict[str, list[str]]) -> dict[str, ParcoursState]:
    """team -> its ParcoursState, from its members' self-checked steps (store.parcours_steps rows), on the
    level they last worked on."""
    by_team: dict[str, list] = {}
    for row in rows:
        if row.team:
            by_team.setdefault(row.team, []).append(row)
    states = {}
    for team, mine in by_team.items():
        level = mine[-1].level  # rows come oldest first
        order = steps.get(level, [])
        passed = {r.step for r in mine if r.level == level and r.passed_at is not None}
        state = ParcoursState(level, sum(1 for s in order if s in passed), len(order))
        state.current = next((s for s in order if s not in passed), None)
        trying = [r for r in mine if r.level == level and r.step == state.current]
        if trying:
            state.attempts = sum(r.attempts for r in trying)
            state.since = min(r.first_at for r in trying)
        states[team] = state
    return states


def team_levels(subs: list, steps: list) -> dict[str, str]:
    """Each team's level: the parcours of its latest submission that says one, else the parcours its
    members last self-checked a step of (a team may change level: its row follows)."""
    levels = {row.team: row.level for row in steps if row.team}  # oldest first: the latest wins
    for sub in subs:
        if sub.level:
            levels[sub.team] = sub.level
    return levels


def quota_used(challenge: Challenge, subs: list[ChallengeSubmission], team: str, today: datetime) -> int:
    """Scored (or being scored) files of this team today: refused and failed ones do not count."""
    return sum(1 for s in subs if s.team == team and s.created_at.date() == today.date()
               and not (s.status == DONE and s.result in ("failed", "refused")))


class ChallengePage:
    """Mixin for the challenges' pages (participants' and organisers'): the challenge or a 404, the team."""

    def challenge_or_404(self, challenge_id: str) -> Challenge:
        challenge = self.service.challenges.get(challenge_id)
        if challenge is None:
            raise web.HTTPError(404, f"Le défi « {challenge_id} » n'existe pas.")
        return challenge

    def team(self) -> str | None:
        return team_of(self.current_user.get("groups", []), self.service.settings.challenges.team_prefix)

    def submitter(self, challenge: Challenge) -> str | None:
        """Who a submission counts for: the team during the competition; after it closed, the team or,
        for a self-paced learner in no team, the learner alone ("hors concours")."""
        team = self.team()
        return team or (self.current_user["name"] if challenge.closed() else None)

    def level_argument(self, challenge: Challenge) -> str:
        """The `niveau` asked for (query or form), one of the challenge's levels, or "" for none."""
        level = self.get_argument("niveau", "")
        if level and level not in challenge.levels:
            raise web.HTTPError(400, f"Niveau inconnu « {level[:40]} » : {', '.join(challenge.levels)}.")
        return level

    def board(self, challenge: Challenge, level: str = "") -> dict:
        """The leaderboard (of one level's teams, or of all), computed again only when a submission was
        scored or chosen, a step self-checked, or the challenge closed (the grading service is the only
        writer of these rows, so it knows when they change)."""
        key = (self.service.scorer.version, challenge.closed())
        cached = self.service.scorer.boards.get((challenge.id, level))
        if cached and cached[0] == key:
            return cached[1]
        board = self.compute_board(challenge, level)
        self.service.scorer.boards[(challenge.id, level)] = (key, board)
        return board

    def compute_board(self, challenge: Challenge, level: str = "") -> dict:
        subs = self.service.store.challenge_scores(challenge.id)
        levels = team_levels(subs, self.service.store.parcours_steps(challenge.id))
        if level:
            subs = [s for s in subs if levels.get(s.team) == level]
        closed = challenge.closed()
        baseline = self.service.baselines.get(challenge.id)
        part = "private" if closed else "public"
        rows = leaderboard(challenge, subs, part, baseline)
        after = leaderboard(challenge, subs, "after", None) if closed else []
        return {
            "levels": challenge.levels, "level": level,
            "after": [{"rank": i + 1, "team": r.team, "score": digits(r.score),
                       "scores": {k: digits(v) for k, v in r.scores.items()}, "submissions": r.submissions}
                      for i, r in enumerate(after)],
            "challenge": challenge.id, "metric": challenge.metric, "minimize": challenge.minimize,
            "columns": challenge.columns, "part": part, "closed": closed,
            "phase": (challenge.phase().name if challenge.phase() else None),
            "rows": [{"rank": i + 1, "team": r.team, "score": digits(r.score), "baseline": r.baseline,
                      "level": "" if r.baseline else levels.get(r.team, ""),
                      "scores": {k: digits(v) for k, v in r.scores.items()}, "submissions": r.submissions,
                      "last": r.last.isoformat() + "Z" if r.last else None} for i, r in enumerate(rows)],
        }


def submission_json(sub: ChallengeSubmission, closed: bool) -> dict:
    return {"id": sub.id, "challenge": sub.challenge, "team": sub.team, "user": sub.user, "status": sub.status,
            "result": sub.result, "message": sub.message, "final": sub.final, "level": sub.level,
            "public": {k: digits(v) for k, v in (sub.public or {}).items()},
            "private": {k: digits(v) for k, v in (sub.private or {}).items()} if closed else None,
            "created_at": sub.created_at.isoformat() + "Z"}


def handlers(base):
    """The challenges' routes, on the grading service's base handler (HubOAuth, JSON errors under /api/)."""

    class Predictions(ChallengePage, base):
        @web.authenticated
        def post(self, challenge_id: str):
            challenge = self.challenge_or_404(challenge_id)
            team = self.submitter(challenge)
            if team is None:
                raise web.HTTPError(403, "Vous ne faites partie d'aucune équipe du Funathon : demandez aux "
                                    "organisateurs de vous ajouter à une équipe pour soumettre.")
            if challenge.phase() is None and not challenge.closed():
                raise web.HTTPError(409, "Le défi n'est pas encore ouvert aux soumissions.")
            content = self.request.files["fichier"][0]["body"] if "fichier" in self.request.files \
                else self.request.body
            scorer: Scorer = self.service.scorer
            predictions, problems = check_predictions(content, challenge, scorer.test_ids(challenge))
            if problems:
                self.service.store.record_refused(challenge.id, team, self.current_user["name"], "\n".join(problems))
                self.set_status(400)
                self.finish({"status": 400, "message": "Fichier refusé (il ne compte pas dans le quota).",
                             "problems": problems})
                return
            subs = self.service.store.challenge_submissions(challenge.id, team)
            used = quota_used(challenge, subs, team, datetime.now(UTC))
            if used >= challenge.quota_per_day:
                raise web.HTTPError(429, f"Quota atteint : {challenge.quota_per_day} soumissions par équipe et "
                                    "par jour. Revenez demain, ou choisissez mieux la prochaine !")
            level = self.level_argument(challenge) or team_levels(
                subs, self.service.store.parcours_steps(challenge.id)).get(team, "")
            sub_id = self.service.store.submit_predictions(challenge.id, team, self.current_user["name"],
                                                       json.dumps(predictions).encode(), level)
            scorer.wakeup.set()
            self.set_status(202)
            self.finish({"id": sub_id, "status": "queued", "team": team,
                         "quota_left": challenge.quota_per_day - used - 1,
                         "url": f"{self.service.prefix}api/challenges/{challenge.id}/submissions/{sub_id}"})

        @web.authenticated
        def get(self, challenge_id: str):
            challenge = self.challenge_or_404(challenge_id)
            team = self.submitter(challenge)
            subs = self.service.store.challenge_submissions(challenge.id, team) if team else []
            self.finish({"team": team, "submissions": [submission_json(s, challenge.closed()) for s in subs]})

    class OnePrediction(ChallengePage, base):
        @web.authenticated
        def get(self, challenge_id: str, sub_id: str):
            challenge = self.challenge_or_404(challenge_id)
            sub = self.service.store.get_predictions(int(sub_id))
            if sub is None or sub.challenge != challenge.id or sub.team != self.submitter(challenge):
                raise web.HTTPError(404, "Soumission introuvable parmi celles de votre équipe.")
            self.finish(submission_json(sub, challenge.closed()))

    class Final(ChallengePage, base):
        """A team member selects (or unselects) a scored submission for the private leaderboard."""

        @web.authenticated
        def post(self, challenge_id: str, sub_id: str):
            challenge = self.challenge_or_404(challenge_id)
            sub = self.service.store.get_predictions(int(sub_id))
            if sub is None or sub.challenge != challenge.id or sub.team != self.team():
                raise web.HTTPError(404, "Soumission introuvable parmi celles de votre équipe.")
            if challenge.closed():
                raise web.HTTPError(409, "Le défi est clos : les soumissions finales ne changent plus.")
            if sub.result != "scored":
                raise web.HTTPError(400, "Seule une soumission évaluée peut compter pour le classement final.")
            try:
                final = bool(json.loads(self.request.body or b"{}").get("final", True))
            except (ValueError, AttributeError):
                raise web.HTTPError(400, "Attendu : JSON {final: true|false}.") from None
            finals = [s for s in self.service.store.challenge_submissions(challenge.id, sub.team) if s.final]
            if final and sub.id not in {s.id for s in finals} and len(finals) >= challenge.finals:
                raise web.HTTPError(409, f"Votre équipe a déjà choisi {challenge.finals} soumissions finales : "
                                    "retirez-en une d'abord.")
            self.service.store.set_final(sub.id, final)
            self.service.scorer.version += 1
            self.finish({"id": sub.id, "final": final})

    class Board(ChallengePage, base):
        @web.authenticated
        def get(self, challenge_id: str):
            challenge = self.challenge_or_404(challenge_id)
            self.finish(self.board(challenge, self.level_argument(challenge)))

    class Steps(ChallengePage, base):
        """A participant's kernel reports a self-checked step of a parcours (autoformation.selfcheck):
        organisers see which teams are stuck where. Self-reported, so never part of a score."""

        @web.authenticated
        def post(self, challenge_id: str):
            challenge = self.challenge_or_404(challenge_id)
            try:
                body = json.loads(self.request.body or b"{}")
                level, step, passed = body["level"], body["step"], body["passed"]
            except (ValueError, KeyError, TypeError):
                raise web.HTTPError(400, "Attendu : JSON {level, step, passed}.") from None
            known = self.service.scorer.steps[challenge.id]
            if not (isinstance(level, str) and isinstance(passed, bool)) or step not in known.get(level, []):
                raise web.HTTPError(400, "Étape inconnue dans les parcours de ce défi.")
            self.service.store.record_step(challenge.id, self.team() or "", self.current_user["name"], level, step,
                                           passed)
            self.service.scorer.version += 1  # a team's level may follow
            self.set_status(204)

    class Page(ChallengePage, base):
        @web.authenticated
        def get(self, challenge_id: str):
            challenge = self.challenge_or_404(challenge_id)
            board = self.board(challenge)
            team = self.submitter(challenge)
            mine = self.service.store.challenge_submissions(challenge.id, team) if team else []
            scores = [r["score"] for r in board["rows"] if not r["baseline"]]
            chart = charts.histogram(scores, 5, max(scores), f"Scores ({challenge.metric})") if scores else ""
            team_level = team_levels(mine, self.service.store.parcours_steps(challenge.id)).get(team, "") \
                if team else ""
            self.render_page("challenge.html", challenge=challenge, board=board, team=team, mine=mine,
                             team_level=team_level,
                             chart=chart, used=quota_used(challenge, mine, team or "", datetime.now(UTC)))

    def routes(prefix: str) -> list[tuple]:
        return [
            (prefix + r"challenges/([\w-]+)", Page),
            (prefix + r"api/challenges/([\w-]+)/submissions", Predictions),
            (prefix + r"api/challenges/([\w-]+)/submissions/(\d+)", OnePrediction),
            (prefix + r"api/challenges/([\w-]+)/submissions/(\d+)/final", Final),
            (prefix + r"api/challenges/([\w-]+)/leaderboard", Board),
            (prefix + r"api/challenges/([\w-]+)/steps", Steps),
        ]

    return routes


# --- organisers (the trainers' pages: the trainers' scope) ------------------------------------------
def rank_shift(challenge: Challenge, subs: list[ChallengeSubmission]) -> list[tuple[str, int, int]]:
    """(team, public rank, private rank) of each team, by its best submission on each part: the debrief
    of overfitting to the public part, which no competition platform shows."""
    public = [r.team for r in leaderboard(challenge, subs, "public", None)]
    private = [r.team for r in leaderboard(challenge, subs, "private", None)]
    return [(team, public.index(team) + 1, private.index(team) + 1) for team in public if team in private]


def organiser_handlers(trainer_page):
    """The organisers' pages, on the trainers' base page (it checks the trainers' scope)."""
    import csv
    import io

    from ..web import hub_api

    class Organise(ChallengePage, trainer_page):
        async def teams(self) -> dict[str, list[str]]:
            prefix = self.service.settings.challenges.team_prefix
            teams: dict[str, list[str]] = {}
            for user in await hub_api("/users?state="):
                for group in user.get("groups", []):
                    if group.startswith(prefix):
                        teams.setdefault(group, []).append(user["name"])
            return {team: sorted(members) for team, members in sorted(teams.items())}

        @web.authenticated
        async def get(self, challenge_id: str, fmt: str | None = None):
            challenge = self.challenge_or_404(challenge_id)
            subs = self.service.store.challenge_submissions(challenge.id)
            if fmt == ".csv":
                out = io.StringIO()
                writer = csv.writer(out)
                writer.writerow(["id", "team", "user", "created_at", "status", "result", "message",
                                 *[f"public_{c}" for c in challenge.columns],
                                 *[f"private_{c}" for c in challenge.columns]])
                for sub in subs:
                    writer.writerow([sub.id, sub.team, sub.user, sub.created_at.isoformat(), sub.status, sub.result,
                                     sub.message, *[(sub.public or {}).get(c, "") for c in challenge.columns],
                                     *[(sub.private or {}).get(c, "") for c in challenge.columns]])
                self.set_header("Content-Type", "text/csv; charset=utf-8")
                self.set_header("Content-Disposition", f'attachment; filename="{challenge.id}-soumissions.csv"')
                self.finish(out.getvalue())
                return
            teams = await self.teams()
            for sub in subs:
                teams.setdefault(sub.team, [])
            best = {part: {r.team: digits(r.score) for r in leaderboard(challenge, subs, part, None)}
                    for part in ("public", "private")}
            per_team = {team: {"subs": [s for s in subs if s.team == team],
                               "public": best["public"].get(team), "private": best["private"].get(team)}
                        for team in teams}
            hours: dict[str, int] = {}
            for sub in subs:
                hour = sub.created_at.strftime("%d/%m %Hh")
                hours[hour] = hours.get(hour, 0) + 1
            activity = charts.horizontal_bars([(h, n, "bar") for h, n in hours.items()],
                                              "Soumissions par heure", unit="", maximum=max(hours.values())) \
                if hours else ""
            parcours = parcours_progress(self.service.store.parcours_steps(challenge.id),
                                         self.service.scorer.steps[challenge.id])
            shifts = rank_shift(challenge, subs) if challenge.closed() else []
            debrief = charts.horizontal_bars(
                [(f"{t} : {a}e → {b}e", abs(a - b), "passed" if b <= a else "in_progress") for t, a, b in shifts],
                "Rang public → rang privé (écart)", unit="", maximum=max([abs(a - b) for _, a, b in shifts] + [1]),
            ) if shifts else ""
            self.render_page("challenge_organise.html", challenge=challenge, board=self.board(challenge),
                             teams=teams, per_team=per_team, activity=activity, debrief=debrief, shifts=shifts,
                             parcours=parcours, stuck_attempts=STUCK_ATTEMPTS,
                             closed_by=self.service.store.closed_challenges().get(challenge.id))

        @web.authenticated
        async def post(self, challenge_id: str, fmt: str | None = None):
            challenge = self.challenge_or_404(challenge_id)
            if not challenge.closed():
                closed_at = self.service.store.close_challenge(challenge.id, self.current_user["name"])
                challenge.closed_at = closed_at.replace(tzinfo=UTC)
                self.service.scorer.version += 1
                log.info("%s closed challenge %s", self.current_user["name"], challenge.id)
            self.redirect(f"{self.service.prefix}trainers/challenges/{challenge.id}")

    def routes(prefix: str) -> list[tuple]:
        return [(prefix + r"trainers/challenges/([\w-]+)(\.csv)?", Organise)]

    return routes
