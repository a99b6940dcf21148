from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "jobs"

    def ready(self) -> None:
        # Each feature app declares its pipelines in its own `pipelines.py` (jobs.pipelines): jobs
        # imports no feature app by name, as the admin finds each app's `admin.py`.
        autodiscover_modules("pipelines")
