"""Local backend: one Unix account per learner, and what those accounts may reach on this machine.

As on The Littlest JupyterHub, a learner's server and kernels run as their own system user
(`jupyter-<name>`), never as root and never as another learner. Their home is
`DATA/homes/<name>` (mode 0700, theirs). What they must not read (course sources with solutions
and hidden tests, the git history holding the same, the hub's database and secrets, gradebooks,
other homes) is closed to "others" by `lock_down`, run by `autoformation up` before the hub starts;
the services that need no root run as the system account `autoformation`, which shares with the
platform only what they read or write.
Needs root (useradd, chown); without it the platform runs every server as the user who started it.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

PREFIX = "jupyter-"
GROUP = "autoformation-learners"
# The services that need no root (book, culler) and the proxy run as this system account.
PLATFORM_USER = "autoformation"
SHELL = "/bin/bash"  # terminals in JupyterLab; the account has no password, nobody logs in with it
_MAX_NAME = 32  # useradd's limit
_lock = threading.Lock()  # useradd fails when another useradd holds /etc/passwd


class AccountError(RuntimeError):
    pass


def available() -> bool:
    """Learner accounts need root (creating users, starting servers as them)."""
    return os.geteuid() == 0


def system_name(hub_name: str) -> str:
    """`jupyter-<name>`; a name useradd would refuse, or too long, becomes a safe prefix plus a hash,
    so two hub names never map to the same account."""
    safe = re.sub(r"[^a-z0-9_-]", "-", hub_name.lower())
    room = _MAX_NAME - len(PREFIX)
    if safe != hub_name or len(safe) > room:
        digest = hashlib.sha256(hub_name.encode()).hexdigest()[:7]
        safe = f"{safe[:room - 8]}-{digest}"
    return PREFIX + safe


def _run(*cmd: str) -> None:
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        raise AccountError(f"{' '.join(cmd)} failed: {out.stderr.strip() or out.returncode}")


def _tree(root: Path):
    """`root` and everything under it, links excluded and never followed: a link a learner planted must
    not make root change what it points to."""
    if root.is_symlink() or not root.exists():
        return
    yield root
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            if not path.is_symlink():
                yield path


def _ensure_group(name: str) -> grp.struct_group:
    """A system group, created on first use (call with `_lock` held)."""
    try:
        return grp.getgrnam(name)
    except KeyError:
        _run("groupadd", "--system", name)
        return grp.getgrnam(name)


def ensure(hub_name: str, home: Path) -> pwd.struct_passwd:
    """The learner's account and home, created on first use (idempotent)."""
    name = system_name(hub_name)
    with _lock:
        _ensure_group(GROUP)
        try:
            account = pwd.getpwnam(name)
        except KeyError:
            _run("useradd", "--gid", GROUP, "--home-dir", str(home), "--no-create-home", "--shell", SHELL,
                 "--comment", f"autoformation learner {hub_name}", name)
            account = pwd.getpwnam(name)
        if account.pw_dir != str(home):  # the data folder moved
            _run("usermod", "--home", str(home), name)
            account = pwd.getpwnam(name)
    home.mkdir(parents=True, exist_ok=True)
    if home.is_symlink():
        raise AccountError(f"{home} is a symbolic link; refusing to use it as {hub_name}'s home")
    if home.stat().st_uid != account.pw_uid:  # a re-created account (its uid changed) gets its home back
        for path in _tree(home):
            os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)
    os.chmod(home, 0o700)
    return account


def becoming(account: pwd.struct_passwd, own_group_only: bool = False, niceness: int = 0, umask: int | None = None):
    """A `preexec_fn` making the child process this account: its groups (or its own group only), after a
    lower CPU priority and a umask set while still root (so that the account cannot undo them)."""
    gids = [account.pw_gid] if own_group_only else os.getgrouplist(account.pw_name, account.pw_gid)

    def preexec():
        if niceness:
            os.nice(niceness)
        if umask is not None:
            os.umask(umask)
        os.setgid(account.pw_gid)
        os.setgroups(gids)
        os.setuid(account.pw_uid)

    return preexec


def team_group(team: str) -> str:
    """The Unix group of a Funathon team (`af-<team>`, made safe like learners' account names)."""
    return "af-" + system_name(team).removeprefix(PREFIX)


def _default_acl_group_rwx(folder: Path) -> None:
    """New files in `folder` are read-write for its group whatever the creator's umask (learners' servers
    run with umask 077): a POSIX default ACL (user::rwx, group::rwx, other::---), set as its xattr."""
    import struct

    undefined = 0xFFFFFFFF
    acl = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", tag, perm, undefined)
                                          for tag, perm in ((0x01, 7), (0x04, 7), (0x20, 0)))
    os.setxattr(folder, "system.posix_acl_default", acl)


def ensure_team_folder(team: str, teams_dir: Path) -> tuple[Path, str]:
    """A Funathon team's shared folder (`DATA/teams/<team>`, root-owned, its team's group, setgid, 2770)."""
    group = team_group(team)
    with _lock:
        gid = _ensure_group(group).gr_gid
    teams_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(teams_dir, 0o711)
    folder = teams_dir / team
    folder.mkdir(exist_ok=True)
    if folder.is_symlink():
        raise AccountError(f"{folder} is a symbolic link; refusing to use it as team {team}'s folder")
    os.chown(folder, 0, gid, follow_symlinks=False)
    os.chmod(folder, 0o2770)
    _default_acl_group_rwx(folder)
    return folder, group


