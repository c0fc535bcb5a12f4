"""Write the learner versions of a course where the platform serves them from."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from ..catalogue import Course
from ..notebooks import hash_tree
from .checking import CHECKER_VERSION
from .nbgrader_setup import nbgrader_config, tools_on_path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_hash(course: Course, version: str) -> str:
    """Every assignment's source folder (in the course's order), the checker's and the release's version."""
    trees = [[assignment.id, hash_tree(assignment.source_dir)] for assignment in course.assignments]
    return hashlib.sha256(json.dumps([CHECKER_VERSION, version, trees]).encode()).hexdigest()


def strip_wrong_answers(path: Path) -> None:
    """The trainer's wrong answers (`metadata.autoformation.wrong`) are for `courses check`, not for learners."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        about = (cell.get("metadata") or {}).get("autoformation")
        if isinstance(about, dict) and about.pop("wrong", None) is not None and not about:
            del cell["metadata"]["autoformation"]
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def release_course(course: Course, release_dir: Path, version: str, force: bool = False) -> bool:
    """Generate and write `release_dir/<course>/`; False when it was already up to date."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    tools_on_path()
    target = release_dir / course.id
    manifest = target / "release.json"
    wanted = source_hash(course, version)
    if not force and manifest.exists() and json.loads(manifest.read_text()).get("source_hash") == wanted:
        return False
    with tempfile.TemporaryDirectory(prefix="af-release-") as tmp:
        root = Path(tmp)
        config = nbgrader_config(root)
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        for assignment in course.assignments:
            shutil.copytree(assignment.source_dir, root / "source" / assignment.id,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
            for notebook in (root / "source" / assignment.id).rglob("*.ipynb"):
                strip_wrong_answers(notebook)
            result = api.generate_assignment(assignment.id, force=True, create=True)
            if not result.get("success"):
                raise RuntimeError(f"{course.id}/{assignment.id}: nbgrader generate_assignment failed: "
                                   f"{result.get('log') or result.get('error')}")
        staged = root / "release"
        files = {str(p.relative_to(staged)): _sha256(p) for p in sorted(staged.rglob("*")) if p.is_file()}
        (staged / "release.json").write_text(json.dumps(
            {"course": course.id, "version": version, "source_hash": wanted, "files": files},
            indent=2, ensure_ascii=False) + "\n")
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staged, target)
    return True
