"""nbgrader configuration, in one place: the course tool and the grading service both use it."""

from __future__ import annotations

from pathlib import Path

from traitlets.config import Config

CODE_STUB = "# VOTRE CODE ICI\nraise NotImplementedError()"
TEXT_STUB = "VOTRE RÉPONSE ICI"
CELL_TIMEOUT = 30  # seconds per cell


def nbgrader_config(course_root: Path, cell_timeout: int = CELL_TIMEOUT) -> Config:
    """A traitlets Config for an nbgrader course directory rooted at `course_root`."""
    config = Config()
    config.CourseDirectory.root = str(course_root)
    config.CourseDirectory.db_url = f"sqlite:///{Path(course_root) / 'gradebook.db'}"
    config.ClearSolutions.code_stub = {"python": CODE_STUB}
    config.ClearSolutions.text_stub = TEXT_STUB
    config.OverwriteCells.add_missing_cells = True
    config.Execute.timeout = cell_timeout
    return config


def tools_on_path() -> None:
    """nbgrader's gradebook runs `alembic` as a command: make this environment's scripts findable."""
    import os
    import sys

    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
