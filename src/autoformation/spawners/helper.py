"""The root helper of the local backend: what the hub may not do itself, done for it, checked.

When `autoformation up` runs as root, the hub runs as the unprivileged system account `autoformation`
(like its proxy and services). What needs root to serve a learner goes through this small process,
started by `up` as root, listening on a Unix socket only the `autoformation` group can open (and whose
peer is checked): create the learner's account and home, put it in its Funathon teams' groups, bring the
course material in and link the team folders *as the learner*, start the learner's server as the learner
(at a lower CPU priority, umask 077), and signal only processes it started as that learner. It takes
user names, never paths or commands: homes, the release, the server's program come from its own settings;
the hub gives only the server's `--` arguments and its environment (the learner's own process). This is
sudospawner's idea (a mediator between an unprivileged hub and learners' accounts) without sudo.

Protocol: one JSON request per connection, one JSON reply ({"error": ...} on refusal).
"""

from __future__ import annotations

import argparse
import asyncio
import grp
import json
import logging
import os
import pwd
import signal
import socket
import struct
import subprocess
import sys
from pathlib import Path

from ..courses import workcopy
from ..settings import Settings, load
from . import accounts

HELPER_ENV = "AUTOFORMATION_HELPER_SOCKET"
MAX_REQUEST = 1024 * 1024
log = logging.getLogger("autoformation.helper")


class Refused(ValueError):
    pass


# --- client (in the hub) -----------------------------------------------------------------------------
async def call(socket_path: str, request: dict, timeout: float = 300) -> dict:
    reader, writer = await asyncio.open_unix_connection(socket_path, limit=MAX_REQUEST)
    try:
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        reply = json.loads(await asyncio.wait_for(reader.readline(), timeout))
    finally:
        writer.close()
    if "error" in reply:
        raise RuntimeError(f"the platform's helper refused {request.get('action')}: {reply['error']}")
    return reply


def check_name(name) -> None:
    """A hub user or group name, used as a folder name under the platform's data: one path component."""
    if not isinstance(name, str) or not name or len(name) > 255 or name in (".", "..") or "/" in name or "\0" in name:
        raise Refused(f"bad name {name!r}")


