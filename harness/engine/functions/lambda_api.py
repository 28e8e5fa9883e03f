"""Functions behind a Lambda Invoke API endpoint: ``sam local start-lambda``, LocalStack, moto server.

The call is botocore's own ``lambda`` client (``Invoke``, ``RequestResponse``)
with ``FunctionName`` = the ARN from the pool's LambdaConfig, so a team's real
functions, in any runtime, run unchanged. The endpoint must be on loopback
(the harness never calls off the machine), so the client signs with the
harness's dummy test keys, never with credentials found in the environment;
proxies from the environment are ignored for the same reason. One attempt per
call: Cognito's retries are :func:`harness.engine.triggers.invoke`'s.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, ClassVar

import botocore.session
from botocore.config import Config
from botocore.exceptions import (BotoCoreError, ClientError, ConnectionError as BotoConnectionError,
                                 ConnectTimeoutError, ReadTimeoutError)

from harness.coordinates import TEST_KEY
from harness.engine import outbound
from harness.engine.functions.outcomes import (BadAnswer, FunctionFailed, FunctionThrottled, FunctionTimedOut,
                                               FunctionUnreachable, Invocation)

LAMBDA_PREFIX = "lambda:"
DEFAULT_REGION = "us-east-1"
RETRYABLE_CODES = frozenset({"TooManyRequestsException", "ServiceException", "EC2ThrottledException",
                             "ResourceConflictException"})
"""Lambda errors a caller may retry (throttles and service faults); any other error code is final."""


def check_endpoint(url: str) -> str:
    """The endpoint URL, if it is on loopback (ValueError otherwise)."""
    if not outbound.is_loopback_url(url):
        raise ValueError(f"a Lambda endpoint must be http(s) on loopback (127.0.0.1/localhost), got {url!r}")
    return url.rstrip("/")


def region_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[0] == "arn" and parts[3] else DEFAULT_REGION


@dataclass(frozen=True)
class LambdaEndpoint:
    """A Lambda Invoke API at ``url`` (the binding ``lambda:http://127.0.0.1:3001``)."""

    url: str
    kind: ClassVar[str] = "lambda"

    def __str__(self) -> str:
        return f"{LAMBDA_PREFIX}{self.url}"


class LambdaClients:
    """botocore lambda clients, one per (endpoint, region, timeout): a client costs ~50 ms to make."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._session = botocore.session.get_session()
        self._clients: dict[tuple[str, str, float], Any] = {}

    def client(self, endpoint: str, region: str, timeout: float) -> Any:
        key = (endpoint, region, timeout)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                config = Config(connect_timeout=timeout, read_timeout=timeout, proxies={},
                                retries={"total_max_attempts": 1, "mode": "standard"})
                client = self._session.create_client("lambda", region_name=region, endpoint_url=endpoint,
                                                     aws_access_key_id=TEST_KEY, aws_secret_access_key=TEST_KEY,
                                                     config=config)
                self._clients[key] = client
            return client

    def invoke(self, endpoint: LambdaEndpoint, call: Invocation) -> Any:
        client = self.client(check_endpoint(endpoint.url), region_of(call.arn), call.timeout)
        try:
            answer = client.invoke(FunctionName=call.arn, InvocationType="RequestResponse",
                                   Payload=json.dumps(call.event).encode())
            payload = answer["Payload"].read()
        except (ReadTimeoutError, ConnectTimeoutError):
            raise FunctionTimedOut() from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code") or "ServiceException"
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in RETRYABLE_CODES or status == 429 or status >= 500:
                raise FunctionThrottled(code) from None
            raise FunctionUnreachable(code) from None
        except BotoConnectionError:
            raise FunctionUnreachable(f"cannot connect to the Lambda endpoint {endpoint.url}") from None
        except BotoCoreError as exc:
            raise FunctionUnreachable(type(exc).__name__) from None
        try:
            result = json.loads(payload) if payload.strip() else None
        except ValueError:
            if answer.get("FunctionError"):
                raise FunctionFailed(payload.decode("utf-8", "replace"), "Unhandled") from None
            raise BadAnswer() from None
        if answer.get("FunctionError"):
            if isinstance(result, dict) and "errorMessage" in result:
                raise FunctionFailed(str(result["errorMessage"]), str(result.get("errorType") or "Error"))
            raise FunctionFailed(json.dumps(result), str(answer["FunctionError"]))
        return result

    def close(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            client.close()


__all__ = ["LAMBDA_PREFIX", "LambdaClients", "LambdaEndpoint", "check_endpoint", "region_of"]
