"""ASGI entry point: HTTP and WebSocket in one application.

HTTP goes through the body guard (size cap, and the slow-client deadline: a body is read on the event
loop before any thread is taken; booktrack.core.limits) into Django's synchronous handler, run on a thread
pool by a2wsgi. Our views are synchronous (DRF, the ORM, requests), and Django's own ASGI handler
hops between the event loop and threads several times per request (a thread-sensitive context per
request, sync middleware adapted around an async core). `make bench` measures the bridge against
Django's ASGI handler side by side (the "WSGI bridge" A/B row in docs/benchmarks.md). WebSockets are
served by Channels consumers on the event loop, behind a per-IP handshake limit.
"""

from __future__ import annotations

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "booktrack.settings")

from django.core.wsgi import get_wsgi_application

django_wsgi_app = get_wsgi_application()

from a2wsgi import WSGIMiddleware
from channels.routing import ProtocolTypeRouter, URLRouter
from django.conf import settings

from booktrack.core.limits import BodySizeLimitASGIMiddleware
from booktrack.core.ratelimit import WebSocketRateLimitASGIMiddleware
from booktrack.routing import websocket_urlpatterns

http_application = BodySizeLimitASGIMiddleware(WSGIMiddleware(django_wsgi_app, workers=settings.HTTP_THREADS))

application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": WebSocketRateLimitASGIMiddleware(URLRouter(websocket_urlpatterns)),
    }
)

if settings.EMBEDDED and settings.EMBEDDED_WORKER:
    from booktrack.core.embedded_worker import start_embedded_worker

    start_embedded_worker()

# Everything loaded so far (Django, apps, URL table) lives as long as the process: move it out of the
# garbage collector's generations so full collections on the request path scan only request garbage.
gc.freeze()
