"""Routes of the harvest app (full paths; included at the root)."""

from django.urls import path

from harvest import views, views_ops
from harvest.admin import harvest_dashboard

urlpatterns: list = [
    path("images/proxy", views.ImageProxyView.as_view(), name="images-proxy"),
    path("api/harvest-covers", views.HarvestCoversView.as_view(), name="harvest-covers"),
    path("api/harvest-covers/<str:runId>", views.HarvestRunView.as_view(), name="harvest-run"),
    path("covers/<str:isbn>", views.CoverView.as_view(), name="cover"),
    path("api/warming/upload", views_ops.WarmingUploadView.as_view(), name="warming-upload"),
    path("api/warming/dlq", views_ops.DeadLetterListView.as_view(), name="warming-dlq"),
    path("api/warming/dlq/requeue", views_ops.DeadLetterRequeueView.as_view(), name="warming-dlq-requeue"),
    path("api/warming/<uuid:job_id>", views_ops.WarmingRunView.as_view(), name="warming-run"),
]

# Admin pages of the app: spliced in before `admin/` (the admin's catch-all would answer them first).
admin_urlpatterns: list = [
    path("admin/harvest/dashboard/", harvest_dashboard, name="harvest-dashboard"),
]
