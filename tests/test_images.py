"""The learner images: planning and caching (fast), and real builds run with Podman (slow).

The slow tests build images/base and images/ml unchanged with `autoformation images build`
(Podman set up in data/containers, cached between runs), then run the ml course's notebooks
inside the ml image with papermill, as the learner user, without network.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autoformation import images
from autoformation.settings import load

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
STATE_DIR = ROOT / "data" / "containers"  # same as `autoformation images build --local-podman`
VERSION = load().courses.version
COURSE = "ml"


# --- planning (no engine) ------------------------------------------------------------------------


def test_plan_builds_base_first_and_names_missing_release(tmp_path):
    release = tmp_path / "release"
    (release / "ml").mkdir(parents=True)
    builds = images.plan(["ml"], release, ROOT / "courses")
    assert [b.name for b in builds] == ["base", "ml"]
    assert ("data/release/ml", release / "ml") in builds[1].files
    with pytest.raises(images.ImageError, match=r"image 'nlp'.*course 'nlp'.*courses release"):
        images.plan(["nlp"], release, ROOT / "courses")
    with pytest.raises(images.ImageError, match=r"no image 'nope'"):
        images.plan(["nope"], release, ROOT / "courses")
    assert images.image_names()[0] == "base"
    assert set(images.image_names()) >= {"base", "ml", "nlp", "git", "webscraping"}


def test_a_course_image_carries_its_released_challenges_without_their_labels(tmp_path):
    from autoformation.challenges import load_challenges, release_challenge

    release = tmp_path / "release"
    (release / "ml").mkdir(parents=True)
    for challenge in load_challenges(ROOT / "challenges"):
        release_challenge(challenge, release / "defis", tmp_path / "hidden")
    builds = images.plan(["ml"], release, ROOT / "courses", challenges_dir=ROOT / "challenges")
    staged = dict(builds[1].files)
    assert {"data/release/defis/prix-immobilier", "data/release/defis/codage-naf"} <= set(staged)
    context = tmp_path / "context"
    images._stage(builds[1], context)
    shipped = {p.name for p in (context / "data" / "release" / "defis").rglob("*")}
    assert {"train.csv", "test.csv", "debutant.ipynb"} <= shipped and "labels.csv" not in shipped


def test_inputs_digest_follows_the_copied_files(tmp_path):
    release = tmp_path / "release" / "ml"
    release.mkdir(parents=True)
    (release / "a.ipynb").write_text("{}")
    build = images.plan(["ml"], tmp_path / "release", ROOT / "courses")[1]
    before = build.digest()
    assert images.plan(["ml"], tmp_path / "release", ROOT / "courses")[1].digest() == before
    (release / "a.ipynb").write_text('{"changed": 1}')
    assert build.digest() != before
    build.base_digest = "other base"
    assert build.digest() != images.plan(["ml"], tmp_path / "release", ROOT / "courses")[1].digest()


# --- real builds ---------------------------------------------------------------------------------


def _podman_or_skip() -> images.Engine:
    if not shutil.which("podman") and shutil.which("apt-get"):
        subprocess.run(
            "apt-get install -y -qq podman runc debootstrap uidmap slirp4netns fuse-overlayfs",
            shell=True, capture_output=True,
        )  # fmt: skip
    if not (shutil.which("podman") and shutil.which("debootstrap")):
        pytest.skip("podman/debootstrap are not installed and cannot be installed with apt-get here")
    try:
        return images.find_engine(STATE_DIR, prefer_local_podman=True)
    except images.ImageError as err:
        pytest.skip(f"podman cannot run containers here: {err}")


@pytest.fixture(scope="module")
def engine():
    return _podman_or_skip()


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """The ml course's material. Until `autoformation courses release` exists, its source notebooks
    (solutions included: they must run to the end in the image)."""
    root = tmp_path_factory.mktemp("release")
    shutil.copytree(ROOT / "courses" / COURSE / "source", root / COURSE)
    return root


@pytest.fixture(scope="module")
def built(engine, release):
    """`autoformation images build ml`, the way a trainer runs it; records how long it took."""
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "autoformation.cli", "images", "build", COURSE,
         "--local-podman", "--host-ca", "--no-registry-tag", "--release-dir", str(release)],
        capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    elapsed = time.monotonic() - start
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "images-build-times.jsonl"
    summary = result.stdout.strip().splitlines()[-1]  # "done: N built, M up to date"
    with log.open("a") as f:
        f.write(
            json.dumps(
                {
                    "images": ["base", COURSE],
                    "seconds": round(elapsed, 1),
                    "summary": summary,
                    "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                }
            )
            + "\n"
        )
    return images.tag(COURSE, VERSION)


def _run(engine: images.Engine, image: str, *command: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return engine.run("run", "--rm", "--network=none", image, *command, check=False, timeout=timeout)


@pytest.mark.slow
def test_course_image_runs_as_learner_with_material_tool(engine, built):
    probe = "id -u; id -g; echo $HOME; command -v jupyterhub-singleuser; command -v git"
    result = _run(engine, built, "sh", "-c", probe)
    assert result.returncode == 0, result.stderr
    uid, gid, home, *tools = result.stdout.split()
    assert (uid, gid, home) == ("1000", "100", "/home/jovyan")
    assert tools == ["/opt/venv/bin/jupyterhub-singleuser", "/usr/bin/git"]
    # The material tool brings the baked-in release into a home, as the spawners do at start.
    result = _run(engine, built, "sh", "-c",
                  "python -m autoformation.material /opt/autoformation/release /tmp/home"
                  " && find /tmp/home -name '*.ipynb' | sort")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "/tmp/home/ml/01-premiers-modeles/01-premiers-modeles.ipynb" in result.stdout
    inspect = engine.run("image", "inspect", "--format", "{{json .Config.Cmd}} {{json .Config.Entrypoint}}", built)
    assert '["jupyterhub-singleuser"]' in inspect.stdout and "tini" in inspect.stdout


@pytest.mark.slow
def test_the_learner_package_stands_alone_in_the_image(engine, built):
    """The image holds the project's wheel without its `hub` extra (installed with --no-index: its
    dependencies were already there), and it self-checks and submits with nothing else."""
    script = r"""
