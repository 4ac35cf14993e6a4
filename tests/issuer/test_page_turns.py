"""The badge pages made in the event loop take turns (``issuer.http.gate.LoopTurns``): first
come, first served, one page per turn of the loop, and a turn is always handed on, whatever
happens to the page that held it or to one that waited for it."""

from __future__ import annotations

import asyncio

import pytest

from issuer.http.gate import LoopTurns, page_turns


async def _page(turns: LoopTurns, name: str, log: list[str], fail: bool = False) -> None:
    async with turns.turn():
        log.append(name)
        if fail:
            raise ValueError(name)


def test_pages_run_in_the_order_they_came_one_per_turn_of_the_loop() -> None:
    async def run() -> tuple[list[str], list[int]]:
        turns = LoopTurns(asyncio.get_running_loop())
        log: list[str] = []
        ticks: list[int] = []
        tick = 0

        async def clock() -> None:  # counts the loop's turns while the pages run
            nonlocal tick
            while len(log) < 5:
                tick += 1
                await asyncio.sleep(0)

        async def page(name: str) -> None:
            await _page(turns, name, log)
            ticks.append(tick)

        await asyncio.gather(clock(), *(page(f"p{n}") for n in range(5)))
        return log, ticks

    log, ticks = asyncio.run(run())
    assert log == ["p0", "p1", "p2", "p3", "p4"]
    assert len(set(ticks)) == len(ticks), ticks  # never two pages in one turn of the loop


def test_a_page_that_fails_hands_its_turn_on() -> None:
    async def run() -> list[str]:
        turns = LoopTurns(asyncio.get_running_loop())
        log: list[str] = []
        results = await asyncio.gather(
            _page(turns, "a", log, fail=True), _page(turns, "b", log), return_exceptions=True
        )
        assert isinstance(results[0], ValueError)
        await _page(turns, "c", log)
        return log

    assert asyncio.run(run()) == ["a", "b", "c"]


@pytest.mark.parametrize("handed", [False, True])
def test_a_waiting_page_that_is_cancelled_hands_its_turn_on(handed: bool) -> None:
    """Cancelled while it waits, or after the turn was handed to it but before it ran."""

    async def run() -> list[str]:
        turns = LoopTurns(asyncio.get_running_loop())
        log: list[str] = []
        release = asyncio.Event()

        async def holding() -> None:
            async with turns.turn():
                log.append("first")
                await release.wait()

        first = asyncio.create_task(holding())
        await asyncio.sleep(0)  # first holds the turn; the next two wait
        doomed = asyncio.create_task(_page(turns, "doomed", log))
        last = asyncio.create_task(_page(turns, "last", log))
        await asyncio.sleep(0)
        assert len(turns._waiting) == 2
        if handed:
            doomed_turn = turns._waiting[0]
            release.set()
            await first
            while not doomed_turn.done():  # the turn is handed to doomed, which has not run
                await asyncio.sleep(0)
        doomed.cancel()
        release.set()
        waited = asyncio.gather(first, doomed, last, return_exceptions=True)
        await asyncio.wait_for(waited, 5)  # a turn not handed on fails here, not hangs
        await asyncio.wait_for(_page(turns, "after", log), 5)
        return log

    assert asyncio.run(run()) == ["first", "last", "after"]


def test_each_event_loop_has_turns_of_its_own() -> None:
    """Turns left busy by a loop that ended block nothing in the next loop (each test client
    runs its own loop on the same services)."""

    class Services:
        def __init__(self) -> None:
            self.cache: dict[str, object] = {}

    services = Services()

    async def turns_here() -> LoopTurns:
        return page_turns(services)  # type: ignore[arg-type]

    first = asyncio.run(turns_here())
    first._busy = True  # as if the loop ended before the turn was handed on
    log: list[str] = []

    async def next_loop() -> LoopTurns:
        turns = page_turns(services)  # type: ignore[arg-type]
        await asyncio.wait_for(_page(turns, "page", log), 5)
        return turns

    assert asyncio.run(next_loop()) is not first
    assert log == ["page"]
