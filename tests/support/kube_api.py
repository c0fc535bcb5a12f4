"""A stand-in for the Kubernetes API server on loopback, for what the grading service asks of it.

No cluster can be had here, so this serves the few core/v1 calls the grading client makes (create,
read and delete a Secret and a Pod, read a pod's status and log) with the API's paths and objects, and
runs each pod for real with `podman kube play` (its Secret with it, the pod without network, as the
deny-all NetworkPolicy would have it). What it does not do: admission, RBAC, scheduling, watch.
"""

from __future__ import annotations

import asyncio
import base64
import json
import tempfile
import threading
from pathlib import Path

import yaml
from tornado import web

API = r"/api/v1/namespaces/([\w-]+)"


def status(code: int, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure" if code >= 400 else "Success",
            "message": message, "code": code}


class Cluster:
    """The objects created through the API, and the podman engine that runs the pods."""

    def __init__(self, engine, folder: Path):
        self.engine, self.folder = engine, folder
        self.secrets: dict[tuple[str, str], dict] = {}
        self.pods: dict[tuple[str, str], dict] = {}
        self.calls: list[tuple[str, str]] = []  # (method, path): what the client asked
        self.volumes: dict[str, list[str]] = {}  # pod -> the podman volumes made for it

    def play(self, pod: dict) -> str:
        """Run the pod with podman, made to keep Kubernetes' meaning: podman 4.3 crashes on Secret volumes
        (each is given to it as a ConfigMap of the files it selects, same mode and mount) and makes an emptyDir a
        named volume shared by every pod using the same volume name (each gets the pod's name in front, and
        is removed with the pod)."""
        name, ns = pod["metadata"]["name"], pod["metadata"]["namespace"]
        pod, maps = json.loads(json.dumps(pod)), []
        renamed = {v["name"]: f"{name}-{v['name']}" for v in pod["spec"].get("volumes", []) if "emptyDir" in v}
        for volume in pod["spec"].get("volumes", []):
            volume["name"] = renamed.get(volume["name"], volume["name"])
        for container in pod["spec"]["containers"]:
            for mount in container.get("volumeMounts", []):
                mount["name"] = renamed.get(mount["name"], mount["name"])
        self.volumes[name] = list(renamed.values())
        for volume in pod["spec"].get("volumes", []):
            if "secret" in volume:
                source = volume.pop("secret")
                secret = self.secrets.get((ns, source["secretName"]))
                if secret is None:
                    return f'secret "{source["secretName"]}" not found'
                files = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
                if "items" in source:  # the keys chosen, under their paths
                    files = {item["path"]: files[item["key"]] for item in source["items"]}
                map_name = f"{name}-{volume['name']}"
                maps.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": map_name}, "data": files})
                volume["configMap"] = {"name": map_name, "defaultMode": source.get("defaultMode", 0o644)}
                self.volumes[name].append(map_name)
        kube = self.folder / f"{name}.yaml"
        kube.write_text(yaml.safe_dump_all([*maps, pod]))
        played = self.engine.run("kube", "play", "--network", "none", str(kube), check=False, timeout=300)
        return "" if played.returncode == 0 else (played.stdout + played.stderr)[-2000:]

    def phase(self, name: str) -> str:
        state = self.engine.run("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", f"{name}-runner",
                                check=False)
        if state.returncode:
            return "Pending"
        running, code = state.stdout.split()
        return {"exited": "Succeeded" if code == "0" else "Failed", "running": "Running"}.get(running, "Pending")

    def log(self, name: str) -> str:
        return self.engine.run("logs", f"{name}-runner", check=False).stdout

    def down(self, name: str) -> None:
        kube = self.folder / f"{name}.yaml"
        if kube.exists():
            self.engine.run("kube", "down", str(kube), check=False, timeout=120)
        for volume in self.volumes.pop(name, []):
            self.engine.run("volume", "rm", "--force", volume, check=False)


class Handler(web.RequestHandler):
    def initialize(self, cluster: Cluster):
        self.cluster = cluster

    def prepare(self):
        self.cluster.calls.append((self.request.method, self.request.path))

    def reply(self, code: int, body: dict | str):
        self.set_status(code)
        if isinstance(body, str):
            self.set_header("Content-Type", "text/plain")
        self.finish(body if isinstance(body, str) else json.dumps(body))


class Secrets(Handler):
    def post(self, ns):
        secret = json.loads(self.request.body)
        key = (ns, secret["metadata"]["name"])
        if key in self.cluster.secrets:
            return self.reply(409, status(409, f'secrets "{key[1]}" already exists'))
        self.cluster.secrets[key] = secret
        self.reply(201, secret)


class OneSecret(Handler):
    def delete(self, ns, name):
        if self.cluster.secrets.pop((ns, name), None) is None:
            return self.reply(404, status(404, f'secrets "{name}" not found'))
        self.reply(200, status(200, "deleted"))


class Pods(Handler):
    async def post(self, ns):
        pod = json.loads(self.request.body)
        key = (ns, pod["metadata"]["name"])
        if key in self.cluster.pods:
            return self.reply(409, status(409, f'pods "{key[1]}" already exists'))
        error = await asyncio.to_thread(self.cluster.play, pod)
        if error:
            return self.reply(422, status(422, error))
        self.cluster.pods[key] = pod
        self.reply(201, {**pod, "status": {"phase": "Pending"}})


class OnePod(Handler):
    async def get(self, ns, name, what=None):
        pod = self.cluster.pods.get((ns, name))
        if pod is None:
            return self.reply(404, status(404, f'pods "{name}" not found'))
        if what == "/log":
            return self.reply(200, await asyncio.to_thread(self.cluster.log, name))
        self.reply(200, {**pod, "status": {"phase": await asyncio.to_thread(self.cluster.phase, name)}})

    async def delete(self, ns, name, what=None):
        pod = self.cluster.pods.pop((ns, name), None)
        if pod is None:
            return self.reply(404, status(404, f'pods "{name}" not found'))
        await asyncio.to_thread(self.cluster.down, name)
        self.reply(200, pod)


def serve(cluster: Cluster, port: int) -> callable:
    """Serve on 127.0.0.1:port in a thread of its own; returns the function that stops it."""
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def main():
        asyncio.set_event_loop(loop)
        app = web.Application([
            (API + "/secrets", Secrets, {"cluster": cluster}),
            (API + r"/secrets/([\w.-]+)", OneSecret, {"cluster": cluster}),
            (API + "/pods", Pods, {"cluster": cluster}),
            (API + r"/pods/([\w.-]+)(/status|/log)?", OnePod, {"cluster": cluster}),
        ])
        server = app.listen(port, address="127.0.0.1")
        loop.call_soon(started.set)
        loop.run_forever()
        server.stop()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    started.wait(10)

    def stop():
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    return stop


def kubeconfig(port: int, folder: Path) -> Path:
    path = Path(tempfile.mkstemp(prefix="kubeconfig-", dir=folder)[1])
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "stand-in",
        "clusters": [{"name": "stand-in", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "users": [{"name": "grading", "user": {"token": "not-checked"}}],
        "contexts": [{"name": "stand-in", "context": {"cluster": "stand-in", "user": "grading",
                                                       "namespace": "formation"}}],
    }))
    return path
