"""The 9:00 rush (run: `make bench`, or `python benchmarks/spawn_storm.py [-n 24] [--backend docker]`).

Starts the platform (local backend, or docker with Podman's Docker API and the ml course's image built
by `autoformation images build`, cached) on free loopback ports with N learners in its realm, signs them
in with the real browser, then asks for all their servers at once through the hub's REST API, as
their browsers would, while probing the hub's own API every 200 ms. Three runs on the same platform:

1. uncontended: one learner alone (the reference for "close to the uncontended time");
2. limits off: every server starts at once at the learners' CPU priority of the hub (today's hub);
3. limits on: the platform's defaults (`spawner.concurrent_starts`, `spawner.niceness`).

Prints each learner's time to ready (p50, p95, last), failures, the hub API's latency (p50, p99) and
the CPU-seconds one start costs, each with its ratio to the baseline measured in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from autoformation.spawners import accounts  # noqa: E402

REALM = ROOT / "hub_config" / "keycloak" / "realm-autoformation.json"
PASSWORD = "formation"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


class Platform:
    def __init__(self, root: Path, learners: list[str], env: dict | None = None):
        self.root, self.learners, self.env = root, learners, env or {}
        realm = json.loads(REALM.read_text())
        realm["users"] += [{"username": n, "enabled": True, "firstName": n, "lastName": "Banc", "emailVerified": True,
                            "email": f"{n}@example.org", "groups": ["/learners"],
                            "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}]}
                           for n in learners]
        (root / "realm.json").write_text(json.dumps(realm))
        release = root / "data" / "release" / "ml" / "01-decouverte"
        release.mkdir(parents=True)
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("1 + 1")]
        nbformat.write(nb, release / "bienvenue.ipynb")
        self.port = free_port()
        self.ports = {"hub_port": free_port(), "proxy_api_port": free_port(), "embedded_port": free_port(),
                      "grading": free_port(), "book": free_port()}
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self, spawner: dict) -> None:
        settings = {
            "platform": {"port": self.port, "hub_port": self.ports["hub_port"], "data_dir": str(self.root / "data"),
                         "proxy_api_port": self.ports["proxy_api_port"]},
            "identity": {"provider": "embedded", "realm_file": str(self.root / "realm.json"),
                         "embedded_port": self.ports["embedded_port"]},
            "culler": {"enabled": False},
            "grading": {"port": self.ports["grading"]},
            "book": {"port": self.ports["book"]}, "spawner": spawner,
            "courses": {"source_dir": str(ROOT / "courses")},
        }
        (self.root / "settings.yaml").write_text(yaml.safe_dump(settings))
        log = self.root / "up.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autoformation.cli", "up", "--config", str(self.root / "settings.yaml"),
             "--skip-release", "--skip-book"], stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, **self.env})
        deadline = time.monotonic() + 180
        while "Autoformation is up" not in log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the platform did not start:\n{log.read_text()}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(2)
            self.proc.wait(120)


def sign_in_all(platform: Platform) -> dict[str, dict]:
    """Each learner signs in through the identity provider's form in the real browser."""
    from playwright.sync_api import sync_playwright

    sessions = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for name in platform.learners:
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{platform.url}/hub/login?next=/hub/home")
            page.click("#sign-in")
            page.fill("#username", name)
            page.fill("#password", PASSWORD)
            page.click("#kc-login")
            page.wait_for_url("**/hub/home", timeout=60_000)
            sessions[name] = {c["name"]: c["value"] for c in context.cookies() if c["path"] in ("/", "/hub/")}
            context.close()
        browser.close()
    return sessions


def api(platform: Platform, cookies: dict, path: str, method: str = "GET", timeout: float = 300, body=None):
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if method != "GET":
        headers["X-XSRFToken"] = cookies["_xsrf"]
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(f"{platform.url}/hub/api{path}", method=method, headers=headers, data=data)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read()
        return response.status, json.loads(body) if body else None


