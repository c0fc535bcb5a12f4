"""Bring released course material into a learner's home without overwriting their work.

Runs at every server start (local spawner: in the hub; containers: inside the learner image as
``python -m autoformation.material SOURCE HOME``). Standard library only: the learner image has
no other dependency for it.

Rules, per file of the release:
- not in the home yet: copied;
- in the home, unchanged since we last copied it: replaced by the new release (an update);
- changed by the learner, and the release has a new version of it: a notebook is merged (the new
  release's cells, with the learner's answers — solution cells, by nbgrader grade id — and the cells
  the learner added, each after the cell it followed), the learner's previous file saved first under
  ``HOME/.autoformation/backups/``; any other file is kept as it is;
- never copied by us: kept as it is.
What was copied is remembered in ``HOME/.autoformation/material.json`` (file hashes and the
release version per course, which trainers see on their dashboard).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = Path(".autoformation") / "material.json"
BACKUPS = Path(".autoformation") / "backups"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class SyncReport:
    copied: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # learner's edits, left alone
    merged: list[str] = field(default_factory=list)  # new release, learner's answers kept


def _release_files(source: Path):
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts) and rel.name != "release.json":
            yield rel, path


def _key(cell: dict) -> str | None:
    """A cell's name across releases: its nbgrader grade id, else its cell id."""
    grade_id = ((cell.get("metadata") or {}).get("nbgrader") or {}).get("grade_id")
    return grade_id or cell.get("id")


def _is_answer(cell: dict) -> bool:
    return bool(((cell.get("metadata") or {}).get("nbgrader") or {}).get("solution"))


def merge_notebooks(release: dict, learner: dict) -> dict:
    """The release's notebook with the learner's answers and added cells (see the module's rules)."""
    theirs = {_key(c): c for c in learner.get("cells", []) if _key(c)}
    known = {_key(c) for c in release.get("cells", [])}
    cells = []
    for cell in release.get("cells", []):
        mine = theirs.get(_key(cell))
        if _is_answer(cell) and mine is not None and mine.get("cell_type") == cell.get("cell_type"):
            cell = {**cell, "source": mine.get("source", ""), **{k: mine[k] for k in ("outputs", "execution_count")
                                                               if k in mine and cell.get("cell_type") == "code"}}
        cells.append(cell)
    # cells the learner added (unknown to the release), each after the cell it followed
    anchor = None
    for cell in learner.get("cells", []):
        if _key(cell) in known:
            anchor = _key(cell)
            continue
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if any(meta.get(k) for k in ("solution", "grade", "locked", "task")):
            continue  # the trainer's cell, renamed or removed since (an old answer stays in the backup)
        at = next((i + 1 for i, c in enumerate(cells) if _key(c) == anchor), 0 if anchor is None else len(cells))
        cells.insert(at, cell)
        anchor = _key(cell) or anchor
    return {**release, "cells": cells}


def _merge(src: Path, dest: Path, home: Path, key: str) -> bool:
    """Merge the new release `src` into the learner's `dest`; False (nothing touched) if either is unreadable."""
    try:
        merged = merge_notebooks(json.loads(src.read_text(encoding="utf-8")),
                                 json.loads(dest.read_text(encoding="utf-8")))
    except (ValueError, OSError, AttributeError, TypeError):
        return False
    backup = home / BACKUPS / f"{key}.{time.strftime('%Y%m%d-%H%M%S')}"
    backup.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(dest, backup)
    dest.write_text(json.dumps(merged, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return True


def sync(source: str | Path, home: str | Path, merge: bool = True) -> SyncReport:
    """Bring the release `source` into `home` (the module's rules); `merge=False`: never merge notebooks."""
    source, home = Path(source), Path(home)
    report = SyncReport()
    home.mkdir(parents=True, exist_ok=True)
    manifest_path = home / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except (FileNotFoundError, ValueError):
        manifest = {}
    copied: dict[str, str] = manifest.get("files", {})
    versions: dict[str, str] = manifest.get("versions", {})
    if not source.is_dir():
        return report
    for rel, src in _release_files(source):
        key = rel.as_posix()
        dest = home / rel
        new = _digest(src)
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            report.copied.append(key)
        elif copied.get(key) == _digest(dest):
            if new != copied[key]:
                shutil.copyfile(src, dest)
                report.updated.append(key)
        elif merge and key in copied and new != copied[key] and rel.suffix == ".ipynb" and _merge(src, dest, home, key):
            report.merged.append(key)
        else:
            report.kept.append(key)
            continue
        copied[key] = new
    for info in source.glob("*/release.json"):
        try:
            versions[info.parent.name] = json.loads(info.read_text()).get("version", "")
        except ValueError:
            pass
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps({"files": copied, "versions": versions}, indent=1, sort_keys=True))
    return report


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m autoformation.material SOURCE HOME", file=sys.stderr)
        return 2
    report = sync(*argv)
    print(
        f"course material: {len(report.copied)} new, {len(report.updated)} updated, "
        f"{len(report.merged)} merged (new version, the learner's answers kept), "
        f"{len(report.kept)} kept (edited by the learner)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
