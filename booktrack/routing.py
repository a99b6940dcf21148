"""WebSocket routes (the jobs app owns /ws/progress)."""

from __future__ import annotations

from jobs.routing import websocket_urlpatterns

__all__ = ["websocket_urlpatterns"]
