"""Routes of the enrichment app (full paths; included at the root)."""

from django.urls import path

from enrichment import editions_views, views
from enrichment.pipelines import BATCH_ENRICHMENT, CSV_IMPORT
from jobs.urls import results_route

urlpatterns = [
    path("v1/enrichment/batch", views.BatchEnrichmentView.as_view(), name="enrichment-batch"),
    path("v1/editions/search", editions_views.EditionsSearchView.as_view(), name="v1-editions-search"),
    path("api/enrichment/start", views.LegacyEnrichmentStartView.as_view(), name="enrichment-start-legacy"),
    path("api/import/csv-gemini", views.CsvImportView.as_view(), name="csv-import"),
    path("api/import/csv/preview", views.CsvPreviewView.as_view(), name="csv-import-preview"),
    results_route(BATCH_ENRICHMENT),
    results_route(CSV_IMPORT),
]
