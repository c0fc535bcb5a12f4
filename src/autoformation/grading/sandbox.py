"""Runs one learner notebook inside namespaces: no network but loopback, hidden platform folders, rlimits.

Started by `autograde.run_in_sandbox` as
``unshare --user --map-root-user --net --mount --pid --fork python -m autoformation.grading.sandbox``.
Reads one JSON request on stdin: {"notebook": <nbformat dict>, "files": {relpath: base64}, "hide": [...],
"limits": {...}}; writes one JSON reply on the original stdout, which it keeps on a private
non-inheritable fd while the kernel (and so learner code) only sees /dev/null.
"""

from __future__ import annotations

import base64
import ctypes
import json
import os
import resource
import socket
import sys
import tempfile
import time
from pathlib import Path

TRUNCATED_NOTE = "\n[sortie tronquée : la sortie de cette cellule dépassait {kb} Ko]\n"
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 4, 24, 38
LINUX_CAPABILITY_VERSION_3 = 0x20080522
CAPSET = {"x86_64": 126, "aarch64": 91}  # syscall numbers
MS_NOSUID, MS_NODEV = 2, 4

_libc = ctypes.CDLL(None, use_errno=True)


def mount_tmpfs(target: str, size_mb: int) -> None:
    opts = f"size={size_mb}m,mode=0755".encode()
    if _libc.mount(b"tmpfs", target.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount tmpfs on {target}: {os.strerror(err)}")


def loopback_up() -> None:
    # `ip` may be absent; an ioctl is what it does anyway.
    import fcntl
    import struct

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
        ifreq = struct.pack("16sH14s", b"lo", 0, b"\0" * 14)
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, siocgifflags, ifreq))[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sH14s", b"lo", flags | iff_up, b"\0" * 14))
    finally:
        sock.close()


def drop_capabilities() -> None:
    """Learner code runs as root of the user namespace: without capabilities it cannot unmount what hides
    the platform's folders, nor ptrace us (we are non-dumpable) to reach the reply channel."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != 22:  # EINVAL: no such cap
            raise OSError(ctypes.get_errno(), f"cannot drop capability {cap}")
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    import platform

    if libc.syscall(CAPSET[platform.machine()], header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "no_new_privs failed")
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "cannot make the sandbox non-dumpable")


def processes_of_uid(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


def set_limits(limits: dict) -> None:
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"] + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["max_file_mb"] * mb,) * 2)
    # RLIMIT_NPROC counts every process of the (real) uid: leave room for what already runs.
    nproc = processes_of_uid(os.getuid()) + limits.get("max_processes", 64)
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def make_client(nb, workdir: str, limits: dict, record: dict):
    from nbclient import NotebookClient

    cap = limits["max_output_kb"] * 1024

    class CappedClient(NotebookClient):
        """Keeps at most `cap` bytes of outputs per cell, an error output always (it is what grades)."""

        def output(self, outs, msg, display_id, cell_index):
            out = super().output(outs, msg, display_id, cell_index)
            size = sum(len(json.dumps(o)) for o in outs)
            if size > cap:
                errors = [o for o in outs if o.get("output_type") == "error"]
                for err in errors:
                    err["traceback"] = [line[:2000] for line in err.get("traceback", [])[-20:]]
                    err["evalue"] = str(err.get("evalue", ""))[:2000]
                kept = [o for o in outs if o.get("output_type") != "error"]
                while kept and sum(len(json.dumps(o)) for o in kept) > cap // 2:
                    kept.pop()
                from nbformat.v4 import new_output

                note = new_output("stream", name="stderr", text=TRUNCATED_NOTE.format(kb=cap // 1024))
                outs[:] = kept + [note] + errors
                record["truncated"].add(cell_index)
            return out

    def started(cell, cell_index, **_):
        record["current"] = cell_index

    def executed(cell, cell_index, execute_reply, **_):
        record["status"][cell_index] = (execute_reply or {}).get("content", {}).get("status", "unknown")

    return CappedClient(
        nb,
        timeout=limits["cell_timeout"],
        interrupt_on_timeout=False,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": workdir}},
        on_cell_execute=started,
        on_cell_executed=executed,
        startup_timeout=60,
    )


def run(request: dict) -> dict:
    import nbformat
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    limits = request["limits"]
    for path in request.get("hide", []):
        if os.path.isdir(path):
            mount_tmpfs(path, 1)
    workdir = tempfile.mkdtemp(prefix="copie-")
    mount_tmpfs(workdir, limits["max_file_mb"] * 2 + 16)
    for rel, data in request.get("files", {}).items():
        target = Path(workdir, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
    os.environ["HOME"] = workdir
    os.chdir(workdir)
    try:
        loopback_up()
    except OSError:
        pass  # no loopback: notebooks serving on 127.0.0.1 fail, nothing else
    set_limits(limits)
    drop_capabilities()

    nb = nbformat.from_dict(request["notebook"])
    record = {"status": {}, "current": None, "truncated": set()}
    client = make_client(nb, workdir, limits, record)
    outcome, at = "done", None
    started = time.monotonic()
    try:
        client.execute()
    except CellTimeoutError:
        outcome, at = "timeout", record["current"]
    except DeadKernelError:
        outcome, at = "dead", record["current"]
    except Exception as err:  # kernel failed to start, etc.
        outcome, at = "error", record["current"]
        record["error"] = f"{type(err).__name__}: {err}"[:500]
    return {
        "outcome": outcome,
        "cell": at,
        "status": {str(k): v for k, v in record["status"].items()},
        "truncated": sorted(record["truncated"]),
        "error": record.get("error", ""),
        "seconds": round(time.monotonic() - started, 2),
        "notebook": nb,
    }


def main() -> int:
    request = json.loads(sys.stdin.buffer.read())
    # The reply channel: the original stdout, kept on a private fd no child inherits.
    reply_fd = os.dup(1)
    os.set_inheritable(reply_fd, False)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    try:
        reply = run(request)
    except Exception as err:
        reply = {"outcome": "error", "cell": None, "status": {}, "error": f"{type(err).__name__}: {err}"[:500]}
    data = json.dumps(reply).encode()
    with os.fdopen(reply_fd, "wb") as out:
        out.write(data)
    return 0  # we are pid 1 of the namespace: whatever learner code left behind dies with us


if __name__ == "__main__":
    sys.exit(main())
