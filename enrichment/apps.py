from django.apps import AppConfig


class EnrichmentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "enrichment"

    def ready(self) -> None:
        from enrichment import tasks_authors  # noqa: F401 - registers enrichment.fill_author_facts
        from enrichment.search_decoration import search_result_decoration
        from search.hooks import register_result_decorator

        # Search cannot import enrichment: it calls what is registered here on every answer.
        register_result_decorator(search_result_decoration)
