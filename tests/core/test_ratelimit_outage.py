"""The rate limiter while its Redis is down: fails open, says so once per outage, and when it is back."""

from __future__ import annotations

import logging
from unittest import mock

import pytest
import redis

from booktrack.core import windows
from booktrack.core.windows import FixedWindowCounter


class FlakyRedis:
    def __init__(self) -> None:
        self.down = True
        self.count = 0

    def pipeline(self, transaction: bool = True):
        client = self

        class Pipe:
            def incr(self, key):
                return self

            def incrby(self, key, amount):
                return self

            def expire(self, key, seconds):
                return self

            def execute(self):
                if client.down:
                    raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
                client.count += 1
                return [client.count, True]

        return Pipe()


def test_outage_fails_open_and_is_logged_once_then_recovery_once(caplog):
    store = FlakyRedis()
    counter = FixedWindowCounter("rl-test", label="rate limiter")
    caplog.set_level(logging.WARNING, logger=windows.__name__)
    with mock.patch.object(windows, "get_redis", return_value=store):
        states = [counter.hit("expensive:1.2.3.4", limit=1, window=60) for _ in range(5)]
        assert all(s.allowed and not s.store_ok for s in states)  # fail open, every time
        store.down = False
        assert counter.hit("expensive:1.2.3.4", limit=1, window=60).store_ok
        assert not counter.hit("expensive:1.2.3.4", limit=1, window=60).allowed  # counting again
    messages = [r.getMessage() for r in caplog.records]
    assert sum("counter store unavailable" in m for m in messages) == 1, messages
    assert sum("counter store back" in m for m in messages) == 1, messages
    assert all(m.startswith("rate limiter:") for m in messages)


@pytest.fixture(autouse=True)
def _no_redis_url(settings):
    settings.REDIS_URL = None
