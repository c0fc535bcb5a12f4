"""What the platform knows about nbgrader notebooks, in one place.

nbgrader's cell metadata, its solution and hidden-test markers, which cells are exercises (and which
of them a trainer grades), the notebook size cap and how a folder of course files is hashed used to
be re-derived module by module, with small differences (two definitions of a manual exercise, five
folder hashers with different ignore rules). They live here; the other modules ask.

Import-light, standard library only: the learner side (learner.py) uses it, and nbgrader itself takes
about a second to import. nbgrader's own predicates (`is_grade`, `is_solution`, `is_locked`,
`is_task`) are re-exported from `nbgrader.utils` on first use; they need notebook nodes (attribute
access, `cell.metadata`). The helpers defined here also take plain dict cells (`json.load`ed).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbgrader.utils import is_grade, is_locked, is_solution, is_task

__all__ = [
    "BEGIN_HIDDEN_TESTS", "BEGIN_SOLUTION", "END_HIDDEN_TESTS", "END_SOLUTION", "MARKERS", "MAX_NOTEBOOK_BYTES",
    "IGNORED_FOLDERS", "Exercise", "exercises", "grade_id", "hash_tree", "hidden_blocks", "hidden_hints",
    "is_autograder_test", "is_grade", "is_locked", "is_solution", "is_task", "nbgrader_meta", "notebook_exercises",
    "platform_meta",
]

# --- nbgrader's markers ---------------------------------------------------------------------------

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN_TESTS = "### BEGIN HIDDEN TESTS"
END_HIDDEN_TESTS = "### END HIDDEN TESTS"
MARKERS = ((BEGIN_SOLUTION, END_SOLUTION), (BEGIN_HIDDEN_TESTS, END_HIDDEN_TESTS))

# The one cap on a notebook's size: the grading service refuses more, the learner side does not send more.
MAX_NOTEBOOK_BYTES = 5 * 1024 * 1024

def hidden_blocks(text: str) -> list[str]:
    return re.findall(f"{re.escape(BEGIN_HIDDEN_TESTS)}(.*?){re.escape(END_HIDDEN_TESTS)}", text, re.S)


def hidden_hints(text: str) -> set[str]:
    """The messages of the hidden asserts: plain strings the trainer wrote as hints (shown in feedback)."""
    hints = set()
    for block in hidden_blocks(text):
        try:
            tree = ast.parse(textwrap.dedent(block))
        except SyntaxError:
            continue
        hints.update(node.msg.value for node in ast.walk(tree) if isinstance(node, ast.Assert)
                     and isinstance(node.msg, ast.Constant) and isinstance(node.msg.value, str))
    return hints


# --- cell metadata --------------------------------------------------------------------------------

_NBGRADER_PREDICATES = ("is_grade", "is_solution", "is_locked", "is_task")


def __getattr__(name: str):
    """nbgrader's predicates, imported when first asked for (importing nbgrader is slow)."""
    if name in _NBGRADER_PREDICATES:
        from nbgrader import utils

        value = getattr(utils, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def nbgrader_meta(cell: Mapping[str, Any]) -> dict:
    """The cell's nbgrader metadata ({} when it has none); a notebook node or a plain dict cell."""
    return (cell.get("metadata") or {}).get("nbgrader") or {}


def platform_meta(cell: Mapping[str, Any]) -> dict:
    """The platform's own cell metadata (`metadata.autoformation`): wrong answers, level."""
    meta = (cell.get("metadata") or {}).get("autoformation")
    return meta if isinstance(meta, dict) else {}


def grade_id(cell: Mapping[str, Any]) -> str | None:
    return nbgrader_meta(cell).get("grade_id") or None


def is_autograder_test(cell: Mapping[str, Any]) -> bool:
    """A test cell the autograder runs: a code cell marked grade, not solution (nbgrader's "Autograder tests")."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


# --- exercises ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exercise:
    grade_id: str
    points: float
    manual: bool  # graded by a trainer, not by the autograder
    level: str = "débutant"  # metadata.autoformation.level of the graded cell: débutant, intermédiaire, expert


def exercises(nb: Mapping[str, Any]) -> tuple[Exercise, ...]:
    """The notebook's graded cells, in order (a notebook node or a plain dict notebook).

    Every cell with points is an exercise: nbgrader's grade cells and task cells. It is graded by the
    autograder when it is an autograder test (a code cell, grade, not solution), by a trainer otherwise:
    a "manually graded answer" (grade and solution, code or markdown) or a "manually graded task".
    """
    found = []
    for cell in nb.get("cells") or []:
        meta = nbgrader_meta(cell)
        if meta.get("grade") or meta.get("task"):
            about = platform_meta(cell)
            found.append(Exercise(str(meta.get("grade_id") or ""), float(meta.get("points") or 0),
                                  not is_autograder_test(cell), str(about.get("level") or "débutant")))
    return tuple(found)


@functools.lru_cache(maxsize=256)
def _notebook_exercises(path: str, mtime_ns: int, size: int) -> tuple[Exercise, ...]:
    import nbformat

    return exercises(nbformat.read(path, as_version=4))


def notebook_exercises(path: Path) -> tuple[Exercise, ...]:
    """exercises() of the notebook file, read again only when it changes (modification time, size)."""
    stat = Path(path).stat()
    return _notebook_exercises(str(path), stat.st_mtime_ns, stat.st_size)


# --- hashing course folders -----------------------------------------------------------------------

IGNORED_FOLDERS = frozenset({".ipynb_checkpoints", "__pycache__"})


def _files(root: Path) -> Iterable[tuple[PurePosixPath, Path]]:
    if root.is_file():
        yield PurePosixPath(root.name), root
        return
    for path in root.rglob("*"):
        if path.is_file():
            yield PurePosixPath(path.relative_to(root).as_posix()), path


def hash_tree(root: Path, *, salt: str = "", skip: Callable[[PurePosixPath], bool] | None = None) -> str:
    """sha256 (hex) of `salt` and of every file under `root`: its relative path and its contents.

    Files come in the order of their relative paths; `root` may be a single file (its path is then its
    name). `.ipynb_checkpoints` and `__pycache__` folders are always left out, and any file for which
    `skip(relative path)` is true. Unambiguous: the salt and each file's contents enter as fixed-size
    digests, each path ends with a NUL byte (which no path contains).
    """
    digest = hashlib.sha256(hashlib.sha256(salt.encode()).digest())
    for rel, path in sorted(_files(Path(root)), key=lambda item: item[0].as_posix()):
        if IGNORED_FOLDERS.intersection(rel.parts[:-1]) or (skip is not None and skip(rel)):
            continue
        with path.open("rb") as f:
            content = hashlib.file_digest(f, "sha256").digest()
        digest.update(rel.as_posix().encode() + b"\0" + content)
    return digest.hexdigest()
