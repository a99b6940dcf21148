"""Routes of the harvest app (full paths; included at the root)."""

from django.urls import path

from harvest import views
from harvest.admin import harvest_dashboard

urlpatterns: list = [
    path("images/proxy", views.ImageProxyView.as_view(), name="images-proxy"),
    path("api/harvest-covers", views.HarvestCoversView.as_view(), name="harvest-covers"),
    path("api/harvest-covers/<str:runId>", views.HarvestRunView.as_view(), name="harvest-run"),
    path("covers/<str:isbn>", views.CoverView.as_view(), name="cover"),
]

# Admin pages of the app: spliced in before `admin/` (the admin's catch-all would answer them first).
admin_urlpatterns: list = [
    path("admin/harvest/dashboard/", harvest_dashboard, name="harvest-dashboard"),
]
