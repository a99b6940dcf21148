"""Routes of the harvest app (full paths; included at the root)."""

from django.urls import path

from harvest import views, views_ops

urlpatterns: list = [
    path("images/proxy", views.ImageProxyView.as_view(), name="images-proxy"),
    path("api/warming/upload", views_ops.WarmingUploadView.as_view(), name="warming-upload"),
    path("api/warming/dlq", views_ops.DeadLetterListView.as_view(), name="warming-dlq"),
    path("api/warming/dlq/requeue", views_ops.DeadLetterRequeueView.as_view(), name="warming-dlq-requeue"),
    path("api/warming/<uuid:job_id>", views_ops.WarmingRunView.as_view(), name="warming-run"),
]
