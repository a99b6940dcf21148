from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

import enrichment.urls
import harvest.urls
import jobs.urls
import scanning.urls
import search.urls
from booktrack.core import views as core_views

urlpatterns = [
    path("health", core_views.health, name="health"),
    path("health/live", core_views.health_live, name="health-live"),
    path("metrics", core_views.metrics_view, name="metrics"),
    path("ws/progress", core_views.websocket_upgrade_required, name="ws-progress-http"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    *harvest.urls.admin_urlpatterns,  # /admin/harvest/dashboard/
    path("admin/", admin.site.urls),
    # Each app's routes are full paths, spliced in flat rather than include()d: a nested resolver
    # builds a ResolverMatch per level on every request, measurable on the cached search path.
    *search.urls.urlpatterns,
    *enrichment.urls.urlpatterns,
    *scanning.urls.urlpatterns,
    *jobs.urls.urlpatterns,
    *harvest.urls.urlpatterns,
]

handler400 = "booktrack.core.views.bad_request"
handler403 = "booktrack.core.views.permission_denied"
handler404 = "booktrack.core.views.not_found"
handler500 = "booktrack.core.views.server_error"