# --- server (root) -----------------------------------------------------------------------------------
class Helper:
    def __init__(self, settings: Settings, server_cmd: list[str], niceness: int):
        self.settings, self.server_cmd, self.niceness = settings, server_cmd, niceness
        self.servers: dict[int, subprocess.Popen] = {}

    def learner(self, name) -> pwd.struct_passwd:
        check_name(name)
        try:
            return pwd.getpwnam(accounts.system_name(name))
        except KeyError:
            raise Refused(f"no account for {name!r}") from None

    def home(self, name: str) -> Path:
        return self.settings.homes_dir / name

    async def as_learner(self, account: pwd.struct_passwd, *cmd: str, env: dict | None = None,
                         stdin: bytes | None = None) -> str:
        env = env or {"PATH": "/usr/bin:/bin", "HOME": account.pw_dir}
        proc = await asyncio.create_subprocess_exec(
            *cmd, preexec_fn=accounts.becoming(account), cwd=account.pw_dir, env=env,
            stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await proc.communicate(stdin)
        if proc.returncode:
            raise RuntimeError(f"{cmd[0]} as {account.pw_name} failed: {out.decode(errors='replace')[-300:]}")
        return out.decode(errors="replace")

    async def prepare(self, request: dict) -> dict:
        """The learner's account and home, their teams, the material and the team links (idempotent)."""
        name, teams = request.get("user"), request.get("teams", [])
        check_name(name)
        if not isinstance(teams, list) or not all(isinstance(t, str) for t in teams):
            raise Refused("expected {user, teams}")
        for team in teams:
            check_name(team)
        prefix = self.settings.challenges.team_prefix
        teams = [t for t in teams if t.startswith(prefix)]
        account = await asyncio.to_thread(accounts.ensure, name, self.home(name))
        groups = [(await asyncio.to_thread(accounts.ensure_team_folder, t, self.settings.teams_dir))[1] for t in teams]
        await asyncio.to_thread(accounts.set_teams, name, groups)
        account = pwd.getpwnam(account.pw_name)
        report = await self.as_learner(account, sys.executable, "-m", "autoformation.material",
                                       str(self.settings.release_dir), account.pw_dir)
        for team in teams:
            await self.as_learner(account, "ln", "-sfn", str(self.settings.teams_dir / team),
                                  str(Path(account.pw_dir) / team))
        if request.get("trainer") is True:  # the hub says who trainers are, as it does for everything else
            sources = await asyncio.to_thread(workcopy.pack, self.settings.courses_dir)
            await self.as_learner(account, sys.executable, "-m", "autoformation.courses.workcopy", "receive",
                                  str(Path(account.pw_dir) / workcopy.SOURCES), stdin=sources)
        return {"material": report.strip()[-500:]}

    async def spawn(self, request: dict) -> dict:
        account = self.learner(request.get("user"))
        args, env = request.get("args"), request.get("env")
        if not (isinstance(args, list) and all(isinstance(a, str) and a.startswith("--") for a in args)):
            raise Refused("the server's arguments must be options")
        if not (isinstance(env, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())):
            raise Refused("bad environment")
        become = accounts.becoming(account, niceness=self.niceness, umask=0o077)  # the learner's files: theirs
        proc = subprocess.Popen([*self.server_cmd, *args], env=env, cwd=account.pw_dir, preexec_fn=become,
                                start_new_session=True, stdin=subprocess.DEVNULL)
        self.servers[proc.pid] = proc
        log.info("started %s's server (pid %d)", request["user"], proc.pid)
        return {"pid": proc.pid}

    def signal(self, request: dict) -> dict:
        """Signal the learner's server (0: is it alive?); only a process running as that learner."""
        account, pid, sig = self.learner(request.get("user")), request.get("pid"), request.get("signal")
        if not isinstance(pid, int) or sig not in (0, signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            raise Refused("bad pid or signal")
        proc = self.servers.get(pid)
        if proc is not None and proc.poll() is not None:  # ended: reaped here
            del self.servers[pid]
            return {"alive": False}
        try:
            uid = int(Path(f"/proc/{pid}/status").read_text().split("\nUid:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            return {"alive": False}
        if uid != account.pw_uid:  # not (or no longer) that learner's: never signalled
            return {"alive": False}
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return {"alive": False}
        return {"alive": True}

    def stop_all(self) -> None:
        for proc in self.servers.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.servers.values():
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, allowed: set[int]) -> None:
        sock = writer.get_extra_info("socket")
        _, uid, _ = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
        request = None
        try:
            if uid not in allowed:
                raise Refused(f"uid {uid} may not use the helper")
            request = json.loads(await reader.readline())
            action = request.get("action") if isinstance(request, dict) else None
            if action == "prepare":
                reply = await self.prepare(request)
            elif action == "spawn":
                reply = await self.spawn(request)
            elif action == "signal":
                reply = self.signal(request)
            else:
                raise Refused(f"unknown action {action!r}")
        except (Refused, ValueError) as err:
            reply = {"error": str(err)}
        except Exception as err:  # noqa: BLE001 - the hub shows it; the helper keeps serving
            log.exception("helper: %s failed", request.get("action") if isinstance(request, dict) else "?")
            reply = {"error": f"{type(err).__name__}: {err}"}
        writer.write(json.dumps(reply).encode() + b"\n")
        await writer.drain()
        writer.close()


async def serve(settings: Settings, socket_path: Path, server_cmd: list[str], niceness: int) -> None:
    helper = Helper(settings, server_cmd, niceness)
    platform = pwd.getpwnam(accounts.PLATFORM_USER)
    allowed = {0, platform.pw_uid}
    socket_path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    os.chown(socket_path.parent, 0, platform.pw_gid)
    os.chmod(socket_path.parent, 0o750)
    socket_path.unlink(missing_ok=True)
    server = await asyncio.start_unix_server(lambda r, w: helper.handle(r, w, allowed), path=str(socket_path),
                                             limit=MAX_REQUEST)
    os.chown(socket_path, 0, grp.getgrgid(platform.pw_gid).gr_gid)
    os.chmod(socket_path, 0o660)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"helper listening on {socket_path}", flush=True)
    async with server:
        await stop.wait()
    helper.stop_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autoformation.spawners.helper")
    parser.add_argument("--socket", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(levelname)1.1s %(asctime)s helper] %(message)s")
    if os.geteuid() != 0:
        print("the helper runs as root (it is started by `autoformation up`)", file=sys.stderr)
        return 2
    settings = load()
    server_cmd = [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
    asyncio.run(serve(settings, Path(args.socket), server_cmd, settings.spawner.niceness))
    return 0


if __name__ == "__main__":
    sys.exit(main())
