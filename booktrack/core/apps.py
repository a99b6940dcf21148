from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "booktrack.core"
    label = "core"
    verbose_name = "BooksTrack core"

    def ready(self) -> None:
        from booktrack.core.redaction import install as redaction_install

        redaction_install()  # no job token or API key in any log line (docs/security.md)
        from booktrack.core import schedules  # noqa: F401  (post_migrate hook installs beat schedules)
