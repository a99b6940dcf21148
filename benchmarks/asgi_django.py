"""Django's own ASGI handler with the same HTTP guard as booktrack.asgi: the B side of the bench's
WSGI-bridge A/B row (benchmarks/bench_tricks.py). Benchmarks only; HTTP only."""

from __future__ import annotations

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "booktrack.settings")

from django.core.asgi import get_asgi_application

from booktrack.core.limits import BodySizeLimitASGIMiddleware

application = BodySizeLimitASGIMiddleware(get_asgi_application())

gc.freeze()  # as booktrack.asgi does, so the two sides differ only in the handler