def server_usage(names: set[str]) -> tuple[list[float], list[float]]:
    """CPU-seconds used so far and resident memory (MB) of each learner's server (process and children;
    in a container, its processes as this machine sees them)."""
    cpu, rss = {}, {}
    for proc in psutil.process_iter(["environ", "cpu_times", "memory_info"]):
        env = proc.info["environ"] or {}
        user = env.get("JUPYTERHUB_USER") if env.get("JUPYTERHUB_API_TOKEN") else None
        if user in names and proc.info["cpu_times"] is not None:
            t = proc.info["cpu_times"]
            cpu[user] = cpu.get(user, 0.0) + t.user + t.system
            rss[user] = rss.get(user, 0.0) + proc.info["memory_info"].rss / 2**20
    return list(cpu.values()), list(rss.values())


def docker_engine(root: Path):
    """Podman's Docker API on a socket, with the ml image built (cached, as tests/test_images.py does)."""
    from autoformation import images

    release = root / "ml-release"
    shutil.copytree(ROOT / "courses" / "ml" / "source", release / "ml")
    print("Building (or reusing) the ml image...", flush=True)
    subprocess.run([sys.executable, "-m", "autoformation.cli", "images", "build", "ml", "--local-podman", "--host-ca",
                    "--no-registry-tag", "--release-dir", str(release)], check=True, stdout=subprocess.DEVNULL)
    engine = images.find_engine(ROOT / "data" / "containers", prefer_local_podman=True)
    sock = root / "podman.sock"
    service = subprocess.Popen([*engine.command, "system", "service", "--time=0", f"unix://{sock}"],
                               env=engine.environ(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not sock.exists():
        time.sleep(0.1)
    return engine, service, f"unix://{sock}"


def storm(platform: Platform, sessions: dict[str, dict], names: list[str], body: dict | None = None) -> dict:
    ready, failures, refused = {}, [], []
    latencies, done = [], threading.Event()
    probe_cookies = sessions[names[0]]

    def probe() -> None:
        while not done.is_set():
            start = time.perf_counter()
            try:
                api(platform, probe_cookies, f"/users/{names[0]}", timeout=30)
                latencies.append(time.perf_counter() - start)
            except OSError:
                pass
            done.wait(0.2)

    def ask(name: str, t0: float) -> None:
        try:
            api(platform, sessions[name], f"/users/{name}/server", "POST", body=body)
        except urllib.error.HTTPError as err:
            if err.code == 429:
                refused.append(name)
            failures.append(f"{name}: {err}")
            return
        except OSError as err:
            failures.append(f"{name}: {err}")
            return
        # What the pending page listens to: the spawn's progress events, the last one says "ready".
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in sessions[name].items())}
        request = urllib.request.Request(f"{platform.url}/hub/api/users/{name}/server/progress", headers=headers)
        with urllib.request.urlopen(request, timeout=900) as stream:
            for line in stream:
                if line.startswith(b"data:"):
                    event = json.loads(line[5:])
                    if event.get("ready"):
                        ready[name] = time.monotonic() - t0
                        return
                    if event.get("failed"):
                        failures.append(f"{name}: {event.get('message')}")
                        return
        failures.append(f"{name}: the progress stream ended without the server being ready")

    prober = threading.Thread(target=probe)
    prober.start()
    time.sleep(1)
    t0 = time.monotonic()
    threads = [threading.Thread(target=ask, args=(n, t0)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(900)
    cpu, rss = server_usage(set(names))
    done.set()
    prober.join()
    for name in names:  # stop them all before the next run
        try:
            api(platform, sessions[name], f"/users/{name}/server", "DELETE")
        except OSError:
            pass
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and any(
            api(platform, sessions[n], f"/users/{n}")[1]["servers"] for n in names):
        time.sleep(0.5)
    times = [ready[n] for n in names if n in ready]
    return {"times": times, "order": [n for n in sorted(ready, key=ready.get)], "failures": failures,
            "refused": refused, "api": latencies, "cpu": cpu, "rss": rss}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=24, help="learners asking at once (default 24)")
    parser.add_argument("--starts", type=int, help="spawner.concurrent_starts for run 3 (default: the settings')")
    parser.add_argument("--backend", choices=["local", "docker"], default="local")
    args = parser.parse_args()
    learners = [f"banc{i:02d}" for i in range(1, args.n + 1)]
    root = Path(tempfile.mkdtemp(prefix="af-storm-"))
    os.chmod(root, 0o711)  # learners' accounts (as root) reach their homes through it
    results, engine, service, body, platform = {}, None, None, None, None
    base = {"backend": args.backend}
    try:
        env = {}
        if args.backend == "docker":
            from autoformation.catalogue import load_catalogue

            engine, service, host = docker_engine(root)
            env = {"DOCKER_HOST": host}
            body = {"image": next(c.title for c in load_catalogue(ROOT / "courses") if c.image == "ml")}
        platform = Platform(root, learners, env)
        defaults = {**base, **({"concurrent_starts": args.starts} if args.starts else {})}
        platform.start(defaults)
        print(f"Signing in {args.n} learners in the browser...", flush=True)
        sessions = sign_in_all(platform)
        print("Run 1/3: one learner alone (3 times)", flush=True)
        alone = [storm(platform, sessions, [learners[0]], body) for _ in range(3)]
        results["alone"] = {"times": [r["times"][0] for r in alone if r["times"]], "api": alone[0]["api"],
                            "cpu": [c for r in alone for c in r["cpu"]], "failures": alone[0]["failures"],
                            "refused": [], "rss": []}
        if not results["alone"]["times"]:
            raise SystemExit(f"a learner alone could not start: {alone[0]['failures']}\n"
                             f"(see {platform.root / 'data' / 'logs' / 'jupyterhub.log'})")
        platform.stop()
        platform.start({**base, "concurrent_starts": args.n, "niceness": 0})
        print(f"Run 2/3: {args.n} at once, limits off", flush=True)
        results["off"] = storm(platform, sessions, learners, body)
        platform.stop()
        platform.start(defaults)
        print(f"Run 3/3: {args.n} at once, the platform's defaults", flush=True)
        results["on"] = storm(platform, sessions, learners, body)
    finally:
        if platform is not None:
            platform.stop()
        if accounts.available():
            accounts.remove_under(root / "data" / "homes")
        if service is not None:
            service.terminate()
            service.wait(30)
            volumes = [f"autoformation-home-{n}" for n in learners]
            engine.run("volume", "rm", "--force", *volumes, check=False)
        if not os.environ.get("KEEP_STORM"):
            shutil.rmtree(root, ignore_errors=True)

    alone = statistics.median(results["alone"]["times"])
    off, on = results["off"], results["on"]
    print(f"\nSpawn storm, {args.backend} backend, {args.n} learners, {os.cpu_count()} cores")
    print(f"  uncontended start (median of 3)            {alone:6.1f} s  (1.00x)")
    for label, run in (("limits off", off), ("defaults", on)):
        t = run["times"]
        p50, p95, last = percentile(t, 0.5), percentile(t, 0.95), max(t) if t else float("nan")
        base = percentile(off["times"], 0.5)
        print(f"  {label:<11} first {min(t):5.1f} s ({min(t) / alone:.2f}x alone)  p50 {p50:5.1f} s "
              f"({p50 / base:.2f}x off's p50)  p95 {p95:5.1f} s  last {last:5.1f} s "
              f"({last / max(off['times']):.2f}x off's)  ready {len(t)}/{args.n}  "
              f"failures {len(run['failures'])}  429s {len(run['refused'])}")
    base99 = percentile(off["api"], 0.99)
    for label, run in (("alone", results["alone"]), ("limits off", off), ("defaults", on)):
        print(f"  hub API during {label:<11} p50 {percentile(run['api'], 0.5) * 1000:6.0f} ms  "
              f"p99 {percentile(run['api'], 0.99) * 1000:6.0f} ms ({percentile(run['api'], 0.99) / base99:.2f}x off)")
    cpu_alone = statistics.median(results["alone"]["cpu"]) if results["alone"]["cpu"] else float("nan")
    print(f"  CPU-seconds per start: alone {cpu_alone:.2f} s, in the storm (defaults) "
          f"{statistics.median(on['cpu']) if on['cpu'] else float('nan'):.2f} s")
    if on["rss"]:
        print(f"  memory per server at ready (defaults): median {statistics.median(on['rss']):.0f} MB, "
              f"max {max(on['rss']):.0f} MB")
    for label, run in (("limits off", off), ("defaults", on)):
        for failure in run["failures"]:
            print(f"  {label} failure: {failure}")
    return 0 if not off["failures"] and not on["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
