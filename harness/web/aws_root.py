"""``POST /``: the AWS APIs that share the endpoint's root path.

AWS SDKs pointed at one endpoint URL (``AWS_ENDPOINT_URL``) send every service's
requests to ``/``: cognito-idp and cognito-identity in JSON 1.1 with an
``X-Amz-Target`` header (harness.web.aws_json_api), STS in the query protocol as a
form body with an ``Action`` (harness.web.sts_api). This face tells them apart, so
neither protocol module needs to know of the other.
"""

from __future__ import annotations

from harness.engine.store import Backend
from harness.web import aws_json_api, sts_api
from harness.web.http import Request, Response, Router


def install(router: Router, backend: Backend) -> None:
    def dispatch(request: Request) -> Response:
        if sts_api.is_sts_request(request):
            return sts_api.handle(backend, request)
        return aws_json_api.handle(backend, request)

    router.add("POST", "/", dispatch)
