from django.apps import AppConfig


class ScanningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "scanning"
