from tests.jobs.conftest import make_job  # noqa: F401  (the job factory, for routes that take a job)
