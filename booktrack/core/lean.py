"""A lean GET path for hot read-only API views.

DRF's dispatch (Request wrapper, authenticators, permissions, throttles, negotiation) costs as much as
answering a cached search itself: `make bench` measures it side by side ("lean vs DRF dispatch" in
docs/benchmarks.md). Views that need none of it (no authentication, no permissions, no throttles,
JSON only) mix this in: a GET calls the handler directly with a thin request that offers
`query_params`, and the result is rendered by the API's JSON renderer; errors go through the
project's one exception handler. Other methods (a legacy POST with a body) keep DRF's full dispatch.
Views stay DRF views, so the OpenAPI schema, `rate_limit_scope` (a middleware) and body limits work
as before.

Because the lean path runs no authenticator, permission or throttle, a view that has any of them is
refused when its class is created (ImproperlyConfigured), instead of serving its GETs unchecked.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase
from rest_framework.response import Response

from booktrack.core.envelope import exception_handler
from booktrack.core.rendering import ApiJSONRenderer

_renderer = ApiJSONRenderer()

# What DRF's dispatch would run and the lean GET skips: a lean view must have none of them.
SKIPPED_BY_LEAN_GET = ("authentication_classes", "permission_classes", "throttle_classes")


class LeanRequest:
    """What a read-only view uses of DRF's Request: `query_params`; everything else is Django's."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request
        self.query_params = request.GET

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


class LeanGetMixin:
    # GETs skip DRF's dispatch (see the module docstring). Mix in before APIView, and declare
    # `authentication_classes = []` and `permission_classes = []` (DRF's defaults are not empty). A
    # comment, not a docstring: drf-spectacular would show it as every view's description.

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        present = {name: getattr(cls, name) for name in SKIPPED_BY_LEAN_GET if getattr(cls, name, None)}
        if present:
            found = ", ".join(f"{name}={value!r}" for name, value in present.items())
            raise ImproperlyConfigured(
                f"{cls.__module__}.{cls.__qualname__}: LeanGetMixin's GETs skip DRF's authentication, "
                f"permissions and throttles, and this view has {found}. Set them to [] for a public "
                "read-only view, or drop LeanGetMixin."
            )

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method != "GET" or not hasattr(self, "get"):
            return super().dispatch(request, *args, **kwargs)
        self.args, self.kwargs, self.request, self.headers = args, kwargs, request, {}
        try:
            response = self.get(LeanRequest(request), *args, **kwargs)
        except Exception as exc:  # the one handler decides (domain error, or a logged 500)
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
