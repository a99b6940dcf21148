"""Ops routes: staff session or the `OPS_TOKEN` bearer. Nothing is open by a hard-coded value."""

from __future__ import annotations

import hmac

from django.conf import settings
from rest_framework.permissions import BasePermission

from booktrack.core.exceptions import Forbidden, Unauthorized


def bearer_token(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def has_ops_token(request) -> bool:
    expected = settings.OPS_TOKEN
    supplied = bearer_token(request)
    return bool(expected and supplied and hmac.compare_digest(expected.encode(), supplied.encode()))


class IsStaffOrOpsToken(BasePermission):
    def has_permission(self, request, view) -> bool:
        if has_ops_token(request):
            return True
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if user.is_staff:
                return True
            raise Forbidden("Staff access is required.")
        raise Unauthorized("Staff login or the ops token is required.")
