"""WebSocket routes (the jobs app owns /ws/progress)."""

from __future__ import annotations

try:
    from jobs.routing import websocket_urlpatterns
except ImportError:  # the jobs app lands its consumer separately
    websocket_urlpatterns = []