set -e
pip show autoformation | grep '^Requires:'
python -c 'import kubespawner' 2>/dev/null && echo HUB-SIDE-PRESENT || echo HUB-SIDE-ABSENT
ipython --ext autoformation.selfcheck -c 'assert 1 + 1 == 3, "Indice : relisez la consigne."' 2>&1 || true
mkdir -p ~/ml/01-premiers-modeles
cp /opt/autoformation/release/ml/01-premiers-modeles/01-premiers-modeles.ipynb ~/ml/01-premiers-modeles/
AUTOFORMATION_GRADING_URL=http://127.0.0.1:9/services/grading/ JUPYTERHUB_API_TOKEN=x \
  autoformation submit ~/ml/01-premiers-modeles/01-premiers-modeles.ipynb 2>&1 || echo "EXIT $?"
"""
    result = _run(engine, built, "bash", "-c", script)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    requires = next(line for line in out.splitlines() if line.startswith("Requires:"))
    assert set(requires.removeprefix("Requires:").replace(" ", "").split(",")) == {"ipython", "jupyter-server"}
    assert "HUB-SIDE-ABSENT" in out  # the hub's spawners did not come with it
    assert "Pas encore" in out and "Indice : relisez la consigne." in out
    assert "autoformation submit:" in out and "EXIT " in out and "Traceback" not in out


@pytest.mark.slow
def test_course_notebooks_run_in_the_image(engine, built):
    """Every notebook of the course runs to the end with papermill inside the image, offline."""
    script = (
        "set -e; cp -r /opt/autoformation/release/ml /tmp/ml; "
        "for nb in /tmp/ml/*/*.ipynb; do cd $(dirname $nb); "
        "papermill --no-progress-bar --execution-timeout 300 $nb /tmp/out-$(basename $nb) >/dev/null 2>&1 "
        "|| { echo FAILED $nb; papermill --no-progress-bar $nb /tmp/o.ipynb 2>&1 | tail -20; exit 1; }; "
        "echo OK $nb; done"
    )
    start = time.monotonic()
    result = _run(engine, built, "bash", "-c", script, timeout=1200)
    assert result.returncode == 0, result.stdout + result.stderr
    ran = [line for line in result.stdout.splitlines() if line.startswith("OK ")]
    assert len(ran) == len(list((ROOT / "courses" / COURSE / "source").glob("*/*.ipynb"))) >= 2
    print(f"ml notebooks ran in the image in {time.monotonic() - start:.0f} s")


@pytest.mark.slow
def test_failed_build_names_image_and_step(engine, built, tmp_path):
    images_dir = tmp_path / "images"
    shutil.copytree(ROOT / "images" / "base", images_dir / "base")
    (images_dir / "broken").mkdir()
    (images_dir / "broken" / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo preparing\nRUN echo 'no such package' >&2 && exit 3\n"
    )
    (tmp_path / "courses").mkdir()
    builds = images.plan(["broken"], tmp_path / "release", tmp_path / "courses", images_dir=images_dir)
    with pytest.raises(images.ImageError) as err:
        # With the harness options, in case base is rebuilt here (its inputs changed since `built`).
        harness = images.Engine(engine.command, engine.env, images.harness_options())
        images.build_images(harness, builds, VERSION, log=print)
    message = str(err.value)
    assert "image 'broken'" in message
    assert "RUN echo 'no such package'" in message  # the failing step
    assert "no such package" in message.split("last lines")[1]
