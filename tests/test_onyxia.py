"""The SSP Cloud path end to end, without the SSP Cloud: the Onyxia init script run in a learner image.

The platform runs (`autoformation up`), its book service serves the downloads the book build publishes
(init script, released chapters, the learner package's wheel). A container of the ml image stands for
SSP Cloud's jupyter-python service: its /etc/ipython is masked (SSP Cloud's images know nothing of the
self-check), the init script runs as Onyxia runs it (as root, with the Onyxia link's arguments), then the
learner works: the notebook is in place and opens first, the self-check gives its hint, and
`autoformation submit` with a token from the hub's token page gets the notebook graded by the platform.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from autoformation.book import downloads
from autoformation.settings import load
from autoformation.sspcloud import export

from .conftest import ROOT, api_token, notebook_points, start_platform
from .test_images import built, engine, release  # noqa: F401 (fixtures: the ml image, built once)

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SELF_CHECK = """
import json
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name="python3")
errors = []
kc.execute_interactive("assert 1 == 2, 'Relisez la consigne.'", timeout=60,
                       output_hook=lambda m: errors.append(m["content"]) if m["msg_type"] == "error" else None)
kc.stop_channels(); km.shutdown_kernel(now=True)
print(json.dumps(errors))
"""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_init_script_brings_a_chapter_and_the_learner_submits_from_outside(engine, built, browser,  # noqa: F811
                                                                               tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><h1>Livre</h1>")
    platform = start_platform(tmp_path, release=True, book={"site_dir": str(site)})
    name = f"onyxia-{tmp_path.name[-10:].lower().replace('_', '-')}"
    try:
        settings = load(str(platform.settings_file))
        downloads.publish(settings, site, report=lambda *_: None)
        ml = next(r for r in export(settings)
                  if r["parts"][0]["deploymentUrl"].get("autoformation", "").endswith("/courses/ml"))
        part = ml["parts"][0]
        # The export's deep link leads to signing in on this platform.
        try:
            urllib.request.build_opener(NoRedirect).open(part["deploymentUrl"]["autoformation"], timeout=30)
            raise AssertionError("the deep link did not redirect")
        except urllib.error.HTTPError as err:
            assert err.code == 302 and "/hub/" in err.headers["Location"]
        # The Onyxia link's arguments, as Onyxia passes them to the init script.
        query = parse_qs(urlsplit(part["deploymentUrl"]["jupyter-python"]).query)
        args = query["init.personalInitArgs"][0].strip("«»").split()
        assert args == [platform.url, "ml", "01-premiers-modeles"]
        token = api_token(browser, platform, "alice")

        masked = tmp_path / "no-ipython-config"
        masked.mkdir()
        engine.run("run", "--detach", "--name", name, "--network=host", "--user", "0",
                   "--volume", f"{ROOT / 'images' / 'onyxia' / 'init.sh'}:/init.sh:ro",
                   "--volume", f"{masked}:/etc/ipython:ro", "--env", "HOME=/home/jovyan",
                   "--env", "ROOT_PROJECT_DIRECTORY=/home/jovyan/projets", "--entrypoint", "sleep", built, "600")
        engine.run("exec", name, "mkdir", "-p", "/home/jovyan/projets")
        engine.run("exec", name, "chown", "1000:100", "/home/jovyan/projets")
        init = engine.run("exec", name, "bash", "/init.sh", *args, check=False)
        assert init.returncode == 0, init.stdout + init.stderr
        assert "autoformation: prêt (/home/jovyan/projets/ml/01-premiers-modeles/" in init.stdout

        def as_learner(*command, env=()):
            return engine.run("exec", "--user", "1000:100", "--env", "HOME=/home/jovyan",
                              *[f"--env={e}" for e in env], name, *command, check=False)

        listing = as_learner("ls", "-l", "/home/jovyan/projets/ml/01-premiers-modeles").stdout
        assert "01-premiers-modeles.ipynb" in listing and " jovyan " in listing, listing
        config = as_learner("cat", "/home/jovyan/.jupyter/jupyter_server_config.py").stdout
        assert "c.LabApp.default_url = '/lab/tree/ml/01-premiers-modeles/01-premiers-modeles.ipynb'" in config
        checked = as_learner("python", "-c", SELF_CHECK)
        (error,) = json.loads(checked.stdout.strip().splitlines()[-1])
        assert "Pas encore" in "".join(error["traceback"]) and "Relisez la consigne." in "".join(error["traceback"])
        # Submitting from there: the learner's token, the platform's address from the init script.
        notebook = "/home/jovyan/projets/ml/01-premiers-modeles/01-premiers-modeles.ipynb"
        refused = as_learner("python", "-m", "autoformation.cli", "submit", notebook)
        assert refused.returncode == 1 and "AUTOFORMATION_TOKEN" in refused.stderr, refused.stderr
        graded = as_learner("python", "-m", "autoformation.cli", "submit", notebook,
                            env=[f"AUTOFORMATION_TOKEN={token}"])
        assert graded.returncode == 0, graded.stdout + graded.stderr
        assert "Votre notebook a été corrigé." in graded.stdout, graded.stdout
        auto, manual = notebook_points(ROOT / "courses" / "ml" / "source" / "01-premiers-modeles" /
                                       "01-premiers-modeles.ipynb")
        assert f"Score : 0 / {auto + manual:g}" in graded.stdout  # the learner version, untouched: nothing solved
    finally:
        engine.run("rm", "--force", name, check=False)
        platform.stop()
