"""The embedded identity provider: npm's `oidc-provider` serving the Keycloak realm export.

Used when `identity.provider` is `embedded` (one machine, no Keycloak). It listens on loopback
with Keycloak's URL layout, so the hub is configured exactly as for a real Keycloak.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from .errors import StartupError
from .settings import PROJECT_ROOT, Settings

SERVER = PROJECT_ROOT / "hub_config" / "oidc" / "server.mjs"


def demo_accounts(realm_file: Path) -> list[tuple[str, str, list[str]]]:
    """(username, password, groups) of the realm's users that have a plain demo password."""
    realm = json.loads(Path(realm_file).read_text())
    accounts = []
    for user in realm.get("users", []):
        passwords = [c["value"] for c in user.get("credentials", []) if c.get("type") == "password" and "value" in c]
        groups = [g.rsplit("/", 1)[-1] for g in user.get("groups", [])]
        if passwords:
            accounts.append((user["username"], passwords[0], groups))
    return accounts


def start_embedded(settings: Settings, log_file) -> subprocess.Popen:
    node = shutil.which("node")
    if not node:
        raise StartupError("identity.provider is 'embedded' but Node.js (`node`) is not installed")
    if not (PROJECT_ROOT / "node_modules" / "oidc-provider").is_dir():
        raise StartupError("the embedded identity provider is not installed: run `make up` (it runs npm install)")
    hub = settings.platform.url()
    env = dict(
        os.environ,
        OIDC_HOST=settings.platform.ip,
        OIDC_PORT=str(settings.identity.embedded_port),
        OIDC_REALM_FILE=str(settings.realm_file),
        OIDC_CLIENT_SECRET=settings.client_secret(),
        OIDC_REDIRECT_URIS=f"{hub}/hub/oauth_callback",
        OIDC_POST_LOGOUT_REDIRECT_URIS=f"{hub}/hub/login",
    )
    proc = subprocess.Popen(
        [node, str(SERVER)], env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    discovery = f"{settings.identity.issuer(settings.platform)}/.well-known/openid-configuration"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartupError(f"the embedded identity provider exited (code {proc.returncode}); see its log")
        try:
            with urllib.request.urlopen(discovery, timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise StartupError(f"the embedded identity provider did not answer at {discovery}")
