from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from booktrack.core import views as core_views

urlpatterns = [
    path("health", core_views.health, name="health"),
    path("health/live", core_views.health_live, name="health-live"),
    path("metrics", core_views.metrics_view, name="metrics"),
    path("ws/progress", core_views.websocket_upgrade_required, name="ws-progress-http"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("", include("search.urls")),
    path("", include("enrichment.urls")),
    path("", include("scanning.urls")),
    path("", include("jobs.urls")),
    path("", include("harvest.urls")),
]

handler404 = "booktrack.core.views.not_found"
handler500 = "booktrack.core.views.server_error"
