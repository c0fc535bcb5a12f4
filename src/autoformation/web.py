"""What the platform's JupyterHub services share: HubOAuth pages in French, rendered with Jinja."""

from __future__ import annotations

import json
import os
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from jupyterhub.services.auth import HubOAuthenticated
from tornado import web
from tornado.httpclient import AsyncHTTPClient

PAGES = Environment(loader=FileSystemLoader(Path(__file__).parent / "pages"), autoescape=select_autoescape(["html"]))


class ServicePage(HubOAuthenticated, web.RequestHandler):
    """A page or API endpoint of a service; `self.service` is the service object (prefix, settings...)."""

    @property
    def service(self):
        return self.settings["service"]

    def render_page(self, template: str, **ns) -> None:
        self.finish(
            PAGES.get_template(template).render(
                user=self.current_user, prefix=self.service.prefix, hub="/hub/",
                grading="/services/grading/", xsrf=self.xsrf_token.decode(), **ns,
            )
        )

    def write_error(self, status_code: int, **kwargs) -> None:
        reason = self._reason
        exc = kwargs.get("exc_info", (None, None))[1]
        if isinstance(exc, web.HTTPError) and exc.log_message:
            reason = exc.log_message
        if "/api/" in self.request.path:
            self.finish({"status": status_code, "message": reason})
            return
        self.finish(PAGES.get_template("error.html").render(
            status=status_code, message=reason, prefix=self.service.prefix, hub="/hub/",
            grading="/services/grading/", user=None,
        ))


async def hub_api(path: str) -> dict | list:
    """GET the hub's REST API with this service's own token (its scopes are set in the hub config)."""
    url = os.environ.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api").rstrip("/") + path
    token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
    response = await AsyncHTTPClient().fetch(url, headers={"Authorization": f"token {token}"}, request_timeout=20)
    return json.loads(response.body)


def bind_host() -> str:
    """Loopback on one machine; every interface when the proxy reaches us from elsewhere (Kubernetes)."""
    url = os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1")
    return "127.0.0.1" if "://127.0.0.1" in url or "://localhost" in url else "0.0.0.0"
