"""Where Funathon teams are in their parcours, and which level their row is on (fast: plain rows)."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

from autoformation.grading.challenges import STUCK_ATTEMPTS, parcours_progress, team_levels

T0 = datetime(2026, 11, 30, 9, 0)
STEPS = {"débutant": ["verif-1", "verif-2"], "intermédiaire": ["verif-1", "verif-2", "verif-3"]}


def step(team, user, level, name, attempts, passed=False, minutes=0):
    at = T0 + timedelta(minutes=minutes)
    return SimpleNamespace(team=team, user=user, level=level, step=name, attempts=attempts,
                           passed_at=at if passed else None, first_at=at, last_at=at)


def test_a_team_is_stuck_when_its_members_fail_a_step_again_and_again():
    rows = [
        step("equipe-a", "ana", "débutant", "verif-1", 2, passed=True),
        step("equipe-a", "anouk", "débutant", "verif-2", 1, minutes=5),
        step("equipe-a", "ana", "débutant", "verif-2", STUCK_ATTEMPTS - 1, minutes=7),
        step("equipe-b", "basile", "débutant", "verif-1", 1, minutes=1),
        step("equipe-c", "chloe", "débutant", "verif-1", 1, passed=True),
        step("equipe-c", "chloe", "débutant", "verif-2", 1, passed=True, minutes=2),
        step("", "nadia", "débutant", "verif-1", 9),  # in no team: nobody to follow
    ]
    states = parcours_progress(rows, STEPS)
    assert set(states) == {"equipe-a", "equipe-b", "equipe-c"}
    a = states["equipe-a"]
    assert (a.level, a.passed, a.total, a.current, a.attempts, a.since, a.stuck) == (
        "débutant", 1, 2, "verif-2", STUCK_ATTEMPTS, T0 + timedelta(minutes=5), True)  # both members' tries
    b = states["equipe-b"]
    assert (b.passed, b.current, b.attempts, b.stuck) == (0, "verif-1", 1, False)
    c = states["equipe-c"]
    assert (c.passed, c.total, c.current, c.stuck) == (2, 2, None, False)
    # A member of team B moves to the intermediate parcours: the team is followed there, from zero.
    rows.append(step("equipe-b", "bianca", "intermédiaire", "verif-1", 1, passed=True, minutes=9))
    b = parcours_progress(rows, STEPS)["equipe-b"]
    assert (b.level, b.passed, b.total, b.current) == ("intermédiaire", 1, 3, "verif-2")


def test_a_team_level_is_its_latest_submission_s_else_its_parcours():
    subs = [SimpleNamespace(team="equipe-a", level="débutant"), SimpleNamespace(team="equipe-b", level=""),
            SimpleNamespace(team="equipe-a", level="intermédiaire"), SimpleNamespace(team="equipe-a", level="")]
    rows = [step("equipe-b", "basile", "débutant", "verif-1", 1), step("equipe-a", "ana", "débutant", "verif-1", 1)]
    assert team_levels(subs, rows) == {"equipe-a": "intermédiaire", "equipe-b": "débutant"}
    assert team_levels(subs, []) == {"equipe-a": "intermédiaire"}


def test_team_and_member_names_with_markup_are_shown_as_text_on_both_pages():
    """A Keycloak group (a team) or a user may be named with markup: the pages show it, never run it."""
    from datetime import UTC
    from html.parser import HTMLParser

    from autoformation.challenges import load_challenge
    from autoformation.grading.challenges import ParcoursState
    from autoformation.web import PAGES
    from tests.conftest import ROOT

    hostile = 'equipe-<img src=x onerror="alert(1)"></script><script>alert(2)</script>'
    challenge = load_challenge(ROOT / "challenges" / "prix-immobilier")
    sub = SimpleNamespace(id=1, user='<b onmouseover="x()">ana</b>', created_at=T0, status="done", result="refused",
                          message="<iframe src=//evil>", public={}, final=False)
    row = {"rank": 1, "team": hostile, "score": 10.0, "baseline": False, "level": "débutant",
           "scores": {"mape": 10.0}, "submissions": 1, "last": None}
    board = {"rows": [row], "after": [], "closed": False, "phase": "funathon", "part": "public"}
    common = {"user": {"name": "ana"}, "prefix": "/services/grading/", "hub": "/hub/", "grading": "/services/grading/",
              "xsrf": "x", "challenge": challenge, "board": board}
    pages = [
        PAGES.get_template("challenge.html").render(**common, team=hostile, team_level="débutant", mine=[sub],
                                                    chart="", used=1),
        PAGES.get_template("challenge_organise.html").render(
            **common, teams={hostile: [sub.user]}, per_team={hostile: {"subs": [sub], "public": 10.0, "private": None}},
            parcours={hostile: ParcoursState("débutant", 0, 2, "<u>verif-1</u>", 3, T0.replace(tzinfo=UTC))},
            stuck_attempts=3, activity="", debrief="", shifts=[], closed_by=None),
    ]

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found = []

        def handle_starttag(self, tag, attrs):
            self.found.append((tag, dict(attrs)))

    for html in pages:
        parser = Tags()
        parser.feed(html)
        tags = [tag for tag, _ in parser.found]
        assert not {"img", "iframe", "b", "u"} & set(tags)
        assert tags.count("script") <= 1  # the page's own, if any
        assert not any(name.startswith("on") for _, attrs in parser.found for name in attrs)
        assert "&lt;img" in html or "\\u003cimg" in html
