"""User import jobs: create, upload the CSV to the pre-signed URL, start, stop, describe.

From the developer guide ("Importing users into user pools from a CSV file") and the API reference:

* CreateUserImportJob answers status ``Created`` and a pre-signed URL valid for 15 minutes; the CSV is
  PUT to it; a job not started within 24-48 hours becomes ``Expired`` (the emulator: 24 hours on the
  virtual clock) and cannot be started;
* a job imports users with every attribute of their row but a password: they land in
  ``RESET_REQUIRED``, sign-in answers PasswordResetRequiredException, ForgotPassword and
  ConfirmForgotPassword set a password; their creation date is the import's;
* each row needs ``cognito:username`` (unique, no spaces or tabs) and ``cognito:mfa_enabled`` (``true``
  when the pool's MFA is ON, ``false`` when OFF); ``email`` when ``email_verified`` is true and
  ``phone_number`` when ``phone_number_verified`` is; the pool's required attributes; and at least one
  of the pool's auto-verified attributes (email, phone_number) verified. A pool with neither
  auto-verified cannot start a job;
* a row that cannot be imported counts in FailedUsers and the job goes on; ``Stopped`` jobs carry
  "The Import Job was stopped by the developer.", failed ones "Too many users have failed or been
  skipped during the import." (the guide's samples).

The emulator's choices, where AWS says nothing: StartUserImportJob runs the whole import at once, so its
answer already shows ``Succeeded`` or ``Failed`` (AWS answers ``Pending`` and finishes later; a client
that polls DescribeUserImportJob until the status settles works the same); the event log records
``Pending`` and ``InProgress`` on the way. A row whose username exists counts in SkippedUsers, any other
refused row in FailedUsers (each with an ``import.row`` event naming its line and reason). A job fails
when it imported nobody while some rows failed or were skipped, or when the file itself is unusable (its
header is not GetCSVHeader's columns, it is not UTF-8). StopUserImportJob stops a job that has not run
(``Created``); a finished one is a PreconditionNotMetException. ``PasswordHashingAlgorithm`` is kept and
shown, but no password hash is imported: users still land in ``RESET_REQUIRED``. Starting a job with
no uploaded file is a PreconditionNotMetException.

The pre-signed URL points at the emulator (``<served url>/user-import/<pool id>/<job id>``, served by
harness.web.import_upload) and carries ``X-Amz-Date``, ``X-Amz-Expires`` and ``X-Amz-Signature``: an
HMAC-SHA256 of the method, path, date and lifetime under a key kept with the job, so an altered or
expired URL is refused (:class:`UploadRefused`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from harness.encoding import secrets_equal, utf8
from harness.engine import attributes as attrs
from harness.engine import import_csv, users
from harness.engine.import_csv import MFA_COLUMN, USERNAME_COLUMN, CsvProblem, Row
from harness.engine.models import UserImportJob, UserPool
from harness.errors import CognitoError, Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

UPLOAD_VALID_SECONDS = 900
EXPIRES_AFTER_SECONDS = 24 * 3600
UPLOAD_PATH = "/user-import/{pool_id}/{job_id}"
STOPPED_MESSAGE = "The Import Job was stopped by the developer."
TOO_MANY_FAILED = "Too many users have failed or been skipped during the import."
NOT_STARTED = ("Created",)
FINISHED = ("Succeeded", "Failed", "Stopped", "Expired")
IMPORT_JOB_STATUS = "import.job"  # event: a job changed status (job_id, status)
IMPORT_ROW = "import.row"  # event: a row was skipped or failed (job_id, line, outcome, reason)
AUTO_VERIFIABLE = ("email", "phone_number")
_ROLE_ARN = re.compile(r"arn:aws[\w-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+")

UploadReason = Literal["no_such_upload", "signature", "expired", "closed"]


class UploadRefused(Exception):
    """Why a PUT to a pre-signed URL is refused (the web face words it as S3 does)."""

    def __init__(self, reason: UploadReason) -> None:
        super().__init__(reason)
        self.reason: UploadReason = reason


# --- jobs --------------------------------------------------------------------------------


def create(backend: Backend, pool: UserPool, name: str, role_arn: str, algorithm: str | None) -> UserImportJob:
    """CreateUserImportJob: a job in ``Created`` with a fresh upload key."""
    if not _ROLE_ARN.fullmatch(role_arn):
        raise Err.ROLE_ARN_INVALID.error(arn=role_arn)
    job = UserImportJob(job_id=f"import-{backend.ids.hex(5)}", name=name, pool_id=pool.pool_id, role_arn=role_arn,
                        created=backend.clock.now(), upload_key=backend.ids.hex(32),
                        password_hashing_algorithm=algorithm)
    pool.import_jobs[job.job_id] = job
    _event(backend, job)
    return job


def find(backend: Backend, pool: UserPool, job_id: str) -> UserImportJob:
    """A job of the pool (ResourceNotFoundException), expired first if its time is up."""
    job = pool.import_jobs.get(job_id)
    if job is None:
        raise Err.IMPORT_JOB_NOT_FOUND.error(job_id=job_id)
    _expire(backend, job)
    return job


def newest_first(backend: Backend, pool: UserPool) -> list[UserImportJob]:
    """ListUserImportJobs' order: last created first."""
    for job in pool.import_jobs.values():
        _expire(backend, job)
    return sorted(pool.import_jobs.values(), key=lambda j: j.created, reverse=True)


