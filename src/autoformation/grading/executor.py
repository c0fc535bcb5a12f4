"""Run the grading runner in a bubblewrap sandbox built on an allow-list (the `local` executor).

What the sandbox holds: the system's /usr (read-only), the Python installation and the venv
(read-only, the venv's IPython config masked), a few /etc files, the runner (read-only), the
exercise's trainer files (read-only, the tests' working folder) and fresh size-capped tmpfs for the
learner's working copy, /tmp, /dev/shm and /run. Nothing of the project checkout (.git, courses/,
data/) and no host socket or device; no network (a loopback of its own); own pid, ipc and uts
namespaces. Learner code runs as an unprivileged uid that is neither root nor the service's
(when the service is root: `setpriv` to `sandbox_uid`, no capabilities, no_new_privs), under rlimits,
in a pids cgroup when the machine has one, at a lower CPU priority than the hub.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).parent
RUNNER_FILES = ("runner.py", "values.py", "kernel_side.py")
# Uids with no account, owning nothing on the host; one per running sandbox, so that a fork bomb in
# one (RLIMIT_NPROC counts a uid's processes machine-wide) never starves another learner's grading.
SANDBOX_UIDS = range(60000, 65000)
_uids_in_use: set[int] = set()
_uids_lock = threading.Lock()
NICE = 10
ETC_ALLOWED = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "nsswitch.conf", "fonts",
               "mime.types", "ssl", "ca-certificates", "host.conf", "hosts", "gitconfig")
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")
MAX_REPLY = 64 * 1024 * 1024
WORKDIR, EXERCISE, RUNNER, RUNTIME = "/home/apprenant", "/srv/exercice", "/opt/correcteur", "/tmp/noyau"
STAGING_PREFIX = "autoformation-sandbox-"
staging_dir: str | None = None  # where sandboxes are staged (the service sets its own, cleaned at start)
_running: dict[int, subprocess.Popen] = {}


@dataclass
class Limits:
    cell_timeout: int
    wall_timeout: int
    memory_mb: int
    cpu_seconds: int
    max_output_kb: int
    max_file_mb: int = 64
    max_processes: int = 64

    @classmethod
    def from_settings(cls, settings) -> Limits:
        g = settings.grading
        return cls(g.cell_timeout, g.timeout, g.memory_mb, g.cpu_seconds, g.max_output_kb)


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here: say so, do not grade unsandboxed."""


def _dirs_to(path: str) -> list[str]:
    """bwrap creates missing parents 0700: create them 0755 ourselves."""
    parts = Path(path).parts[1:-1]
    out = []
    for i in range(1, len(parts) + 1):
        out += ["--perms", "0755", "--dir", "/" + "/".join(parts[:i])]
    return out


def _ro(path: str, target: str | None = None) -> list[str]:
    target = target or path
    return _dirs_to(target) + ["--ro-bind", path, target]


def allocate_uid() -> int:
    with _uids_lock:
        free = [u for u in random.sample(SANDBOX_UIDS, 64) if u not in _uids_in_use]
        _uids_in_use.add(free[0])
        return free[0]


def release_uid(uid: int) -> None:
    with _uids_lock:
        _uids_in_use.discard(uid)


