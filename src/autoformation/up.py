"""`autoformation up`: start the whole platform on this machine, stop it all on Ctrl-C.

Starts the embedded identity provider (unless a real Keycloak is configured) and JupyterHub,
which starts its proxy and, on demand, the learners' servers. Logs go to DATA/logs/.

As root with the local backend (a real class), only what needs root keeps it: the hub, its proxy and
its book and culler services run as the system account `autoformation`; `up` also starts, as root, the
grading service (per-sandbox uids and cgroups) and the helper that creates learners' accounts and starts
their servers as them (spawners/helper.py). See SECURITY.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from . import identity
from .errors import StartupError
from .names import CONFIG_ENV, GRADING_SERVICE, GRADING_TOKEN_ENV, HUB_STATE_ENV
from .settings import PROJECT_ROOT, Settings, SettingsError, load
from .spawners import accounts

HUB_CONFIG = PROJECT_ROOT / "hub_config" / "jupyterhub_config.py"


def _release_courses(settings: Settings) -> None:
    from .courses.command import main as courses_main

    if courses_main(["release", "--config", settings.source]) != 0:
        raise StartupError("releasing the courses failed (see above); fix the course or use --skip-release")
    from .challenges.command import main as challenges_main

    if challenges_main(["release", "--config", settings.source]) != 0:
        raise StartupError("releasing the challenges failed (see above); fix the challenge or use --skip-release")


def _build_book(settings: Settings) -> None:
    from .book import main as book_main

    print("Building the companion book (notebooks already executed are cached)...", flush=True)
    if book_main(["build", "--config", settings.source]) != 0:
        # The platform is still useful without its book: /services/book/ says it is not built yet.
        print("warning: the book could not be built (see above); the platform starts without it", file=sys.stderr)


def _wait_for_hub(url: str, hub: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
            raise StartupError(f"JupyterHub stopped at start-up (exit code {hub.returncode}):\n{tail}")
        try:
            with urllib.request.urlopen(f"{url}/hub/health", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise StartupError(f"JupyterHub did not answer at {url} within {timeout:.0f} s; see {log}")


def _stop(proc: subprocess.Popen | None, timeout: float = 10) -> None:
    """Stop a process and everything it started (JupyterHub's services and learners' servers run in
    sessions of their own, so a process group is not enough): nothing of ours outlives `up`."""
    import psutil

    if proc is None or proc.poll() is not None:
        return
    try:
        tree = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        tree = []
    proc.send_signal(signal.SIGTERM)  # JupyterHub then stops the learners' servers and its proxy
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    tree = [p for p in tree if p.is_running()]
    for child in tree:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(tree, timeout=3)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()


def _stop_orphan_proxy(pid_file: Path) -> None:
    """A hub that crashed at start-up leaves its proxy running: stop it too."""
    try:
        pid = int(pid_file.read_text())
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        pass


def _hub_state(settings: Settings, account) -> Path:
    """DATA/hub: the unprivileged hub's own files (its database and cookie secret), its account's alone."""
    state = settings.data_dir / "hub"
    state.mkdir(exist_ok=True)
    for name in ("jupyterhub.sqlite", "jupyterhub_cookie_secret"):  # from a hub that ran as root before
        if (settings.data_dir / name).is_file() and not (state / name).exists():
            shutil.move(settings.data_dir / name, state / name)
    for path in [state, *state.iterdir()]:
        if not path.is_symlink():
            os.chown(path, account.pw_uid, account.pw_gid)
    os.chmod(state, 0o700)
    return state


def _start_helper(settings: Settings, logs: Path, env: dict) -> tuple[subprocess.Popen, Path]:
    """As root: the helper that creates learners' accounts and starts their servers (spawners/helper.py)."""
    sock = settings.data_dir / "run" / "helper.sock"
    helper = subprocess.Popen([sys.executable, "-m", "autoformation.spawners.helper", "--socket", str(sock)],
                              env=env, stdin=subprocess.DEVNULL, stdout=(logs / "helper.log").open("ab"),
                              stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while not sock.exists():
        if helper.poll() is not None or time.monotonic() > deadline:
            raise StartupError(f"the platform's helper did not start; see {logs / 'helper.log'}")
        time.sleep(0.1)
    return helper, sock


def _start_grading(settings: Settings, logs: Path, env: dict, token: str) -> subprocess.Popen:
    """As root (each sandbox gets a uid and a cgroup of its own): the grading service, with the environment
    JupyterHub gives a service (it is external to the hub, which is not root)."""
    platform = settings.platform
    prefix = f"/services/{GRADING_SERVICE}/"
    scopes = json.dumps(["access:services", f"access:services!service={GRADING_SERVICE}"])
    return subprocess.Popen(
        [sys.executable, "-m", "autoformation.grading.service"], cwd=settings.data_dir, stdin=subprocess.DEVNULL,
        stdout=(logs / "grading.log").open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        env=dict(env, JUPYTERHUB_SERVICE_NAME=GRADING_SERVICE, JUPYTERHUB_API_TOKEN=token,
                 JUPYTERHUB_API_URL=f"http://127.0.0.1:{platform.hub_port}/hub/api", JUPYTERHUB_BASE_URL="/",
                 JUPYTERHUB_SERVICE_URL=f"http://127.0.0.1:{settings.grading.port}", JUPYTERHUB_SERVICE_PREFIX=prefix,
                 JUPYTERHUB_CLIENT_ID=f"service-{GRADING_SERVICE}",
                 JUPYTERHUB_OAUTH_CALLBACK_URL=f"{prefix}oauth_callback",
                 JUPYTERHUB_OAUTH_SCOPES=scopes, JUPYTERHUB_OAUTH_ACCESS_SCOPES=scopes,
                 JUPYTERHUB_PUBLIC_URL=f"{platform.url()}{prefix}", JUPYTERHUB_PUBLIC_HUB_URL=f"{platform.url()}/hub/"))


def _banner(settings: Settings) -> str:
    lines = ["", f"  Autoformation is up: {settings.platform.url()}", ""]
    if settings.identity.provider == "embedded":
        lines.append("  Demo accounts (embedded identity provider):")
        for user, password, groups in identity.demo_accounts(settings.realm_file):
            lines.append(f"    {user:<8} password {password:<10} groups: {', '.join(groups) or '-'}")
    else:
        lines.append(f"  Sign-in: Keycloak at {settings.identity.issuer(settings.platform)}")
    lines += ["", f"  Logs: {settings.data_dir / 'logs'}", "  Stop with Ctrl-C.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autoformation up", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="settings file (default: hub_config/settings.yaml)")
    parser.add_argument("--skip-release", action="store_true", help="do not release the courses and challenges first")
    parser.add_argument("--skip-book", action="store_true", help="do not build the companion book first")
    args = parser.parse_args(argv)
    provider = hub = helper = grading = None
    try:
        settings = load(args.config)
        logs = settings.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        if not args.skip_release:
            _release_courses(settings)
        if not args.skip_book:
            _build_book(settings)
        if settings.spawner.backend == "local" and accounts.available():
            # One Unix account per learner: close the platform's files to them before any server starts,
            # and let nothing the hub or its services create later be readable by others.
            accounts.lock_down(settings, PROJECT_ROOT)
            os.umask(0o077)
        # Ctrl-C and `kill` both end in the `finally` below, which stops what we started.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        if settings.identity.provider == "embedded":
            provider = identity.start_embedded(settings, (logs / "identity.log").open("ab"))
        hub_log = logs / "jupyterhub.log"
        env = dict(
            os.environ,
            **{CONFIG_ENV: str(Path(settings.source).resolve())},
            # Tools of this environment (nbgrader calls alembic, the spawner jupyterhub-singleuser).
            PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        )
        hub_env, hub_cwd, become = env, settings.data_dir, None
        if settings.spawner.backend == "local" and accounts.available():
            account = accounts.ensure_platform_account()
            state = _hub_state(settings, account)
            from .spawners.helper import HELPER_ENV

            helper, sock = _start_helper(settings, logs, env)
            grading_token = secrets.token_hex(32)
            grading = _start_grading(settings, logs, env, grading_token)
            hub_env = dict(env, HOME=str(state), **{HUB_STATE_ENV: str(state), HELPER_ENV: str(sock),
                                                    GRADING_TOKEN_ENV: grading_token},
                           AUTOFORMATION_OIDC_CLIENT_SECRET=settings.client_secret())
            hub_cwd, become = state, accounts.becoming(account, own_group_only=True)  # nothing of root's
        hub = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(HUB_CONFIG)],
            cwd=hub_cwd,
            env=hub_env,
            preexec_fn=become,
            # Never this terminal's input: a Jupyter server that inherits a tty asks "Shut down? (y/[n])" on
            # SIGINT instead of stopping (the hub stops learners' servers with SIGINT first).
            stdin=subprocess.DEVNULL,
            stdout=hub_log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_for_hub(settings.platform.url(), hub, hub_log)
        print(_banner(settings), flush=True)
        while hub.poll() is None:
            if grading is not None and grading.poll() is not None:  # ours to keep up (the hub cannot)
                print(f"the grading service stopped (exit code {grading.returncode}); starting it again",
                      file=sys.stderr, flush=True)
                grading = _start_grading(settings, logs, env, grading_token)
            time.sleep(1)
        print(f"JupyterHub stopped (exit code {hub.returncode}); see {hub_log}", file=sys.stderr)
        return hub.returncode or 1
    except (SettingsError, StartupError) as err:
        print(f"autoformation up: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
        return 0
    finally:
        _stop(grading, timeout=5)  # stops within a second whatever it grades (queued again at the next start)
        _stop(hub)
        _stop(helper, timeout=10)  # after the hub: the hub stopped the learners' servers through it
        _stop(provider, timeout=5)
        if hub is not None:
            for state in (settings.data_dir / "hub", settings.data_dir):
                _stop_orphan_proxy(state / "proxy.pid")
