"""The book as a JupyterHub service: static files under $JUPYTERHUB_SERVICE_PREFIX (e.g. /services/book/).

The book holds no personal data, so no hub login is needed to read it.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import urlparse

from tornado import web

DEFAULT_PORT = 8092
NOT_BUILT = (
    "<!doctype html><html lang='fr'><meta charset='utf-8'><title>Livre indisponible</title>"
    "<p>Le livre des cours n'est pas encore construit. Un administrateur doit lancer "
    "<code>autoformation book build</code>.</p></html>"
)


class BookFiles(web.StaticFileHandler):
    """The built HTML; until the book is built, a page saying so (404: the hub's start-up check
    treats 5xx as a dead service, and a book built later is served without a restart)."""

    async def get(self, path: str, include_body: bool = True):
        if not (Path(self.root) / "index.html").is_file():
            self.set_status(404)
            self.finish(NOT_BUILT)
            return
        await super().get(path, include_body)


def make_app(html_dir: Path, prefix: str) -> web.Application:
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    routes = [(prefix.rstrip("/") or "/", web.RedirectHandler, {"url": prefix})] if prefix != "/" else []
    static = {"path": str(html_dir), "default_filename": "index.html"}
    routes.append((f"{prefix}(.*)", BookFiles, static))
    return web.Application(routes)


def listen_address(port: int | None, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """Port: the argument, else the hub's JUPYTERHUB_SERVICE_URL, else the settings' `book.port`."""
    service_url = os.environ.get("JUPYTERHUB_SERVICE_URL", "")
    parsed = urlparse(service_url) if service_url else None
    # Loopback on one machine; every interface when the proxy is in another pod (Kubernetes).
    host = "127.0.0.1" if not parsed or parsed.hostname in ("127.0.0.1", "localhost") else "0.0.0.0"
    if port is None:
        port = (parsed.port if parsed else None) or default_port
    return host, port


def serve(html_dir: Path, port: int | None = None, default_port: int = DEFAULT_PORT) -> int:
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/book/")
    host, port = listen_address(port, default_port)

    async def run():
        make_app(html_dir, prefix).listen(port, host)
        print(f"book service: {html_dir} on http://{host}:{port}{prefix}", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    return 0
