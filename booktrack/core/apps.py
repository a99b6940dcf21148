from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "booktrack.core"
    label = "core"
    verbose_name = "BooksTrack core"

    def ready(self) -> None:
        from booktrack.core import schedules  # noqa: F401  (post_migrate hook installs beat schedules)
