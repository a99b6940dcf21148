"""Routes of the scanning app (full paths; included at the root)."""

from jobs.urls import results_route
from scanning.pipelines import AI_SCAN

urlpatterns = [results_route(AI_SCAN)]
