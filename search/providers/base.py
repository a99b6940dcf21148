"""The provider base class: one upstream's transport, budgets and operations.

A provider = a transport (the shared `upstream_client`, with the outbound budget as its
`before_request` hook) + pure `normalize_*` functions (raw JSON -> DTOs) in its own module, built on
the shared pure helpers of `search.normalize`. No database writes here. The registry
(`search.providers.REGISTRY`) is data: a tuple of instances, in merge priority order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from django.conf import settings

from booktrack.core.exceptions import ProviderUnavailable
from booktrack.core.http import UpstreamClient, upstream_client
from search.dto import ProviderPage


class Provider:
    """One upstream. Subclasses set the class attributes and implement the operations they support.

    Operations return `ProviderPage`s (normalized). They raise `DomainError`s from the transport
    (timeouts, 5xx, garbage); the fan-out turns those into a degraded answer.
    """

    name: ClassVar[str]  # contract provider name: google-books | openlibrary | isbndb
    v3_name: ClassVar[str]  # v3 Book.provider: google_books | open_library | isbndb
    base_url_setting: ClassVar[str]
    key_setting: ClassVar[str | None] = None  # a provider that needs a key and has none is disabled
    priority: ClassVar[int] = 100  # lower = preferred source for a field when values tie
    batch_size: ClassVar[int] = 0  # ISBNs per `search_isbns` call (0: no batch endpoint)

    def enabled(self) -> bool:
        return not self.key_setting or bool(getattr(settings, self.key_setting, None))

    def api_key(self) -> str | None:
        return getattr(settings, self.key_setting, None) if self.key_setting else None

    def client(self) -> UpstreamClient:
        from search.budgets import budget_before_request

        client = upstream_client(
            self.name,
            base_url=getattr(settings, self.base_url_setting),
            before_request=budget_before_request,
            cool_down_on_429=False,  # `_json` pauses this provider in every process (search.budgets)
        )
        if client.before_request is None:  # created elsewhere first: budgets still apply
            client.before_request = budget_before_request
            client.cool_down_on_429 = False
        return client

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET through the shared client; an upstream 429's Retry-After pauses this provider everywhere."""
        return self._json(lambda: self.client().get_json(path, **kwargs))

    def post_json(self, path: str, *, json_body: Any, **kwargs: Any) -> Any:
        """POST a JSON body (a read that takes many keys, e.g. ISBNdb `POST /books`); answers as `get_json`."""
        return self._json(lambda: self.client().request_json("POST", path, json_body=json_body, **kwargs))

    def _json(self, send: Callable[[], Any]) -> Any:
        from search.budgets import BudgetExhausted, budget_cooldown

        try:
            return send()
        except BudgetExhausted:
            raise
        except ProviderUnavailable as exc:
            retry_after = (exc.details or {}).get("retryAfter")
            if isinstance(retry_after, int | float) and retry_after > 0:
                budget_cooldown(upstream=self.name, seconds=retry_after)
            raise

    def supports(self, operation: str) -> bool:
        """Whether this provider overrides `operation` (e.g. "search_isbn")."""
        return getattr(type(self), operation, None) is not getattr(Provider, operation, None)

    # Operations (override what the upstream can do).
    def search_isbn(self, *, isbn13: str, deadline: float | None) -> ProviderPage:
        raise NotImplementedError

    def search_isbns(self, *, isbns13: Sequence[str], deadline: float | None) -> ProviderPage:
        """Many ISBNs in ONE upstream call (at most `batch_size`); only upstreams with a batch endpoint."""
        raise NotImplementedError

    def search_titles(
        self, *, pairs: Sequence[tuple[str, str | None]], limit: int, deadline: float | None
    ) -> ProviderPage:
        """Many (title, author) pairs in ONE upstream call: the books matching any of them."""
        raise NotImplementedError

    def search_title(self, *, query: str, limit: int, offset: int, deadline: float | None) -> ProviderPage:
        raise NotImplementedError

    def search_advanced(
        self, *, title: str | None, author: str | None, limit: int, deadline: float | None
    ) -> ProviderPage:
        raise NotImplementedError
