"""WebSocket routes of the jobs app."""

from django.urls import path

from jobs.consumers import JobProgressConsumer

websocket_urlpatterns = [path("ws/progress", JobProgressConsumer.as_asgi())]
