from __future__ import annotations

import base64

import pytest
from rest_framework.test import APIClient

OPS_TOKEN = "ops-test-token"


@pytest.fixture
def ops(settings) -> APIClient:
    """A client holding the OPS_TOKEN bearer."""
    settings.OPS_TOKEN = OPS_TOKEN
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {OPS_TOKEN}")
    return client


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
