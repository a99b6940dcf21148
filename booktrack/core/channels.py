"""Embedded mode's channel layer.

Channels' in-memory layer keeps asyncio queues bound to the event loop of the consumers that read
them. In embedded mode the Celery worker runs in a thread of the web process and sends events from
its own loop (async_to_sync), which would wake readers on a foreign loop. This layer remembers the
loop its readers live on and hands any send from another loop over to it, thread-safely.
"""

from __future__ import annotations

import asyncio
import threading

from channels.layers import InMemoryChannelLayer


class ThreadSafeInMemoryChannelLayer(InMemoryChannelLayer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._home_loop: asyncio.AbstractEventLoop | None = None
        self._home_lock = threading.Lock()

    def _remember_loop(self) -> None:
        loop = asyncio.get_running_loop()
        with self._home_lock:
            if self._home_loop is None or self._home_loop.is_closed():
                self._home_loop = loop

    def _foreign_home(self) -> asyncio.AbstractEventLoop | None:
        home = self._home_loop
        if home is None or home.is_closed() or not home.is_running():
            return None
        return home if home is not asyncio.get_running_loop() else None

    async def receive(self, channel):
        self._remember_loop()
        return await super().receive(channel)

    async def group_add(self, group, channel):
        self._remember_loop()
        return await super().group_add(group, channel)

    async def send(self, channel, message):
        home = self._foreign_home()
        if home is not None:
            future = asyncio.run_coroutine_threadsafe(super().send(channel, message), home)
            return await asyncio.wrap_future(future)
        return await super().send(channel, message)

    async def group_send(self, group, message):
        home = self._foreign_home()
        if home is not None:
            future = asyncio.run_coroutine_threadsafe(super().group_send(group, message), home)
            return await asyncio.wrap_future(future)
        return await super().group_send(group, message)
