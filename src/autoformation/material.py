"""Bring released course material into a learner's home without overwriting their work.

Runs at every server start (local spawner: in the hub; containers: inside the learner image as
``python -m autoformation.material SOURCE HOME``). Standard library only: the learner image has
no other dependency for it.

Rules, per file of the release:
- not in the home yet: copied;
- in the home, unchanged since we last copied it: replaced by the new release (an update);
- changed by the learner (or never copied by us): kept as it is.
What was copied is remembered in ``HOME/.autoformation/material.json`` (file hashes and the
release version per course, which trainers see on their dashboard).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = Path(".autoformation") / "material.json"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class SyncReport:
    copied: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # learner's edits, left alone


def _release_files(source: Path):
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts) and rel.name != "release.json":
            yield rel, path


def sync(source: str | Path, home: str | Path) -> SyncReport:
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
        f"{len(report.kept)} kept (edited by the learner)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
