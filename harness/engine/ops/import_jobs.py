"""CSV user import: GetCSVHeader, CreateUserImportJob, StartUserImportJob, DescribeUserImportJob,
ListUserImportJobs, StopUserImportJob.

The file format is :mod:`harness.engine.import_csv`, the job's rules and its pre-signed URL
:mod:`harness.engine.import_jobs` (which also says what the emulator chose where AWS is silent).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.engine import import_csv, import_jobs
from harness.engine.ops.paging import page
from harness.engine.registry import operation

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


@operation("GetCSVHeader")
def get_csv_header(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    return {"UserPoolId": pool.pool_id, "CSVHeader": import_csv.header(pool)}


@operation("CreateUserImportJob")
def create_user_import_job(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    job = import_jobs.create(backend, pool, params["JobName"], params["CloudWatchLogsRoleArn"],
                             params.get("PasswordHashingAlgorithm"))
    return {"UserImportJob": import_jobs.view(backend, job)}


@operation("StartUserImportJob")
def start_user_import_job(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    job = import_jobs.find(backend, pool, params["JobId"])
    import_jobs.start(backend, pool, job)
    return {"UserImportJob": import_jobs.view(backend, job)}


@operation("DescribeUserImportJob")
def describe_user_import_job(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    return {"UserImportJob": import_jobs.view(backend, import_jobs.find(backend, pool, params["JobId"]))}


@operation("ListUserImportJobs")
def list_user_import_jobs(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    chunk, token = page(import_jobs.newest_first(backend, pool), lambda j: j.job_id, params["MaxResults"],
                        params.get("PaginationToken"), scope=f"ListUserImportJobs:{pool.pool_id}")
    out: dict[str, Any] = {}
    if chunk:  # the model's list has at least one member: an empty listing leaves it out
        out["UserImportJobs"] = [import_jobs.view(backend, job) for job in chunk]
    if token:
        out["PaginationToken"] = token
    return out


@operation("StopUserImportJob")
def stop_user_import_job(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    job = import_jobs.find(backend, pool, params["JobId"])
    import_jobs.stop(backend, job)
    return {"UserImportJob": import_jobs.view(backend, job)}
