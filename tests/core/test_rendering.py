"""The API's JSON renderer: pre-rendered values are spliced byte-for-byte as DRF would render them."""

from __future__ import annotations

import pytest
from rest_framework.renderers import JSONRenderer

from booktrack.core.rendering import ApiJSONRenderer, PrerenderedJSON

PAYLOAD = {
    "works": [{"title": "Ōtsukimi \u2028 «Dune»", "subjectTags": ["Science Fiction"], "year": 1965}],
    "editions": [],
    "authors": [{"name": "Frank Herbert", "birthYear": 1920, "deathYear": None}],
    "totalResults": 1,
}


@pytest.mark.parametrize(
    "envelope",
    [
        {"success": True, "data": PAYLOAD, "metadata": {"requestId": "r-1", "cached": True}},
        {"data": PAYLOAD},
        PAYLOAD,
    ],
)
def test_prerendered_values_render_exactly_as_drf_renders_the_plain_value(envelope):
    drf = JSONRenderer().render(envelope)
    spliced = {k: PrerenderedJSON(v) if k == "data" else v for k, v in envelope.items()}
    assert ApiJSONRenderer().render(spliced) == drf
    assert ApiJSONRenderer().render(PrerenderedJSON(envelope)) == drf
    assert ApiJSONRenderer().render(envelope) == drf  # nothing pre-rendered: DRF's own path


def test_line_separators_are_escaped_and_unicode_kept():
    raw = PrerenderedJSON({"t": "a\u2028b\u2029c é"}).raw
    assert raw == '{"t":"a\\u2028b\\u2029c é"}'.encode()


def test_none_and_non_string_keys_fall_back_to_drf():
    assert ApiJSONRenderer().render(None) == b""
    assert ApiJSONRenderer().render({1: PrerenderedJSON([1])}) == JSONRenderer().render({1: [1]})


def test_strict_json_refuses_nan_like_drf():
    with pytest.raises(ValueError):
        PrerenderedJSON({"x": float("nan")})
