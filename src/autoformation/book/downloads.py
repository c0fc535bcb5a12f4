"""The book's downloads, for learners working elsewhere (the SSP Cloud: `autoformation catalogue export`).

Beside the HTML: `onyxia/init.sh` (Onyxia's init script, images/onyxia/), `telechargements/<course>/<chapter>
.tar.gz` (each chapter's released material, learner versions only), `telechargements/defis/<id>.tar.gz`
(each challenge's public data and starter notebooks) and the learner-side package's wheel with an index
page `pip install --find-links` reads.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from ..catalogue import load_catalogue
from ..settings import PROJECT_ROOT, Settings

INIT_SCRIPT = PROJECT_ROOT / "images" / "onyxia" / "init.sh"


def _archive(folder: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(target, "w:gz") as tar:
        tar.add(folder, arcname=folder.name, filter=lambda info: None if "/." in f"/{info.name}" else info)


def _wheel(downloads: Path) -> list[str]:
    """The package's wheel, built again only when its sources changed (the book is rebuilt at each start)."""
    from ..notebooks import hash_tree

    digest = hash_tree(PROJECT_ROOT / "src" / "autoformation") + hash_tree(PROJECT_ROOT / "pyproject.toml")
    stamp = downloads / ".wheel-sources"
    existing = sorted(str(w) for w in downloads.glob("autoformation-*.whl"))
    if existing and stamp.is_file() and stamp.read_text() == digest:
        return existing
    downloads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="af-wheel-") as tmp:
        built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                                "--wheel-dir", tmp, str(PROJECT_ROOT)], capture_output=True, text=True, timeout=300)
        if built.returncode:
            raise RuntimeError(f"building the learner package's wheel failed: {built.stderr.strip()[-1000:]}")
        for old in existing:
            Path(old).unlink()
        wheels = [shutil.copy(w, downloads) for w in Path(tmp).glob("autoformation-*.whl")]
    stamp.write_text(digest)
    return wheels


def publish(settings: Settings, html_dir: Path, report=print) -> list[str]:
    """Write the downloads into the built book; returns what was written (relative paths)."""
    from ..sspcloud import DOWNLOADS
    from ..sspcloud import INIT_SCRIPT as INIT_PATH

    written = []
    (html_dir / INIT_PATH).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(INIT_SCRIPT, html_dir / INIT_PATH)
    written.append(INIT_PATH)
    downloads = html_dir / DOWNLOADS
    for course in load_catalogue(settings.courses_dir):
        for assignment in course.assignments:
            released = settings.release_dir / course.id / assignment.id
            if released.is_dir():
                _archive(released, downloads / course.id / f"{assignment.id}.tar.gz")
                written.append(f"{DOWNLOADS}/{course.id}/{assignment.id}.tar.gz")
    if settings.challenges_release_dir.is_dir():
        for released in sorted(p for p in settings.challenges_release_dir.iterdir() if p.is_dir()):
            _archive(released, downloads / "defis" / f"{released.name}.tar.gz")
            written.append(f"{DOWNLOADS}/defis/{released.name}.tar.gz")
    wheels = _wheel(downloads)
    links = "".join(f'<a href="{html.escape(Path(w).name)}">{html.escape(Path(w).name)}</a>\n' for w in wheels)
    (downloads / "index.html").write_text(f"<!doctype html><title>autoformation</title>\n{links}")
    written += [f"{DOWNLOADS}/{Path(w).name}" for w in wheels]
    report(f"downloads: {len(written)} file(s) in {html_dir}")
    return written
