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


class NotBuilt(web.RequestHandler):
    def get(self, *args):
        self.set_status(503)
        self.finish(NOT_BUILT)


def make_app(html_dir: Path, prefix: str) -> web.Application:
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    routes = [(prefix.rstrip("/") or "/", web.RedirectHandler, {"url": prefix})] if prefix != "/" else []
    if (html_dir / "index.html").is_file():
        static = {"path": str(html_dir), "default_filename": "index.html"}
        routes.append((f"{prefix}(.*)", web.StaticFileHandler, static))
    else:
        routes.append((f"{prefix}(.*)", NotBuilt))
    return web.Application(routes)


def listen_address(port: int | None) -> tuple[str, int]:
    """Port: the argument, else the hub's JUPYTERHUB_SERVICE_URL, else $AUTOFORMATION_BOOK_PORT."""
    service_url = os.environ.get("JUPYTERHUB_SERVICE_URL", "")
    parsed = urlparse(service_url) if service_url else None
    host = (parsed.hostname if parsed else None) or "127.0.0.1"
    if port is None:
        port = (parsed.port if parsed else None) or int(os.environ.get("AUTOFORMATION_BOOK_PORT", DEFAULT_PORT))
    return host, port


def serve(html_dir: Path, port: int | None = None) -> int:
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/book/")
    host, port = listen_address(port)

    async def run():
        make_app(html_dir, prefix).listen(port, host)
        print(f"book service: {html_dir} on http://{host}:{port}{prefix}", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    return 0
