"""Routes of the harvest app (full paths; included at the root)."""

from django.urls import path

from harvest import views

urlpatterns: list = [
    path("images/proxy", views.ImageProxyView.as_view(), name="images-proxy"),
]
