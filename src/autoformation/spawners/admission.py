"""Starting learners' servers a few at a time, in order of request (the 9:00 rush).

When a whole class asks for its servers within the same minute, starting them all at once shares
the cores among every start: everyone waits as long as the last one, and the hub itself is starved.
Here at most `limit` servers start at a time and the others wait their turn, first come first
served; a waiting learner's pending page shows their place in the queue. Nobody is refused (no 429).
"""

from __future__ import annotations

import asyncio
from collections import deque


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
