"""The start queue: a few at a time, first come first served, nobody lost when someone leaves."""

from __future__ import annotations

import asyncio

from autoformation.spawners.admission import Admission


def test_starts_in_order_within_the_limit():
    async def scenario():
        queue, started, running, peak = Admission(2), [], [0], [0]

        async def learner(i):
            ticket = queue.ticket()
            await ticket
            started.append(i)
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            await asyncio.sleep(0.01 * (5 - i % 5))  # uneven boots
            running[0] -= 1
            queue.leave(ticket)

        await asyncio.gather(*(learner(i) for i in range(10)))
        return started, peak[0], queue
    started, peak, queue = asyncio.run(scenario())
    assert started == list(range(10)) and peak == 2
    assert queue.running == 0 and not queue.waiting


def test_positions_and_a_learner_who_gives_up():
    async def scenario():
        queue = Admission(1)
        first, second, third = queue.ticket(), queue.ticket(), queue.ticket()
        positions = [queue.position(t) for t in (first, second, third)]
        queue.leave(second)  # she closed the page and stopped her server while waiting
        after = queue.position(third)
        queue.leave(first)
        await asyncio.sleep(0)
        return positions, after, third.done(), second.cancelled(), queue
    positions, after, third_started, second_gone, queue = asyncio.run(scenario())
    assert positions == [0, 1, 2] and after == 1 and third_started and second_gone
    assert queue.running == 1
