"""Job tokens: random, shown to the client once, stored only as a hash, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_TTL_SECONDS = 2 * 3600
REFRESH_WINDOW_SECONDS = 30 * 60


def token_generate() -> str:
    return secrets.token_urlsafe(32)


def token_hash(raw: str) -> str:
    # The token carries 256 random bits, so a plain SHA-256 is enough (no password stretching needed).
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def token_matches(*, raw: object, stored_hash: str) -> bool:
    if not raw or not isinstance(raw, str) or not stored_hash:
        return False
    return hmac.compare_digest(token_hash(raw), stored_hash)
