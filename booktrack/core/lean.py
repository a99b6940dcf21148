"""A lean GET path for hot read-only API views.

DRF's dispatch (Request wrapper, authenticators, permissions, throttles, negotiation, template
response) costs about 140 us a request here, as much as answering a cached search itself
(docs/benchmarks.md). Views that need none of it (no authentication, no permissions, JSON only) mix
this in: a GET calls the handler directly with a thin request that offers `query_params`, and the
result is rendered by DRF's JSON renderer; errors go through the project's one exception handler.
Other methods (a legacy POST with a body) keep DRF's full dispatch. Views stay DRF views, so the
OpenAPI schema, `rate_limit_scope` and body limits work as before.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponseBase
from rest_framework.response import Response

from booktrack.core.envelope import exception_handler
from booktrack.core.rendering import ApiJSONRenderer

_renderer = ApiJSONRenderer()


class LeanRequest:
    """What a read-only view uses of DRF's Request: `query_params`; everything else is Django's."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request
        self.query_params = request.GET

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


class LeanGetMixin:
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method != "GET" or not hasattr(self, "get"):
            return super().dispatch(request, *args, **kwargs)
        self.args, self.kwargs, self.request, self.headers = args, kwargs, request, {}
        try:
            response = self.get(LeanRequest(request), *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the one handler decides (domain error, or a logged 500)
            response = exception_handler(exc, {"request": request, "view": self})
        return json_rendering(response)


def json_rendering(response: HttpResponseBase) -> HttpResponseBase:
    """A DRF Response set up to render itself as JSON, as DRF's `finalize_response` would.

    Django's handler renders it (the template-response protocol), so no second response object is built.
    """
    if isinstance(response, Response):
        response.accepted_renderer = _renderer
        response.accepted_media_type = _renderer.media_type
        response.renderer_context = {}
    return response
