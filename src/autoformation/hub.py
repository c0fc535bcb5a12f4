"""The platform's JupyterHub configuration: settings mapped onto traitlets, in one place.

`hub_config/jupyterhub_config.py` calls `configure(c)`; on Kubernetes the Zero to JupyterHub
chart calls `configure(c, standalone=False)` from `hub.extraConfig` (the chart then owns the
network, database and proxy, and its own idle culler).
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import auth
from .catalogue import load_catalogue
from .settings import PROJECT_ROOT, Settings, SettingsError, load
from .spawners import configure_spawner

TEMPLATES = Path(__file__).parent / "templates"
PROXY = PROJECT_ROOT / "node_modules" / ".bin" / "configurable-http-proxy"


def configure(c, settings: Settings | None = None, standalone: bool = True) -> Settings:
    settings = settings or load()
    courses = load_catalogue(settings.courses_dir)
    if standalone:
        _configure_standalone(c, settings)
    auth.configure_auth(c, settings)
    configure_spawner(c, settings, courses)
    c.JupyterHub.template_paths = [str(TEMPLATES)]
    c.JupyterHub.template_vars = {"courses": courses, "platform_name": "Autoformation"}
    return settings


def _configure_standalone(c, settings: Settings) -> None:
    data = settings.data_dir
    data.mkdir(parents=True, exist_ok=True)
    platform = settings.platform
    c.JupyterHub.bind_url = f"http://{platform.ip}:{platform.port}"
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = platform.hub_port
    c.JupyterHub.db_url = f"sqlite:///{data / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(data / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(data / "jupyterhub.pid")
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{platform.proxy_api_port}"
    if not PROXY.exists():
        raise SettingsError(f"configurable-http-proxy not found at {PROXY}: run `make up` (it runs npm install)")
    c.ConfigurableHTTPProxy.command = [str(PROXY)]
    c.ConfigurableHTTPProxy.pid_file = str(data / "proxy.pid")
    if settings.culler.enabled:
        c.JupyterHub.services = [
            {
                "name": "idle-culler",
                "command": [
                    sys.executable, "-m", "jupyterhub_idle_culler",
                    f"--timeout={settings.culler.timeout}",
                ],
            }
        ]
        c.JupyterHub.load_roles = [
            {
                "name": "idle-culler",
                "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
                "services": ["idle-culler"],
            }
        ]
