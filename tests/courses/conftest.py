"""A writable copy of the fixture course and a settings file pointing at it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
NOTEBOOK = "mini/source/01-bases/01-bases.ipynb"


class Project:
    def __init__(self, root: Path):
        self.courses = root / "courses"
        self.data = root / "data"
        shutil.copytree(FIXTURES / "mini", self.courses / "mini")
        self.settings = root / "settings.yaml"
        self.settings.write_text(json.dumps({"platform": {"data_dir": str(self.data)},
                                             "courses": {"source_dir": str(self.courses)}}))
        self.notebook = self.courses / NOTEBOOK

    def cells(self) -> list[dict]:
        return json.loads(self.notebook.read_text())["cells"]

    def edit(self, index: int, source: str | None = None, **nbgrader) -> None:
        """Change one cell of the fixture notebook (its source and/or nbgrader metadata)."""
        notebook = json.loads(self.notebook.read_text())
        cell = notebook["cells"][index]
        if source is not None:
            cell["source"] = source
        cell["metadata"].setdefault("nbgrader", {}).update(nbgrader)
        for key, value in nbgrader.items():
            if value is None:
                del cell["metadata"]["nbgrader"][key]
        self.notebook.write_text(json.dumps(notebook, indent=1))


    def set_platform(self, index: int, **values) -> None:
        """Change one cell's platform metadata (`metadata.autoformation`: wrong answers, level)."""
        notebook = json.loads(self.notebook.read_text())
        notebook["cells"][index]["metadata"].setdefault("autoformation", {}).update(values)
        self.notebook.write_text(json.dumps(notebook, indent=1))


@pytest.fixture
def project(tmp_path) -> Project:
    return Project(tmp_path)
