"""Job routes (CONTRACT 5): state, token refresh, cancel, results. Thin: parse, call one service, render."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booktrack.core.envelope import success
from booktrack.core.permissions import bearer_token
from jobs.services import (
    job_authenticate,
    job_cancel,
    job_id_as_sent,
    job_results,
    job_state_wire,
    token_refresh,
)

AUTH = OpenApiParameter("Authorization", str, OpenApiParameter.HEADER, required=True, description="Bearer <job token>")
RESULTS_AUTH = OpenApiParameter(
    "Authorization",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Bearer <job token>: optional (the job id is the secret) unless JOB_RESULTS_REQUIRE_TOKEN; "
        "a token that is sent must be the job's"
    ),
)
ERRORS = {
    401: OpenApiResponse(OpenApiTypes.OBJECT, description="UNAUTHORIZED: missing, wrong or expired token"),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description="NOT_FOUND: unknown job (or results expired)"),
}


def _body(request: Request) -> dict:
    return request.data if isinstance(request.data, dict) else {}


class JobStateView(APIView):
    @extend_schema(
        summary="A job's state (raw body)",
        parameters=[AUTH],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        tags=["jobs"],
    )
    def get(self, request: Request, job_id) -> Response:
        job = job_authenticate(job_id=job_id, token=bearer_token(request))
        return Response(job_state_wire(job=job, sent_id=job_id))


class TokenRefreshView(APIView):
    rate_limit_scope = "expensive"

    @extend_schema(
        summary=(
            "Replace a job token in its last 30 minutes of validity: {jobId, oldToken} -> {jobId, token, expiresIn}"
        ),
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        tags=["jobs"],
    )
    def post(self, request: Request) -> Response:
        body = _body(request)
        refreshed = token_refresh(job_id=body.get("jobId"), old_token=body.get("oldToken"))
        return Response(refreshed.to_wire())


class JobCancelView(APIView):
    """`POST /api/enrichment/cancel` and `/api/scan-bookshelf/cancel`: any pipeline's job, token required."""

    @extend_schema(
        summary="Cancel a job: {jobId, token?}; the token as Bearer or in the body",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, 409: OpenApiResponse(description="CONFLICT: already finished"), **ERRORS},
        tags=["jobs"],
    )
    def post(self, request: Request) -> Response:
        body = _body(request)
        token = bearer_token(request) or body.get("token")
        sent_id = body.get("jobId") or request.query_params.get("jobId")
        job = job_cancel(job_id=sent_id, token=token)
        return Response({"jobId": job_id_as_sent(sent=sent_id, job_id=job.id), "status": job.status})


class JobResultsView(APIView):
    """One pipeline's results route; each feature app mounts it with `jobs.urls.results_route`."""

    pipeline: str = ""

    @extend_schema(
        summary="A finished job's results (kept 24 hours); the job token is optional unless configured",
        description=(
            "The job id (any letter case) is enough unless JOB_RESULTS_REQUIRE_TOKEN is set; a token that is "
            "sent (Bearer or ?token=) must be the job's. 404 when the job is unknown, unfinished, of another "
            "pipeline, or its results expired."
        ),
        parameters=[RESULTS_AUTH],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        tags=["jobs"],
    )
    def get(self, request: Request, job_id) -> Response:
        token = bearer_token(request) or request.query_params.get("token")
        results = job_results(
            job_id=job_id, pipeline=self.pipeline, token=token, require_token=settings.JOB_RESULTS_REQUIRE_TOKEN
        )
        return success(request, results)
