from django.apps import AppConfig


class HarvestConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "harvest"

    def ready(self) -> None:
        from harvest.archival import archived_job_results
        from jobs.archive import archived_results_reader_register

        # The results routes read a job's results back from the archive once archival moved them.
        archived_results_reader_register(archived_job_results)
