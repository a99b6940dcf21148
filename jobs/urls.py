"""Routes of the jobs app (full paths; included at the root), and `results_route` for the feature apps."""

from django.urls import URLPattern, path, register_converter

from jobs import views
from jobs.converters import JobIdConverter
from jobs.pipelines import PipelineSpec

register_converter(JobIdConverter, "jobid")


def results_route(spec: PipelineSpec) -> URLPattern:
    """A pipeline's results route, mounted by its own app's urls.py at the path its spec registered."""
    route = spec.results_path.removeprefix("/").replace("{job_id}", "<jobid:job_id>")
    return path(route, views.JobResultsView.as_view(pipeline=spec.name), name=f"{spec.name}-results")


urlpatterns = [
    path("api/job-state/<jobid:job_id>", views.JobStateView.as_view(), name="job-state"),
    path("api/token/refresh", views.TokenRefreshView.as_view(), name="job-token-refresh"),
    path("api/enrichment/cancel", views.JobCancelView.as_view(), name="enrichment-cancel"),
    path("api/scan-bookshelf/cancel", views.JobCancelView.as_view(), name="scan-cancel"),
]
