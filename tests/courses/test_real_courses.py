"""Every real course under courses/ passes `autoformation courses check`."""

from __future__ import annotations

import json

import pytest

from autoformation.courses import command
from autoformation.settings import PROJECT_ROOT


@pytest.mark.slow
def test_real_courses_pass_check(tmp_path, capsys):
    if not list((PROJECT_ROOT / "courses").glob("*/course.yaml")):
        pytest.skip("no course under courses/ yet")
    settings = tmp_path / "settings.yaml"
    settings.write_text(json.dumps({"platform": {"data_dir": str(tmp_path / "data")}}))
    status = command.main(["--config", str(settings), "check", "--no-cache"])
    out = capsys.readouterr()
    assert status == 0, out.out + out.err
