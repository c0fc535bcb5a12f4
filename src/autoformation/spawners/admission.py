"""Starting learners' servers a few at a time, in order of request (the 9:00 rush).

When a whole class asks for its servers within the same minute, starting them all at once shares
the cores among every start: everyone waits as long as the last one, and the hub itself is starved.
Here at most `limit` servers start at a time and the others wait their turn, first come first
served; a waiting learner's pending page shows their place in the queue. Nobody is refused (no 429).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from traitlets import HasTraits, Integer

# The hub's start timeout covers the wait in the queue too (a class of 100 at 9:00); the boot itself is
# bounded by the spawner's http_timeout once the learner's turn comes.
START_TIMEOUT_WITH_QUEUE = 15 * 60


class Admission:
    def __init__(self, limit: int):
        self.limit = max(1, limit)
        self.running = 0
        self.waiting: deque[asyncio.Future] = deque()

    def ticket(self) -> asyncio.Future:
        """Join the queue; the ticket is done when its holder may start."""
        ticket = asyncio.get_running_loop().create_future()
        if self.running < self.limit and not self.waiting:
            self.running += 1
            ticket.set_result(None)
        else:
            self.waiting.append(ticket)
        return ticket

    def position(self, ticket: asyncio.Future) -> int:
        """1 for the next one to start; 0 once started (or gone)."""
        try:
            return self.waiting.index(ticket) + 1
        except ValueError:
            return 0

    def leave(self, ticket: asyncio.Future) -> None:
        """Give the slot back (started, failed or cancelled), handing it to the next in line."""
        if ticket in self.waiting:  # left before its turn: it holds no slot
            self.waiting.remove(ticket)
            ticket.cancel()
            return
        while self.waiting:
            nxt = self.waiting.popleft()
            if not nxt.done():
                nxt.set_result(None)  # the slot passes on: `running` is unchanged
                return
        self.running -= 1


class QueuedStarts(HasTraits):
    """Spawner mixin: wait for a start slot, prepare (`prepare()`), start, and keep the slot until the
    server answers (its boot is what costs the CPU). The pending page tells the learner where they are."""

    concurrent_starts = Integer(2, config=True, help="Servers starting at once; the others wait their turn, in order.")
    phases = {"prepare": "Copie de vos supports de cours…", "server": "Démarrage de JupyterLab…"}

    _queues: dict[type, Admission] = {}  # one queue per spawner class, for the whole hub
    _ticket = None
    _phase = ""

    @property
    def admission(self) -> Admission:
        cls = type(self)
        if cls not in QueuedStarts._queues:
            QueuedStarts._queues[cls] = Admission(self.concurrent_starts)
        return QueuedStarts._queues[cls]

    async def prepare(self) -> None:
        """What must happen before the server starts (e.g. the course material); in the learner's slot."""

    def exited(self) -> int | None:
        """The server's exit code if it died while starting (None while alive or unknown)."""
        return None

    async def start(self):
        self._ticket = ticket = self.admission.ticket()
        try:
            await ticket
            self._phase = "prepare"
            await self.prepare()
            self._phase = "server"
            ip, port = await super().start()
            await self._answering(f"http://{ip or '127.0.0.1'}:{port}{self.server.base_url}api")
            return ip, port
        finally:
            self.admission.leave(ticket)
            self._phase = ""

    async def _answering(self, url: str) -> None:
        """Poll every 0.1 s (JupyterHub's own wait backs off to seconds: a slot held for nothing)."""
        client, deadline = AsyncHTTPClient(), time.monotonic() + self.http_timeout
        while True:
            if self.exited() is not None:
                raise RuntimeError(f"{self.user.name}'s server exited at start (code {self.exited()})")
            try:
                await client.fetch(url, request_timeout=2, raise_error=False)
                return
            except (OSError, HTTPClientError):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.user.name}'s server did not answer in {self.http_timeout} s") from None
            await asyncio.sleep(0.1)

    async def progress(self):
        """The pending page's messages (in French): place in the queue, then what is being done."""
        ticket, said = self._ticket, None
        while ticket is not None and not ticket.done():
            place = self.admission.position(ticket)
            message = (f"File d'attente : vous êtes n° {place}. Les environnements démarrent "
                       f"{self.admission.limit} par {self.admission.limit}, dans l'ordre d'arrivée.")
            if message != said:
                yield {"progress": 10, "message": message}
                said = message
            await asyncio.sleep(0.5)
        while self._phase:
            message = self.phases[self._phase]
            if message != said:
                yield {"progress": 40 if self._phase == "prepare" else 70, "message": message}
                said = message
            await asyncio.sleep(0.5)
