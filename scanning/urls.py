"""Routes of the scanning app (full paths; included at the root). The cancel route is the jobs app's."""

from django.urls import path

from jobs.urls import results_route
from scanning import views
from scanning.pipelines import AI_SCAN

urlpatterns = [
    path("api/scan-bookshelf", views.ScanPhotoView.as_view(), name="scan-photo"),
    path("api/scan-bookshelf/batch", views.ScanBatchView.as_view(), name="scan-batch"),
    results_route(AI_SCAN),
]
