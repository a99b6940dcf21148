"""Routes of the jobs app (full paths; included at the root)."""

from django.urls import path, register_converter

from jobs import views
from jobs.converters import JobIdConverter

register_converter(JobIdConverter, "jobid")

urlpatterns = [
    path("api/job-state/<jobid:job_id>", views.JobStateView.as_view(), name="job-state"),
    path("api/token/refresh", views.TokenRefreshView.as_view(), name="job-token-refresh"),
    path("api/enrichment/cancel", views.JobCancelView.as_view(), name="enrichment-cancel"),
    path("api/scan-bookshelf/cancel", views.JobCancelView.as_view(), name="scan-cancel"),
    path("v1/scan/results/<jobid:job_id>", views.ScanResultsView.as_view(), name="scan-results"),
    path("v1/csv/results/<jobid:job_id>", views.CsvResultsView.as_view(), name="csv-results"),
    path("v1/enrichment/results/<jobid:job_id>", views.EnrichmentResultsView.as_view(), name="enrichment-results"),
]
