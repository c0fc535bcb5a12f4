"""Settings: one file, checked at start-up, with messages that name the wrong setting."""

from __future__ import annotations

import subprocess
import sys

import pytest

from autoformation.settings import Settings, SettingsError, load


def write(tmp_path, text):
    path = tmp_path / "settings.yaml"
    path.write_text(text)
    return path


def test_defaults_load_from_the_shipped_file():
    settings = load()
    assert settings.platform.port == 8000
    assert settings.identity.provider == "embedded"
    assert settings.spawner.backend == "local"
    assert settings.identity.issuer(settings.platform) == "http://127.0.0.1:8180/realms/autoformation"


@pytest.mark.parametrize(
    "text, message",
    [
        ("platform:\n  prot: 8000\n", "unknown setting 'platform.prot'"),
        ("spawner:\n  backend: swarm\n", "setting 'spawner.backend' must be one of local, kubernetes, docker"),
        ("platform:\n  port: huit-mille\n", "setting 'platform.port' must be a whole number, got 'huit-mille'"),
        ("platform:\n  port: 70000\n", "setting 'platform.port' must be a port number"),
        ("platform:\n  hub_port: 8000\n", "settings 'platform.port' and 'platform.hub_port' use the same port"),
        ("identity:\n  provider: keycloak\n", "setting 'identity.url' is required"),
        ("identity:\n  realm_file: nowhere.json\n", "setting 'identity.realm_file': no such file"),
        ("groups:\n  trainers: learners\n", "three different, non-empty group names"),
        ("culler: yes\n", "setting 'culler' must be a mapping"),
        ("spawner:\n  concurrent_starts: -1\n", "setting 'spawner.concurrent_starts' must be 0 or more, got -1"),
        ("spawner:\n  niceness: 25\n", "setting 'spawner.niceness' must be between 0 and 19"),
        ("platform: [1, 2\n", "is not valid YAML"),
        ("trainers:\n  cohorts:\n    claire: promo-a\n", "setting 'trainers.cohorts.claire' must be a list"),
        ("grading:\n  workers: 2.5\n", "setting 'grading.workers' must be a whole number, got 2.5"),
        ("culler:\n  enabled: oui\n", "setting 'culler.enabled' must be true or false, got 'oui'"),
    ],
)
def test_wrong_settings_are_named(tmp_path, text, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(write(tmp_path, text))


def test_keycloak_needs_its_secret_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("AUTOFORMATION_OIDC_CLIENT_SECRET", raising=False)
    settings = load(write(tmp_path, "identity:\n  provider: keycloak\n  url: https://auth.example.org\n"))
    assert settings.identity.issuer(settings.platform) == "https://auth.example.org/realms/autoformation"
    with pytest.raises(SettingsError, match="AUTOFORMATION_OIDC_CLIENT_SECRET"):
        settings.client_secret()
    monkeypatch.setenv("AUTOFORMATION_OIDC_CLIENT_SECRET", "from-the-vault")
    assert settings.client_secret() == "from-the-vault"


def test_embedded_secret_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("AUTOFORMATION_OIDC_CLIENT_SECRET", raising=False)
    settings = load(write(tmp_path, f"platform:\n  data_dir: {tmp_path / 'data'}\n"))
    first = settings.client_secret()
    assert len(first) == 64 and settings.client_secret() == first


def test_up_refuses_a_wrong_setting_with_its_name(tmp_path):
    path = write(tmp_path, "spawner:\n  backend: swarm\n")
    result = subprocess.run(
        [sys.executable, "-m", "autoformation.cli", "up", "--config", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "spawner.backend" in result.stderr


def test_the_schema_file_for_editors_is_the_one_the_platform_checks_with():
    import json

    from autoformation.settings import PROJECT_ROOT, schema

    written = json.loads((PROJECT_ROOT / "hub_config" / "settings.schema.json").read_text())
    assert written == schema(), "regenerate it: python -m autoformation.settings > hub_config/settings.schema.json"
    assert written["properties"]["spawner"]["properties"]["backend"]["enum"] == ["local", "kubernetes", "docker"]


def test_grading_sandbox_auto_follows_the_learners_backend():
    settings = Settings()
    assert settings.grading.sandbox == "auto" and settings.grading_sandbox == "local"
    for backend, sandbox in (("docker", "container"), ("kubernetes", "kubernetes"), ("local", "local")):
        settings.spawner.backend = backend
        assert settings.grading_sandbox == sandbox
    settings.grading.sandbox = "local"  # chosen: kept whatever the backend
    settings.spawner.backend = "docker"
    assert settings.grading_sandbox == "local"
