from django.apps import AppConfig


class HarvestConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "harvest"

    def ready(self) -> None:
        from harvest.cover_decoration import harvested_cover_decoration
        from search.hooks import register_result_decorator

        # Harvested covers in the cover fields of search answers (harvest.cover_decoration).
        register_result_decorator(harvested_cover_decoration)
