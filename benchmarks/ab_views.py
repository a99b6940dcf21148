"""The B sides of the in-process A/B rows (benchmarks/inprocess.py): the cached ISBN route without one
of its tricks each, mounted beside the project's routes (`urlpatterns`, set as ROOT_URLCONF there).

- `DrfDispatchIsbn`: the same view through DRF's full dispatch (Request wrapper, authenticators,
  permissions, throttles, content negotiation) instead of the lean GET path.
- `PlainRenderIsbn`: the same view rendering the answer's `data` on every request (wire form, then
  JSON) instead of splicing the answer's pre-rendered bytes.
"""

from __future__ import annotations

from django.urls import include, path
from rest_framework.views import APIView

from booktrack.core.envelope import success
from search import services
from search.queries import IsbnQuery
from search.views import V1IsbnSearch, _meta

DRF_PATH = "/bench/drf-dispatch/v1/search/isbn"
PLAIN_PATH = "/bench/plain-render/v1/search/isbn"


class DrfDispatchIsbn(V1IsbnSearch):
    def dispatch(self, request, *args, **kwargs):
        return APIView.dispatch(self, request, *args, **kwargs)


class PlainRenderIsbn(V1IsbnSearch):
    def get(self, request):
        query = IsbnQuery.parse(request.query_params)
        answer = services.book_answer_by_isbn(isbn=query.isbn13)
        return success(request, answer.result.to_wire(), meta=_meta(answer.result))


urlpatterns = [
    path(DRF_PATH.lstrip("/"), DrfDispatchIsbn.as_view()),
    path(PLAIN_PATH.lstrip("/"), PlainRenderIsbn.as_view()),
    path("", include("booktrack.urls")),
]
