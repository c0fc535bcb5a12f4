"""Local backend: learners' servers load no nbgrader trainer tool; trainers' keep them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from autoformation.spawners.local import JUPYTER_CONFIG, JUPYTER_LEARNER_CONFIG, LocalLearnerSpawner

PROBE = """
import json
from jupyter_server.serverapp import ServerApp
from jupyterlab.labapp import LabApp
from jupyterlab_server.config import get_page_config
app = ServerApp()
app.initialize(["--ServerApp.open_browser=False", "--port=0", "--IdentityProvider.token=x", "--allow-root"])
enabled = sorted(k for k, v in app.extension_manager.extensions.items() if v.enabled)
page = get_page_config(LabApp().labextensions_path, logger=app.log)
disabled = page.get("disabledExtensions", [])  # a list once merged (a dict in each file)
disabled = [k for k, v in disabled.items() if v] if isinstance(disabled, dict) else disabled
print(json.dumps({"server": enabled, "disabled": sorted(disabled)}))
"""


def spawner_env(groups: list[str]) -> dict:
    spawner = LocalLearnerSpawner(staff_groups=["trainers", "admins"])
    spawner.user = SimpleNamespace(name="alice", groups=[SimpleNamespace(name=g) for g in groups],
                                   url="/user/alice/")
    return spawner.user_env({"PATH": os.environ["PATH"], "HOME": "/tmp"})


def loaded(env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], env={**os.environ, **env}, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("groups, learner", [(["learners"], True), (["trainers"], False), (["admins"], False)])
def test_config_path_by_group(groups, learner):
    path = spawner_env(groups)["JUPYTER_CONFIG_PATH"].split(os.pathsep)
    assert (str(JUPYTER_LEARNER_CONFIG) in path) is learner and str(JUPYTER_CONFIG) in path


def test_learner_server_loads_no_nbgrader_tool_but_soumettre():
    got = loaded({"JUPYTER_CONFIG_PATH": spawner_env(["learners"])["JUPYTER_CONFIG_PATH"]})
    assert "autoformation.jupyterlab" in got["server"]
    assert not [e for e in got["server"] if e.startswith("nbgrader")]
    assert "@jupyter/nbgrader" in got["disabled"]


def test_trainer_server_keeps_nbgrader():
    got = loaded({"JUPYTER_CONFIG_PATH": spawner_env(["trainers"])["JUPYTER_CONFIG_PATH"]})
    assert "nbgrader.server_extensions.formgrader" in got["server"] and "autoformation.jupyterlab" in got["server"]
    assert "@jupyter/nbgrader" not in got["disabled"]
