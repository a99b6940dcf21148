from django.apps import AppConfig


class HarvestConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "harvest"

    def ready(self) -> None:
        from harvest.cover_decoration import harvested_cover_decoration
        from search.hooks import register_result_decorator

        # Harvested covers in the cover fields of search answers (harvest.cover_decoration).
        register_result_decorator(harvested_cover_decoration)
        from harvest.archival import archived_job_results, jobs_archive_for_cleanup
        from jobs.archive import archived_results_reader_register, jobs_archiver_register

        # The results routes read a job's results back from the archive once archival moved them, and
        # the hourly job cleanup archives what the daily run has not reached before it deletes.
        archived_results_reader_register(archived_job_results)
        jobs_archiver_register(jobs_archive_for_cleanup)
