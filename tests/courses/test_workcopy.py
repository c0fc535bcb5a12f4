"""Trainers' working copies (`courses/workcopy.py`): what a publication may carry, and what it may not."""

from __future__ import annotations

import io
import tarfile

import pytest

from autoformation.courses import workcopy


def tar_of(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def test_pack_and_unpack_keep_files_and_drop_checkpoints_and_links(tmp_path):
    course = tmp_path / "courses" / "mini"
    (course / "source" / ".ipynb_checkpoints").mkdir(parents=True)
    (course / "course.yaml").write_text("id: mini\n")
    (course / "source" / "a.ipynb").write_text("{}")
    (course / "source" / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text("{}")
    (course / "source" / "secret").symlink_to("/etc/passwd")
    workcopy.unpack(workcopy.pack(tmp_path / "courses"), tmp_path / "out")
    files = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert files == ["mini/course.yaml", "mini/source/a.ipynb"]


@pytest.mark.parametrize("name", ["../evil", "/etc/evil", "mini/../../evil"])
def test_a_publication_cannot_write_outside_the_course(tmp_path, name):
    with pytest.raises(ValueError, match="outside"):
        workcopy.unpack(tar_of((tarfile.TarInfo(name), b"x")), tmp_path / "out")
    assert not (tmp_path / "evil").exists()


def test_a_publication_cannot_carry_a_link(tmp_path):
    link = tarfile.TarInfo("mini/source/data.csv")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
    with pytest.raises(ValueError, match="not a plain file"):
        workcopy.unpack(tar_of((link, b"")), tmp_path / "out")
