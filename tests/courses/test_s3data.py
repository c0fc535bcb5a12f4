"""Course data declared on S3 (`s3_data` in course.yaml), against a real S3 server on loopback (moto's).

The fixture course's data file is taken out of its source folder and put in a bucket's public
`diffusion/` folder instead; `courses check` and `courses release` fetch it (once), the notebook reads it,
and the release carries it. A wrong checksum or a missing object is refused with its name.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

from autoformation.courses import command
from tests.conftest import free_port

OBJECT = "diffusion/formation/valeurs.csv"


@pytest.fixture(scope="module")
def s3():
    """moto's standalone S3 server on 127.0.0.1, with a bucket `donnees`; stopped at the end."""
    import boto3

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    client = boto3.client("s3", endpoint_url=url, aws_access_key_id="test", aws_secret_access_key="test",
                          region_name="us-east-1")
    client.create_bucket(Bucket="donnees")
    yield url, client
    server.terminate()
    server.wait(10)


def on_s3(project, s3, sha256: str | None = None, key: str = OBJECT) -> bytes:
    """Move the course's data file to the bucket and declare it in course.yaml."""
    url, client = s3
    local = project.courses / "mini" / "source" / "01-bases" / "data" / "valeurs.csv"
    content = local.read_bytes() if local.exists() else client.get_object(Bucket="donnees", Key=OBJECT)["Body"].read()
    client.put_object(Bucket="donnees", Key=OBJECT, Body=content, ACL="public-read")  # a public diffusion/ file
    local.unlink(missing_ok=True)
    course_yaml = project.courses / "mini" / "course.yaml"
    data = yaml.safe_load(course_yaml.read_text())
    data["s3_data"] = [{"object": f"s3://donnees/{key}", "to": "01-bases/data/valeurs.csv",
                        "sha256": sha256 or hashlib.sha256(content).hexdigest()}]
    course_yaml.write_text(yaml.safe_dump(data, allow_unicode=True))
    return content


def test_data_on_s3_is_fetched_checked_and_released(project, s3, monkeypatch, capsys):
    content = on_s3(project, s3)
    monkeypatch.setenv("AWS_S3_ENDPOINT", s3[0])
    assert command.main(["--config", str(project.settings), "check", "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert f"mini: fetching s3://donnees/{OBJECT}" in out and "1 passed, 0 failed" in out
    assert command.main(["--config", str(project.settings), "release"]) == 0
    assert "fetching" not in capsys.readouterr().out  # already there, with the declared checksum
    assert (project.data / "release" / "mini" / "01-bases" / "data" / "valeurs.csv").read_bytes() == content


def test_a_wrong_checksum_or_a_missing_object_is_refused_by_name(project, s3, monkeypatch, capsys):
    monkeypatch.setenv("AWS_S3_ENDPOINT", s3[0])
    on_s3(project, s3, sha256="0" * 64)
    assert command.main(["--config", str(project.settings), "release"]) == 1
    assert f"s3://donnees/{OBJECT} does not have the sha256 course.yaml declares" in capsys.readouterr().err
    assert not (project.courses / "mini" / "source" / "01-bases" / "data" / "valeurs.csv").exists()
    on_s3(project, s3, key="diffusion/absent.csv")
    assert command.main(["--config", str(project.settings), "check"]) == 1
    assert "cannot fetch s3://donnees/diffusion/absent.csv" in capsys.readouterr().err
