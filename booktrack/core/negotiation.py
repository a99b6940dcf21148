"""Content negotiation for a JSON-only API: the first renderer, without parsing `Accept`.

DRF's default negotiation parses the Accept header and format overrides on every request; every
route here answers JSON (the OpenAPI views declare their own renderers and keep DRF's default).
"""

from __future__ import annotations

from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation


class FirstRendererNegotiation(BaseContentNegotiation):
    _default = DefaultContentNegotiation()

    def select_parser(self, request, parsers):
        content_type = request.content_type or ""
        for parser in parsers:
            if content_type.startswith(parser.media_type.split(";")[0]):
                return parser
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        if len(renderers) > 1:  # e.g. the schema view (YAML or JSON): real negotiation
            return self._default.select_renderer(request, renderers, format_suffix)
        renderer = renderers[0]
        return renderer, renderer.media_type