def set_teams(hub_name: str, groups: list[str]) -> None:
    """The learner's account is in exactly these team groups (joins and leaves follow Keycloak)."""
    with _lock:
        _run("usermod", "--groups", ",".join(groups), system_name(hub_name))


def ensure_platform_account() -> pwd.struct_passwd:
    with _lock:
        try:
            return pwd.getpwnam(PLATFORM_USER)
        except KeyError:
            _run("useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                 "--shell", "/usr/sbin/nologin", "--comment", "autoformation services", PLATFORM_USER)
    return pwd.getpwnam(PLATFORM_USER)


def _share(root: Path, gid: int, dir_mode: int, file_mode: int) -> None:
    """Give a tree to the platform account's group."""
    for path in _tree(root):
        os.chown(path, -1, gid, follow_symlinks=False)
        os.chmod(path, dir_mode if path.is_dir() else file_mode)


def _share_readable(root: Path, gid: int) -> None:
    """Readable by the platform account's group, closed to others; each file keeps its owner's bits."""
    for path in _tree(root):
        os.chown(path, -1, gid, follow_symlinks=False)
        mode = path.stat().st_mode & 0o777
        os.chmod(path, (mode & 0o700) | 0o050 if path.is_dir() else (mode & 0o700) | 0o040)


def open_release(release_dir: Path) -> None:
    """The released material is readable by every account: learners sync it into their homes as themselves."""
    if release_dir.exists():
        for path in _tree(release_dir):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)


def share_with_platform(root: Path) -> None:
    """A folder put in the course sources after `up` (a published course): as `lock_down` leaves them."""
    try:
        gid = grp.getgrnam(PLATFORM_USER).gr_gid
    except KeyError:
        return  # no platform account: `up` did not lock this machine down
    _share_readable(root, gid)


def remove_under(homes_dir: Path) -> list[str]:
    """Delete the learner accounts whose home lies in `homes_dir` (their homes stay): for tests and
    for decommissioning a data folder. Returns the names removed."""
    homes_dir = str(Path(homes_dir).resolve()) + os.sep
    removed = []
    for account in pwd.getpwall():
        if account.pw_name.startswith(PREFIX) and account.pw_dir.startswith(homes_dir):
            # the platform is stopped: what still runs as the account (a kernel finishing) goes first
            if shutil.which("pkill"):
                subprocess.run(["pkill", "-KILL", "-U", str(account.pw_uid)], check=False)
            for attempt in range(20):
                try:
                    with _lock:
                        _run("userdel", account.pw_name)
                    break
                except AccountError:  # "currently used by process": it is still exiting
                    if attempt == 19:
                        raise
                    time.sleep(0.25)
            removed.append(account.pw_name)
    return removed


def _close(path: Path, mode: int) -> None:
    if path.exists() and not path.is_symlink():
        os.chmod(path, mode)


def reachable_by_others(path: Path) -> bool:
    """Every folder above `path` can be traversed by a user who is neither owner nor group."""
    for parent in [path, *path.parents]:
        if parent.exists() and parent.is_dir() and not parent.stat().st_mode & 0o001:
            return False
    return True


def lock_down(settings, project_root: Path) -> None:
    """Close to learners' accounts everything they must not read; open what their servers need.

    Learners' servers run this project's environment and read its `hub_config/jupyter*` folders,
    their home, and the released material. Everything else of the platform is closed."""
    from ..settings import SettingsError

    data = settings.data_dir
    for needed in (data, Path(os.path.realpath(sys.executable)).parent, project_root / "hub_config"):
        if not reachable_by_others(needed):
            raise SettingsError(
                f"learners' accounts cannot reach {needed}: a folder above it is closed to others "
                "(e.g. a checkout under /root). Put the project and its data folder in a place every user "
                "can traverse (e.g. /opt/autoformation, /srv/autoformation) or make those folders o+x.")
    os.chmod(data, 0o711)  # traverse only: learners reach their home and the release, list nothing
    settings.homes_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.homes_dir, 0o711)
    open_release(settings.release_dir)
    if settings.teams_dir.exists():  # traverse only; each team's folder is its group's (2770)
        os.chmod(settings.teams_dir, 0o711)
    for child in data.iterdir():
        if child not in (settings.homes_dir, settings.release_dir, settings.teams_dir):
            _close(child, 0o700 if child.is_dir() else 0o600)
    # Sources with solutions and hidden tests, and the history that holds them too.
    for closed in (settings.courses_dir, project_root / "courses", project_root / ".git"):
        _close(closed, 0o700)
    _close(settings.realm_file, 0o600)
    # The hub and the services running as `autoformation` (book, culler) read the settings, the book, the
    # catalogue (course.yaml files and notebooks) and the challenges: shared with its group, still closed to
    # learners.
    gid = ensure_platform_account().pw_gid
    _share(Path(settings.source), gid, 0o750, 0o640)
    _share(data / "book", gid, 0o2750, 0o640)
    for shared in (settings.courses_dir, settings.challenges_dir):
        if shared.is_dir():
            _share_readable(shared, gid)
