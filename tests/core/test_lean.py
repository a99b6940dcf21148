"""The lean GET path keeps the contract (same envelope, headers, errors and rate limits as DRF's) and
refuses views whose authentication, permissions or throttles it would skip."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import path
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from booktrack.core.envelope import success
from booktrack.core.exceptions import InvalidQuery
from booktrack.core.lean import LeanGetMixin


class Hot(LeanGetMixin, APIView):
    rate_limit_scope = "search"
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        if request.query_params.get("q") == "bad":
            raise InvalidQuery("bad query")
        if request.query_params.get("q") == "boom":
            raise RuntimeError("internals")
        return success(request, {"q": request.query_params.get("q")}, headers={"ETag": '"v1"'})

    def post(self, request):
        return Response({"posted": request.data})


urlpatterns = [path("t/hot", Hot.as_view())]
pytestmark = [pytest.mark.urls("tests.core.test_lean")]


def test_lean_get_renders_the_envelope_with_headers(client):
    response = client.get("/t/hot", {"q": "dune"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["ETag"] == '"v1"' and response["X-Request-ID"]
    body = response.json()
    assert body["success"] is True and body["data"] == {"q": "dune"} and body["metadata"]["requestId"]


def test_lean_get_errors_use_the_contract_body(client):
    client.raise_request_exception = False
    bad = client.get("/t/hot", {"q": "bad"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_QUERY"
    boom = client.get("/t/hot", {"q": "boom"})
    assert boom.status_code == 500 and "internals" not in boom.content.decode()


def test_other_methods_keep_drf_dispatch(client):
    response = client.post("/t/hot", {"a": 1}, content_type="application/json")
    assert response.json() == {"posted": {"a": 1}}


@override_settings(RATE_LIMITS={"expensive": (10, 60), "search": (2, 60)})
def test_lean_get_is_still_rate_limited(client):
    assert [client.get("/t/hot").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize(
    "attribute, value",
    [
        ("authentication_classes", [SessionAuthentication]),
        ("permission_classes", [IsAuthenticated]),
        ("throttle_classes", [AnonRateThrottle]),
    ],
)
def test_lean_view_with_authentication_permissions_or_throttles_is_refused(attribute, value):
    """The lean GET would skip them silently: such a view is refused when its class is created."""
    body = {"authentication_classes": [], "permission_classes": [], attribute: value, "get": Hot.get}
    with pytest.raises(ImproperlyConfigured, match=attribute):
        type("Guarded", (LeanGetMixin, APIView), body)


def test_lean_view_inheriting_drf_default_authentication_is_refused():
    """DRF's defaults are not empty (SessionAuthentication here): a lean view must clear them itself."""
    assert APIView.authentication_classes  # the project's REST_FRAMEWORK default
    with pytest.raises(ImproperlyConfigured, match="authentication_classes"):
        type("Forgetful", (LeanGetMixin, APIView), {"permission_classes": [], "get": Hot.get})


def test_subclass_of_a_lean_view_is_checked_too():
    with pytest.raises(ImproperlyConfigured, match="permission_classes"):
        type("Stricter", (Hot,), {"permission_classes": [IsAuthenticated]})
    assert type("Same", (Hot,), {}).get is Hot.get  # nothing added: accepted
