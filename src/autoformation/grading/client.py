"""The hub's side of the grading service's API: the catalogue's progress and the spawn hook's record.

The grading service owns the grading data; the hub asks it over HTTP, asynchronously (never its
database, never blocking the hub's event loop), with a token of its own (`names.HUB_CLIENT`)
that holds `names.HUB_SCOPE` and nothing else.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

log = logging.getLogger("autoformation.hub")


class GradingClient:
    def __init__(self, url: str, token: str, timeout: float = 5):
        self.url, self.token, self.timeout = url.rstrip("/") + "/", token, timeout

    async def _fetch(self, path: str, body: dict | None = None) -> dict | None:
        """The answer, or None when the service does not answer (stopped, restarting, overloaded)."""
        try:
            response = await AsyncHTTPClient().fetch(
                self.url + path, method="POST" if body is not None else "GET",
                body=json.dumps(body) if body is not None else None,
                headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
                request_timeout=self.timeout, connect_timeout=self.timeout,
            )
        except (HTTPClientError, OSError) as err:
            log.warning("grading service: %s %s", path, err)
            return None
        return json.loads(response.body or b"null")

    async def progress(self, user: str) -> dict | None:
        return await self._fetch(f"api/progress/{quote(user, safe='')}")

    async def record_material(self, user: str, versions: dict[str, str]) -> bool:
        return await self._fetch(f"api/material/{quote(user, safe='')}", {"versions": versions}) is not None