def bwrap_command(runner_dir: str, exercise_dir: str, empty_dir: str, etc_dir: str, limits: Limits,
                  uid: int) -> list[str]:
    bwrap = shutil.which("bwrap")
    if not bwrap:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: `apt-get install bubblewrap`")
    cmd = [bwrap, "--die-with-parent", "--new-session", "--as-pid-1", "--unshare-ipc", "--unshare-pid",
           "--unshare-net", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "correction"]
    if os.geteuid() != 0:
        cmd += ["--unshare-user", "--uid", "1000", "--gid", "1000"]
    # The writable tmpfs first: what is bound afterwards (a checkout under /tmp, say) stays visible.
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    work_bytes = (limits.max_file_mb * 2 + 64) * 1024 * 1024
    for path, size in ((WORKDIR, work_bytes), ("/tmp", work_bytes), ("/dev/shm", 64 << 20), ("/run", 16 << 20),
                       ("/var/tmp", 16 << 20)):
        cmd += _dirs_to(path) + ["--size", str(size), "--tmpfs", path, "--chmod", "1777", path]
    for top in ("usr",):
        cmd += ["--ro-bind", f"/{top}", f"/{top}"]
    for link in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = Path("/" + link)
        if p.is_symlink():
            cmd += ["--symlink", os.readlink(p), f"/{link}"]
        elif p.is_dir():
            cmd += ["--ro-bind", str(p), f"/{link}"]
    for prefix in {sys.base_prefix, sys.prefix}:
        if prefix != "/usr" and not prefix.startswith("/usr/"):
            cmd += _ro(prefix)
    ipython_conf = Path(sys.prefix, "etc", "ipython")
    if ipython_conf.is_dir():  # the learner-side self-check extension: not installed in the sandbox
        cmd += ["--ro-bind", empty_dir, str(ipython_conf)]
    cmd += ["--perms", "0755", "--dir", "/etc", "--ro-bind", f"{etc_dir}/passwd", "/etc/passwd",
            "--ro-bind", f"{etc_dir}/group", "/etc/group"]
    for name in ETC_ALLOWED:
        if os.path.exists(f"/etc/{name}"):
            cmd += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    cmd += _ro(runner_dir, RUNNER) + _ro(exercise_dir, EXERCISE)
    cmd += ["--clearenv", "--setenv", "PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "--setenv", "HOME", EXERCISE, "--setenv", "LANG", "C.UTF-8", "--setenv", "MPLBACKEND", "agg",
            "--chdir", WORKDIR, "--"]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if not setpriv:
            raise SandboxUnavailable("setpriv (util-linux) is missing: the sandbox cannot drop root")
        cmd += [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    return cmd + [sys.executable, "-I", f"{RUNNER}/runner.py"]


def pids_cgroup(limit: int) -> Path | None:
    """A cgroup-v1 pids group bounding the sandbox's processes, when this machine lets us make one."""
    try:
        # Named after this process: another service on the machine only cleans the groups of dead ones.
        group = Path(tempfile.mkdtemp(prefix=f"autoformation-{os.getpid()}-", dir=PIDS_CGROUP))
        (group / "pids.max").write_text(str(limit))
        return group
    except OSError:
        return None


def kill_group(group: Path) -> None:
    for _ in range(50):
        try:
            pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
        except OSError:
            break
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    try:
        group.rmdir()
    except OSError:
        pass


def kill_all() -> None:
    """Stop every sandbox now (the service is stopping: their submissions are graded after restart)."""
    for pid in list(_running):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # A runner caught between setpriv (which clears the parent-death signal) and re-arming it would
    # outlive bwrap: its cgroup catches it.
    if PIDS_CGROUP.is_dir():
        for group in PIDS_CGROUP.glob(f"autoformation-{os.getpid()}-*"):
            kill_group(group)


def clean_leftover_groups() -> int:
    """Groups left by a service killed mid-grading: removed at start-up (never a living service's)."""
    removed = 0
    if PIDS_CGROUP.is_dir():
        for group in PIDS_CGROUP.glob("autoformation-*"):
            owner = group.name.split("-")[1]
            if owner.isdigit() and Path(f"/proc/{owner}").exists():
                continue
            kill_group(group)
            removed += not group.exists()
    return removed


def _stage(tmp: Path, exercise_files: Path | None, uid: int) -> dict[str, str]:
    runner = tmp / "runner"
    runner.mkdir()
    for name in RUNNER_FILES:
        shutil.copy(HERE / name, runner / name)
    exercise = tmp / "exercise"
    if exercise_files:
        shutil.copytree(exercise_files, exercise, ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    else:
        exercise.mkdir()
    empty, etc = tmp / "empty", tmp / "etc"
    empty.mkdir()
    etc.mkdir()
    (etc / "passwd").write_text(f"root:x:0:0:root:/root:/usr/sbin/nologin\n"
                                f"apprenant:x:{uid}:{uid}::{WORKDIR}:/bin/sh\n")
    (etc / "group").write_text(f"root:x:0:\napprenant:x:{uid}:\n")
    for path in [tmp, *tmp.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return {"runner": str(runner), "exercise": str(exercise), "empty": str(empty), "etc": str(etc), "uid": str(uid)}


class LocalSandbox:
    """bubblewrap on this machine (the `local` backend, and any machine the service runs on)."""

    exercise = EXERCISE

    def command(self, staged: dict[str, str], limits: Limits) -> list[str]:
        return bwrap_command(staged["runner"], staged["exercise"], staged["empty"], staged["etc"], limits,
                             int(staged["uid"]))

    def group(self, limits: Limits) -> Path | None:
        return pids_cgroup(limits.max_processes + 32) if os.geteuid() == 0 else None


@dataclass
class ContainerSandbox:
    """A container of the course's own image (the `docker` backend: Docker or Podman): no network,
    read-only image, unprivileged user, no capabilities, tmpfs work folders, limits, no socket mounts."""

    engine: list[str]  # e.g. ["podman", "--root", ...] or ["docker"]
    image: str
    env: dict[str, str] | None = None
    user: str = "1000:100"
    exercise = EXERCISE

    @staticmethod
    def name(staged: dict[str, str]) -> str:
        return "autoformation-grading-" + Path(staged["runner"]).parent.name.removeprefix(STAGING_PREFIX)

    def command(self, staged: dict[str, str], limits: Limits) -> list[str]:
        work = f"{(limits.max_file_mb * 2 + 64)}m"
        return [
            *self.engine, "run", "--rm", "-i", "--name", self.name(staged), "--network=none", "--read-only",
            "--user", self.user,
            "--cap-drop=ALL", "--security-opt=no-new-privileges", f"--pids-limit={limits.max_processes + 32}",
            f"--memory={limits.memory_mb + 512}m", "--cpu-shares=256",
            "--tmpfs", f"{WORKDIR}:rw,size={work},mode=1777", "--tmpfs", f"/tmp:rw,size={work},mode=1777",
            "--tmpfs", "/run:rw,size=16m,mode=1777", "--tmpfs", "/var/tmp:rw,size=16m,mode=1777",
            "--volume", f"{staged['runner']}:{RUNNER}:ro", "--volume", f"{staged['exercise']}:{EXERCISE}:ro",
            "--env", f"HOME={EXERCISE}", "--env", "MPLBACKEND=agg", "--workdir", WORKDIR,
            "--entrypoint", "python", self.image, "-I", f"{RUNNER}/runner.py",
        ]

    def group(self, limits: Limits) -> Path | None:
        return None  # the engine's own cgroup limits apply

    def stop(self, staged: dict[str, str]) -> None:
        """Killing the engine's client does not stop the container: ask the engine."""
        subprocess.run([*self.engine, "rm", "-f", self.name(staged)], env={"PATH": os.environ["PATH"],
                       **(self.env or {})}, capture_output=True, timeout=60)


def run(cells: list[dict], imports: str, exercise_files: Path | None, limits: Limits, debug: bool = False,
        sandbox: LocalSandbox | ContainerSandbox | None = None) -> dict:
    """The runner's reply: {"outcome": done|timeout|dead|wall|error, "cell", "status", "tests", ...}."""
    sandbox = sandbox or LocalSandbox()
    request = json.dumps({"cells": cells, "imports": imports, "limits": asdict(limits), "workdir": WORKDIR,
                          "exercise": sandbox.exercise, "runtime": RUNTIME, "debug": debug}).encode()
    with tempfile.TemporaryDirectory(prefix=STAGING_PREFIX, dir=staging_dir) as tmp:
        os.chmod(tmp, 0o755)
        uid = allocate_uid() if os.geteuid() == 0 and isinstance(sandbox, LocalSandbox) else 1000
        staged = _stage(Path(tmp), exercise_files, uid)
        try:
            cmd = sandbox.command(staged, limits)
            return _run_staged(sandbox, staged, cmd, request, limits)
        finally:
            release_uid(uid)


def _run_staged(sandbox, staged: dict[str, str], cmd: list[str], request: bytes, limits: Limits) -> dict:
    group = sandbox.group(limits)
    env = {"PATH": os.environ["PATH"], **(getattr(sandbox, "env", None) or {})}

    def enter():
        if group:
            (group / "cgroup.procs").write_text(str(os.getpid()))
        os.nice(NICE)

    with tempfile.TemporaryFile() as reply_file, tempfile.TemporaryFile() as err_file:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=reply_file, stderr=err_file,
                                start_new_session=True, preexec_fn=enter, env=env)
        _running[proc.pid] = proc
        try:
            proc.communicate(request, timeout=limits.wall_timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            if hasattr(sandbox, "stop"):
                sandbox.stop(staged)
            return {"outcome": "wall"}
        finally:
            _running.pop(proc.pid, None)
            if group:
                kill_group(group)
        reply_file.seek(0)
        data = reply_file.read(MAX_REPLY + 1)
        err_file.seek(0)
        errors = err_file.read(4000).decode(errors="replace")
    if not data and proc.returncode:
        if isinstance(sandbox, LocalSandbox) and "bwrap" in errors:
            raise SandboxUnavailable(f"the grading sandbox could not start: {errors.strip()}")
        return {"outcome": "error", "error": f"the sandbox stopped ({proc.returncode}): {errors.strip()[-500:]}"}
    try:
        reply = json.loads(data)
    except ValueError:
        return {"outcome": "error", "error": "no reply from the runner"}
    return reply if isinstance(reply, dict) else {"outcome": "error", "error": "bad reply"}
