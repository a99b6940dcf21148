"""Publishing job events to the channel layer from synchronous code, without blocking the caller.

`async_to_sync(layer.group_send)` from a worker thread starts a fresh event loop per call, and
channels-redis keeps its connections per event loop: every event would connect to Redis, send and
disconnect, and the pipeline would wait for all of it. Instead each process runs one background
loop; events are queued to it and sent over connections that stay open, by one task per job group
(a job's events in order; different jobs side by side).

Nothing is lost if a send fails or the process dies first: the event is already in the job's log,
and sockets catch up from the log (on connect, on a seq gap, and at the keep-alive tick).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from concurrent.futures import Future

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

LANE_IDLE_SECONDS = 30.0  # a group's sender ends after this long without events


class Broadcaster:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None
        self._pid: int | None = None

    def _ensure_started(self) -> asyncio.AbstractEventLoop:
        # Per process: a Celery prefork child must not inherit its parent's loop thread.
        if self._loop is not None and self._pid == os.getpid():
            return self._loop
        with self._lock:
            if self._loop is not None and self._pid == os.getpid():
                return self._loop
            ready = threading.Event()
            loop = asyncio.new_event_loop()

            def run() -> None:
                asyncio.set_event_loop(loop)
                self._queue = asyncio.Queue()
                loop.create_task(self._drain())
                ready.set()
                loop.run_forever()

            threading.Thread(target=run, name="job-event-broadcaster", daemon=True).start()
            ready.wait()
            self._loop, self._pid = loop, os.getpid()
            return loop

    async def _drain(self) -> None:
        """Hand each message to its group's lane: one sender per group keeps a job's events in order,
        and groups are sent side by side (one at a time, a group_send of ~1-10 ms capped the whole
        process at a few hundred events a second: make bench, WebSocket fan-out)."""
        layer = get_channel_layer()
        lanes: dict[str, asyncio.Queue] = {}
        while True:
            group, message, done = await self._queue.get()
            if group is None:  # flush: wait for everything queued before it, in every lane
                await asyncio.gather(*(lane.join() for lane in list(lanes.values())))
                if done is not None and not done.done():
                    done.set_result(None)
                continue
            lane = lanes.get(group)
            if lane is None:
                lane = lanes[group] = asyncio.Queue()
                asyncio.ensure_future(self._lane(layer, group, lane, lanes))
            lane.put_nowait(message)

    async def _lane(self, layer, group: str, lane: asyncio.Queue, lanes: dict[str, asyncio.Queue]) -> None:
        while True:
            try:
                message = await asyncio.wait_for(lane.get(), LANE_IDLE_SECONDS)
            except TimeoutError:
                if lane.empty():  # no await between the check and the removal: nothing slips in
                    lanes.pop(group, None)
                    return
                continue
            try:
                if layer is not None:
                    await layer.group_send(group, message)
            except Exception:  # the log has the event; sockets catch up from it
                logger.warning("could not broadcast to %s", group, exc_info=True)
            finally:
                lane.task_done()

    def send(self, group: str, message: dict) -> None:
        """Queue one message; returns at once. Messages go out in the order they were queued."""
        loop = self._ensure_started()
        loop.call_soon_threadsafe(self._queue.put_nowait, (group, message, None))

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far has been sent (e.g. before a task returns)."""
        if self._loop is None or self._pid != os.getpid():
            return True
        done: Future = Future()
        self._loop.call_soon_threadsafe(self._queue.put_nowait, (None, None, done))
        try:
            done.result(timeout=timeout)
            return True
        except TimeoutError:
            return False


broadcaster = Broadcaster()
