"""The grading runner in a container of the course's own image (the docker backend), with Podman."""

from __future__ import annotations

import pytest

from autoformation.grading import executor
from tests.grading.sandbox_checks import (
    LIMITS,
    ROOT,
    SOURCE,
    learner_code_reaches_nothing,
    solution_full_marks_and_wrong_answer_zero,
)
from tests.test_images import built, engine, release  # noqa: F401 (fixtures: the ml image, built once)

pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def sandbox(engine, built):  # noqa: F811
    return executor.ContainerSandbox(engine.command, built, engine.environ())


def test_container_command_has_no_network_socket_or_privilege(sandbox):
    staged = {"runner": "/x/autoformation-sandbox-abc/runner", "exercise": "/x/autoformation-sandbox-abc/exercise"}
    cmd = sandbox.command(staged, LIMITS)
    for option in ("--network=none", "--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges", "--rm"):
        assert option in cmd
    assert cmd[cmd.index("--user") + 1] == "1000:100"
    assert not any("docker.sock" in part or "podman.sock" in part for part in cmd)
    assert [part for part in cmd if part.endswith(":ro")] == [
        f"{staged['runner']}:{executor.RUNNER}:ro", f"{staged['exercise']}:{executor.EXERCISE}:ro"]


def test_solution_full_marks_and_a_wrong_answer_zero_in_the_course_image(sandbox):
    solution_full_marks_and_wrong_answer_zero(sandbox)


def test_learner_code_in_the_container_reaches_nothing(sandbox):
    learner_code_reaches_nothing(sandbox, executor.EXERCISE)


def test_grading_service_grades_in_the_course_image_when_set_to(engine, built, tmp_path, monkeypatch):  # noqa: F811
    import shlex

    from autoformation.catalogue import load_course
    from autoformation.grading.autograde import grade_submission
    from autoformation.grading.gradebook import gradebook_url, prepare_gradebook
    from autoformation.grading.sandboxes import sandbox_for
    from autoformation.settings import Settings
    from tests.test_images import VERSION

    settings = Settings()
    settings.platform.data_dir = str(tmp_path)
    settings.courses.version = VERSION
    settings.grading.sandbox, settings.grading.engine = "container", shlex.join(engine.command)
    for name, value in engine.environ().items():
        monkeypatch.setenv(name, value)
    course = load_course(ROOT / "courses" / "ml")
    sandbox = sandbox_for(settings, course.image)
    assert isinstance(sandbox, executor.ContainerSandbox) and sandbox.image == built
    url = gradebook_url(settings, course.id)
    prepare_gradebook(course, url)
    result = grade_submission(course, "01-premiers-modeles", SOURCE.name, "alice", SOURCE.read_bytes(), url, LIMITS,
                              sandbox)
    assert (result.status, result.score) == ("graded", result.max_score - 2), result.message  # free text: trainer
    assert "Premières vérifications réussies" in result.feedback_html
