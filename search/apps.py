from django.apps import AppConfig


class SearchConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "search"

    def ready(self) -> None:
        from booktrack.core import metrics
        from search.budgets import budget_figures_for_metrics

        # /metrics and the alert check show each provider's remaining outbound budget.
        metrics.register_budget_reader("search", budget_figures_for_metrics)
