"""One Redis client per process, or None in embedded mode (no REDIS_URL)."""

from __future__ import annotations

import threading

from django.conf import settings

_client = None
_lock = threading.Lock()


def get_redis():
    """The shared redis-py client (connection pooled), or None when REDIS_URL is unset."""
    global _client
    url = getattr(settings, "REDIS_URL", None)
    if not url:
        return None
    if _client is None:
        with _lock:
            if _client is None:
                import redis

                # REDIS_RECONNECT: after a Redis restart, a pooled connection's first command is
                # retried on a fresh connection instead of failing (settings).
                _client = redis.Redis.from_url(
                    url, socket_connect_timeout=1.0, socket_timeout=2.0, **settings.REDIS_RECONNECT
                )
    return _client


def reset_redis() -> None:
    global _client
    with _lock:
        _client = None
