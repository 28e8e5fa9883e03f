"""The pre-signed URL of a user import job: ``PUT /user-import/{pool_id}/{job_id}?X-Amz-...``.

CreateUserImportJob hands out this URL (harness.engine.import_jobs signs it); the CSV is PUT to it as
to S3 (``curl -T users.csv -H "x-amz-server-side-encryption:aws:kms" "$URL"``). The engine checks the
signature, the 15-minute lifetime and the job's status; this face only words its refusals as S3
does: an XML ``<Error>`` with a ``Code`` (``SignatureDoesNotMatch``, ``AccessDenied``) and 403.
"""

from __future__ import annotations

import hashlib
import uuid
from xml.sax.saxutils import escape

from harness.engine import import_jobs
from harness.engine.import_jobs import UploadReason, UploadRefused
from harness.engine.store import Backend
from harness.web.http import Request, Response, Router

S3_ERRORS: dict[UploadReason, tuple[str, str]] = {
    "signature": ("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you "
                                           "provided. Check your key and signing method."),
    "expired": ("AccessDenied", "Request has expired"),
    "no_such_upload": ("AccessDenied", "Access Denied"),
    "closed": ("AccessDenied", "Access Denied"),
}


def s3_error(code: str, message: str, status: int = 403) -> Response:
    request_id = uuid.uuid4().hex[:16].upper()
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>")
    return Response.text(body, status, content_type="application/xml", headers={"x-amz-request-id": request_id})


def install(router: Router, backend: Backend) -> None:
    @router.route("PUT", import_jobs.UPLOAD_PATH)
    def upload(request: Request) -> Response:
        query = {name: values[0] for name, values in request.query.items() if values}
        try:
            import_jobs.accept_upload(backend, request.params["pool_id"], request.params["job_id"], query,
                                      request.body)
        except UploadRefused as refused:
            return s3_error(*S3_ERRORS[refused.reason])
        etag = hashlib.md5(request.body, usedforsecurity=False).hexdigest()  # S3's ETag of a single PUT
        return Response(200, b"", {"ETag": f'"{etag}"'})
