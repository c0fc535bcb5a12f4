"""The hub's configuration (`hub.py`): services and roles appended, scopes, the catalogue without a database."""

from __future__ import annotations

import asyncio

from traitlets.config import Config

from autoformation import hub
from autoformation.catalogue import load_catalogue
from autoformation.grading.client import GradingClient
from autoformation.names import GRADING_SERVICE, HUB_CLIENT, HUB_SCOPE, TRAINER_SCOPE
from autoformation.settings import Settings

from .conftest import ROOT, free_port

COURSES = ROOT / "tests" / "fixtures" / "courses"


def configured(tmp_path, c: Config | None = None) -> Config:
    settings = Settings()
    settings.platform.data_dir = str(tmp_path)
    settings.courses.source_dir = str(COURSES)
    c = c or Config()
    hub.configure(c, settings, standalone=False)
    return c


def test_services_and_roles_are_appended_to_what_is_configured(tmp_path):
    c = Config()
    c.JupyterHub.services = [{"name": "culler", "command": ["cull"]}, {"name": GRADING_SERVICE, "url": "old"}]
    c.JupyterHub.load_roles = [{"name": "culler", "services": ["culler"]}]
    configured(tmp_path, c)
    services = [s["name"] for s in c.JupyterHub.services]
    assert services[0] == "culler" and services.count(GRADING_SERVICE) == 1  # kept; ours replaces the same name
    assert next(s for s in c.JupyterHub.services if s["name"] == GRADING_SERVICE)["url"] != "old"
    assert "culler" in {r["name"] for r in c.JupyterHub.load_roles}


def test_only_trainers_and_admins_hold_the_trainers_scope_and_only_the_hub_its_own(tmp_path):
    c = configured(tmp_path)
    assert set(c.JupyterHub.custom_scopes) == {TRAINER_SCOPE, HUB_SCOPE}
    holders = {r["name"]: r for r in c.JupyterHub.load_roles if {TRAINER_SCOPE, HUB_SCOPE} & set(r["scopes"])}
    assert set(holders) == {"trainer", HUB_CLIENT}
    assert holders["trainer"]["groups"] == ["trainers", "admins"] and "users" not in holders["trainer"]
    assert holders[HUB_CLIENT]["services"] == [HUB_CLIENT]
    assert set(holders[HUB_CLIENT]["scopes"]) == {HUB_SCOPE, f"access:services!service={GRADING_SERVICE}"}
    grading = next(s for s in c.JupyterHub.services if s["name"] == GRADING_SERVICE)
    assert grading["oauth_client_allowed_scopes"] == [TRAINER_SCOPE]
    # The hub's token is made at each configuration, never a fixed value.
    token = next(s for s in c.JupyterHub.services if s["name"] == HUB_CLIENT)["api_token"]
    assert len(token) >= 32 and token != next(
        s for s in configured(tmp_path).JupyterHub.services if s["name"] == HUB_CLIENT)["api_token"]


def test_catalogue_still_opens_every_course_when_the_grading_service_does_not_answer():
    class User:
        name = "alice"

    courses = load_catalogue(COURSES)
    down = GradingClient(f"http://127.0.0.1:{free_port()}/services/grading/", "token", timeout=2)
    cards = asyncio.run(hub._catalogue(down, courses, [], User())())
    assert [card.course.id for card in cards] == [course.id for course in courses]
    assert {card.status for card in cards} == {"unknown"}
    assert all("indisponible" in card.label for card in cards)
    assert asyncio.run(hub._catalogue(down, courses, [], None)()) == []
