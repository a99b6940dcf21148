"""The one Celery app: `celery -A booktrack worker -Q default,providers,ai,maintenance`."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "booktrack.settings")

app = Celery("booktrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