def _expire(backend: Backend, job: UserImportJob) -> None:
    if job.status in NOT_STARTED and backend.clock.now() >= job.created + EXPIRES_AFTER_SECONDS:
        job.csv = None
        _set_status(backend, job, "Expired")


def _set_status(backend: Backend, job: UserImportJob, status: str) -> None:
    job.status = status
    _event(backend, job)


def _event(backend: Backend, job: UserImportJob) -> None:
    backend.events.emit(IMPORT_JOB_STATUS, job.pool_id, job_id=job.job_id, status=job.status)


def _finish(backend: Backend, job: UserImportJob, status: str, message: str | None) -> None:
    job.completed = backend.clock.now()
    job.completion_message = message
    job.csv = None
    job.upload_problem = None
    _set_status(backend, job, status)


def stop(backend: Backend, job: UserImportJob) -> None:
    """StopUserImportJob: a job that has not finished stops for good."""
    if job.status in FINISHED:
        raise Err.IMPORT_JOB_NOT_STOPPABLE.error(job_id=job.job_id, status=job.status)
    _finish(backend, job, "Stopped", STOPPED_MESSAGE)


def start(backend: Backend, pool: UserPool, job: UserImportJob) -> None:
    """StartUserImportJob: run the import now (see the module docstring)."""
    if job.status not in NOT_STARTED:
        raise Err.IMPORT_JOB_NOT_STARTABLE.error(job_id=job.job_id, status=job.status)
    if job.csv is None:
        raise Err.IMPORT_NO_FILE.error(job_id=job.job_id)
    auto = [a for a in AUTO_VERIFIABLE if a in pool.auto_verified_attributes]
    if not auto:
        raise Err.IMPORT_NEEDS_AUTO_VERIFY.error()
    job.started = backend.clock.now()
    _set_status(backend, job, "Pending")
    _set_status(backend, job, "InProgress")
    try:
        if job.upload_problem is not None:
            raise CsvProblem(job.upload_problem)
        for row in import_csv.rows(pool, job.csv):
            _import_row(backend, pool, job, row, auto)
    except CsvProblem as problem:
        _finish(backend, job, "Failed", str(problem))
        return
    if job.imported == 0 and (job.failed or job.skipped):
        _finish(backend, job, "Failed", TOO_MANY_FAILED)
    else:
        _finish(backend, job, "Succeeded", None)


# --- rows ----------------------------------------------------------------------------------


class _RowRefused(ValueError):
    pass


def _row_values(pool: UserPool, row: Row, auto: list[str]) -> tuple[str, dict[str, str], bool]:
    """(username, attributes, MFA enabled) of a row that satisfies the import's own rules."""
    values = {k: v for k, v in row.values.items() if v != ""}
    username = values.pop(USERNAME_COLUMN, "")
    mfa_raw = values.pop(MFA_COLUMN, "")
    if not username:
        raise _RowRefused(f"{USERNAME_COLUMN} is required")
    if " " in username or "\t" in username:
        raise _RowRefused(f"{USERNAME_COLUMN} cannot contain spaces or tabs")
    if len(username) > 128:
        raise _RowRefused(f"{USERNAME_COLUMN} is longer than 128 characters")
    if mfa_raw.lower() not in ("true", "false"):
        raise _RowRefused(f"{MFA_COLUMN} must be true or false")
    mfa_on = mfa_raw.lower() == "true"
    if pool.mfa_configuration == "ON" and not mfa_on:
        raise _RowRefused(f"{MFA_COLUMN} must be true: the pool requires MFA")
    if pool.mfa_configuration == "OFF" and mfa_on:
        raise _RowRefused(f"{MFA_COLUMN} must be false: MFA is off in the pool")
    for flag in ("email_verified", "phone_number_verified"):
        if flag in values:
            values[flag] = values[flag].lower()
    merged = {**values, **users.sign_in_attribute_values(pool, username)}
    for attribute in AUTO_VERIFIABLE:
        if attrs.is_true(merged.get(f"{attribute}_verified")) and not merged.get(attribute):
            raise _RowRefused(f"{attribute}_verified is true but {attribute} is empty")
    if not any(attrs.is_true(merged.get(f"{a}_verified")) for a in auto):
        raise _RowRefused(f"one of the pool's auto-verified attributes ({', '.join(auto)}) must be verified")
    return username, values, mfa_on


