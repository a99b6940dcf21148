"""ASGI entry point: HTTP (Django, behind the streaming body-size guard) and WebSocket (Channels)."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "booktrack.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from booktrack.core.limits import BodySizeLimitASGIMiddleware  # noqa: E402
from booktrack.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": BodySizeLimitASGIMiddleware(django_asgi_app),
        "websocket": URLRouter(websocket_urlpatterns),
    }
)

if settings.EMBEDDED and settings.EMBEDDED_WORKER:
    from booktrack.core.embedded_worker import start_embedded_worker

    start_embedded_worker()
