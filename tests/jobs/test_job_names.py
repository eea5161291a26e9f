"""Every job name the code enqueues resolves to a job function, so a renamed job fails here, not in a worker."""

import importlib

import pytest

from jobqueue import job_names

NAMES = {name: value for name, value in vars(job_names).items() if name.isupper() and not name.startswith("_")}


def test_every_job_in_jobqueue_jobs_has_a_name():
    jobs = importlib.import_module("jobqueue.jobs")
    public = {f"jobqueue.jobs.{name}" for name, value in vars(jobs).items()
              if callable(value) and getattr(value, "__module__", "") == "jobqueue.jobs"
              and not name.startswith("_") and name != "job"}
    assert public == set(NAMES.values())


@pytest.mark.parametrize("constant", sorted(NAMES))
def test_the_name_resolves_to_a_function(constant):
    module, _, function = NAMES[constant].rpartition(".")
    assert callable(getattr(importlib.import_module(module), function))