def _import_row(backend: Backend, pool: UserPool, job: UserImportJob, row: Row, auto: list[str]) -> None:
    try:
        if row.problem is not None:
            raise _RowRefused(row.problem)
        username, values, mfa_on = _row_values(pool, row, auto)
        user = users.create_user(backend, pool, username, values, status="RESET_REQUIRED", check_required=True,
                                 admin=True)
    except CognitoError as error:
        skipped = error.type == "UsernameExistsException"
        _row_event(backend, job, row, "skipped" if skipped else "failed", error.message)
        if skipped:
            job.skipped += 1
        else:
            job.failed += 1
        return
    except _RowRefused as refused:
        _row_event(backend, job, row, "failed", str(refused))
        job.failed += 1
        return
    if mfa_on and user.attributes.get("phone_number"):
        user.mfa.sms_enabled = True  # cognito:mfa_enabled: SMS MFA, the one factor a file can carry
    job.imported += 1


def _row_event(backend: Backend, job: UserImportJob, row: Row, outcome: str, reason: str) -> None:
    backend.events.emit(IMPORT_ROW, job.pool_id, job_id=job.job_id, line=row.line, outcome=outcome,
                        reason=reason.strip())


# --- the pre-signed upload URL -------------------------------------------------------------


def _amz_date(job: UserImportJob) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(int(job.created)))


def _signature(job: UserImportJob, date: str, expires: str) -> str:
    path = UPLOAD_PATH.format(pool_id=job.pool_id, job_id=job.job_id)
    return hmac.new(utf8(job.upload_key), utf8(f"PUT\n{path}\n{date}\n{expires}"), hashlib.sha256).hexdigest()


def presigned_url(backend: Backend, job: UserImportJob) -> str:
    """Where the CSV goes: the emulator's own upload face, signed for 15 minutes from the job's creation."""
    date, expires = _amz_date(job), str(UPLOAD_VALID_SECONDS)
    path = UPLOAD_PATH.format(pool_id=job.pool_id, job_id=job.job_id)
    query = (f"X-Amz-Algorithm=HMAC-SHA256&X-Amz-Date={date}&X-Amz-Expires={expires}"
             f"&X-Amz-SignedHeaders=host&X-Amz-Signature={_signature(job, date, expires)}")
    return f"{backend.settings.public_url.rstrip('/')}{path}?{query}"


def accept_upload(backend: Backend, pool_id: str, job_id: str, query: Mapping[str, str], body: bytes) -> None:
    """A PUT to a pre-signed URL: keep the file for the job, or UploadRefused."""
    with backend.transaction():
        pool = backend.pools.get(pool_id)
        job = pool.import_jobs.get(job_id) if pool is not None else None
        if job is None:
            raise UploadRefused("no_such_upload")
        date, expires = query.get("X-Amz-Date", ""), query.get("X-Amz-Expires", "")
        if not secrets_equal(query.get("X-Amz-Signature"), _signature(job, date, expires)):
            raise UploadRefused("signature")
        if backend.clock.now() > job.created + int(expires):  # signed by us: the lifetime is ours
            raise UploadRefused("expired")
        _expire(backend, job)
        if job.status not in NOT_STARTED:
            raise UploadRefused("closed")
        try:
            job.csv, job.upload_problem = body.decode("utf-8"), None
        except UnicodeDecodeError:
            job.csv, job.upload_problem = body.decode("utf-8", "replace"), "The CSV file is not UTF-8."


def view(backend: Backend, job: UserImportJob) -> dict[str, Any]:
    """The UserImportJobType of a job."""
    out: dict[str, Any] = {
        "JobName": job.name,
        "JobId": job.job_id,
        "UserPoolId": job.pool_id,
        "PreSignedUrl": presigned_url(backend, job),
        "CreationDate": job.created,
        "Status": job.status,
        "CloudWatchLogsRoleArn": job.role_arn,
        "ImportedUsers": job.imported,
        "SkippedUsers": job.skipped,
        "FailedUsers": job.failed,
    }
    optional = {"StartDate": job.started, "CompletionDate": job.completed,
                "CompletionMessage": job.completion_message, "PasswordHashingAlgorithm": job.password_hashing_algorithm}
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


__all__ = ["EXPIRES_AFTER_SECONDS", "IMPORT_JOB_STATUS", "IMPORT_ROW", "UPLOAD_PATH", "UPLOAD_VALID_SECONDS",
           "UploadRefused", "accept_upload", "create", "find", "newest_first", "presigned_url", "start", "stop", "view"]
