"""How a trigger's function is reached (issue 15, items 1, 3, 4): a real Lambda Invoke API, Python and
Node handler paths, a URL and a callable; Cognito's 5-second limit and retries; its three errors; faults;
and every invocation in the event log. Real boto3 drives SignUp over HTTP; tokens are checked with PyJWT."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from botocore.exceptions import ClientError

from harness.cli import main as cli_main
from harness.engine.triggers import set_trigger
from harness.pooldef import build_pool
from harness.server import Emulator
from tests.lambda_invoke_server import Context, LambdaInvokeServer

PASSWORD = "Passw0rd!x"
SHORT_TIMEOUT = 0.3  # tests only: a timeout costs 3 x this, not Cognito's 3 x 5 s
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not on PATH: the node: handler path needs Node.js")


def auto_confirm(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    event["response"]["autoConfirmUser"] = True
    event["response"]["autoVerifyEmail"] = True
    return event


@pytest.fixture()
def lambda_server() -> Iterator[LambdaInvokeServer]:
    with LambdaInvokeServer() as server:
        yield server


@pytest.fixture()
def fast(emulator: Emulator) -> Emulator:
    emulator.backend.triggers.timeout = SHORT_TIMEOUT
    return emulator


def new_pool(idp: Any, **settings: Any) -> tuple[str, str]:
    pool_id = idp.create_user_pool(PoolName="trig", AutoVerifiedAttributes=["email"], **settings)["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def sign_up(idp: Any, client_id: str, username: str) -> dict[str, Any]:
    return idp.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                       UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
                       ValidationData=[{"Name": "invite", "Value": "abc"}])


def refused(idp: Any, client_id: str, username: str) -> dict[str, str]:
    with pytest.raises(ClientError) as info:
        sign_up(idp, client_id, username)
    return info.value.response["Error"]


def absent(idp: Any, pool_id: str, username: str) -> bool:
    try:
        idp.admin_get_user(UserPoolId=pool_id, Username=username)
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "UserNotFoundException"
    return False


def verified_id_token(emulator: Emulator, idp: Any, pool_id: str, client_id: str, username: str) -> dict[str, Any]:
    result = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD})["AuthenticationResult"]
    jwks = requests.get(f"{emulator.url}/{pool_id}/.well-known/jwks.json", timeout=5).json()
    keys = {k["kid"]: jwt.PyJWK(k) for k in jwks["keys"]}
    token = result["IdToken"]
    return jwt.decode(token, keys[jwt.get_unverified_header(token)["kid"]].key, algorithms=["RS256"],
                      audience=client_id, options={"verify_iat": False})


def trigger_events(emulator: Emulator, pool_id: str) -> list[dict[str, Any]]:
    return [{"type": e.type, **e.data} for e in emulator.backend.events.list("trigger.*", pool_id)]


# --- the Lambda Invoke API ---------------------------------------------------------------------------


def test_a_function_behind_the_lambda_invoke_api(emulator: Emulator, idp: Any,
                                                 lambda_server: LambdaInvokeServer) -> None:
    seen: list[tuple[dict[str, Any], Context]] = []

    def pre_sign_up(event: dict[str, Any], context: Context) -> dict[str, Any]:
        seen.append((json.loads(json.dumps(event)), context))
        return auto_confirm(event)

    arn = lambda_server.register("pre-sign-up", pre_sign_up)
    emulator.backend.triggers.set_endpoint(lambda_server.url)
    pool_id, client_id = new_pool(idp, LambdaConfig={"PreSignUp": arn})
    assert sign_up(idp, client_id, "amy")["UserConfirmed"] is True

    (request,) = lambda_server.received
    assert request.path == ("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction"
                            "%3Apre-sign-up/invocations")  # FunctionName is the ARN from LambdaConfig
    assert request.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert "/us-east-1/lambda/aws4_request" in request.headers["Authorization"]
    assert request.headers.get("X-Amz-Invocation-Type") == "RequestResponse"
    event, _ = seen[0]
    assert event == {
        "version": "1", "region": "us-east-1", "userPoolId": pool_id, "userName": "amy",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id},
        "triggerSource": "PreSignUp_SignUp",
        "request": {"userAttributes": {"email": "amy@example.com"}, "validationData": {"invite": "abc"}},
        "response": {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
    }
    claims = verified_id_token(emulator, idp, pool_id, client_id, "amy")
    assert claims["cognito:username"] == "amy" and claims["email_verified"] is True

    (logged,) = trigger_events(emulator, pool_id)
    assert logged["type"] == "trigger.invoked" and logged["outcome"] == "ok"
    assert logged["binding"] == "lambda" and logged["target"] == f"lambda:{lambda_server.url}"
    assert logged["arn"] == arn and logged["source"] == "PreSignUp_SignUp" and logged["event"] == event
    assert logged["response"] == {"autoConfirmUser": True, "autoVerifyEmail": True, "autoVerifyPhone": False}
    assert logged["duration_ms"] >= 0 and [a["outcome"] for a in logged["attempts"]] == ["ok"]


def test_the_functions_error_is_user_lambda_validation(emulator: Emulator, idp: Any,
                                                      lambda_server: LambdaInvokeServer) -> None:
    def deny(event: dict[str, Any], context: Context) -> None:
        raise ValueError("invitations only")

    arn = lambda_server.register("deny", deny)
    emulator.backend.triggers.set_endpoint(lambda_server.url)
    pool_id, client_id = new_pool(idp, LambdaConfig={"PreSignUp": arn})
    error = refused(idp, client_id, "ben")
    assert error == {"Code": "UserLambdaValidationException", "Message": "PreSignUp failed with error invitations only."}
    assert absent(idp, pool_id, "ben")
    (logged,) = trigger_events(emulator, pool_id)
    assert (logged["type"], logged["outcome"], logged["error"]) == ("trigger.failed", "error",
                                                                   "UserLambdaValidationException")
    assert logged["event"]["userName"] == "ben"


def test_an_unknown_function_and_garbage(emulator: Emulator, idp: Any, lambda_server: LambdaInvokeServer) -> None:
    lambda_server.register("garbage", lambda event, context: b"<html>not json")
    emulator.backend.triggers.set_endpoint(lambda_server.url)
    pool_id, client_id = new_pool(idp, LambdaConfig={"PreSignUp": "arn:aws:lambda:us-east-1:123456789012:function:gone"})
    assert refused(idp, client_id, "cal") == {
        "Code": "UnexpectedLambdaException",
        "Message": "PreSignUp invocation failed due to error ResourceNotFoundException."}
    assert len(lambda_server.invocations("gone")) == 1  # not retried: the function does not exist
    idp.update_user_pool(UserPoolId=pool_id, AutoVerifiedAttributes=["email"],
                         LambdaConfig={"PreSignUp": "arn:aws:lambda:us-east-1:123456789012:function:garbage"})
    assert refused(idp, client_id, "cal") == {"Code": "InvalidLambdaResponseException",
                                              "Message": "Unrecognizable lambda output"}
    assert [e["outcome"] for e in trigger_events(emulator, pool_id)] == ["unreachable", "garbage"]
    assert absent(idp, pool_id, "cal")


def test_throttles_are_retried_three_attempts_in_all(emulator: Emulator, idp: Any,
                                                    lambda_server: LambdaInvokeServer) -> None:
    arn = lambda_server.register("pre", auto_confirm)
    emulator.backend.triggers.set_endpoint(lambda_server.url)
    pool_id, client_id = new_pool(idp, LambdaConfig={"PreSignUp": arn})
    lambda_server.throttle(2)
    assert sign_up(idp, client_id, "dee")["UserConfirmed"] is True
    lambda_server.throttle(3)
    assert refused(idp, client_id, "eve") == {
        "Code": "UnexpectedLambdaException", "Message": "PreSignUp invocation failed due to error TooManyRequestsException."}
    assert len(lambda_server.invocations("pre")) == 6
    first, second = trigger_events(emulator, pool_id)
    assert [a["outcome"] for a in first["attempts"]] == ["throttled", "throttled", "ok"]
    assert (second["outcome"], [a["outcome"] for a in second["attempts"]]) == ("throttled", ["throttled"] * 3)
    assert absent(idp, pool_id, "eve")


def test_a_slow_function_times_out_after_three_attempts(fast: Emulator, idp: Any,
                                                       lambda_server: LambdaInvokeServer) -> None:
    def slow(event: dict[str, Any], context: Context) -> dict[str, Any]:
        lambda_server.release.wait(30)  # until the server stops: never within the timeout
        return event

    arn = lambda_server.register("slow", slow)
    fast.backend.triggers.set_endpoint(lambda_server.url)
    pool_id, client_id = new_pool(idp, LambdaConfig={"PreSignUp": arn})
    assert refused(idp, client_id, "fay") == {
        "Code": "UnexpectedLambdaException",
        "Message": "PreSignUp invocation failed due to error Socket timeout while invoking Lambda function."}
    assert len(lambda_server.invocations("slow")) == 3  # Cognito retried twice
    (logged,) = trigger_events(fast, pool_id)
    assert logged["outcome"] == "timeout" and [a["outcome"] for a in logged["attempts"]] == ["timeout"] * 3
    assert all(a["duration_ms"] >= SHORT_TIMEOUT * 1000 * 0.9 for a in logged["attempts"])
    assert absent(idp, pool_id, "fay")


def test_an_arn_bound_to_nothing_fails_and_says_how_to_bind_it(emulator: Emulator, idp: Any) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:pre"
    pool_id, client_id = new_pool(idp, LambdaConfig={"PreSignUp": arn})
    error = refused(idp, client_id, "gus")
    assert error["Code"] == "UnexpectedLambdaException"
    assert error["Message"].startswith("PreSignUp invocation failed due to error AccessDeniedException. ")
    assert arn in error["Message"] and "--lambda-endpoint" in error["Message"] and "python:" in error["Message"]
    assert absent(idp, pool_id, "gus")
    (logged,) = trigger_events(emulator, pool_id)
    assert (logged["type"], logged["arn"], logged["outcome"]) == ("trigger.unbound", arn, "unbound")


def test_a_pool_definition_binds_an_endpoint_and_handlers(emulator: Emulator, idp: Any, tmp_path: Path,
                                                          lambda_server: LambdaInvokeServer) -> None:
    arn = lambda_server.register("pre", auto_confirm)
    handle = build_pool(emulator.backend, {
        "pool": {"name": "def", "triggers": {
            "lambda_endpoint": lambda_server.url, "PreSignUp": arn,
            "PreTokenGeneration": {"handler": "http://127.0.0.1:9/never", "version": "V2_0"}}},
        "clients": {"web": {"explicit_auth_flows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}},
    }, str(tmp_path / "pool.toml"))
    config = idp.describe_user_pool(UserPoolId=handle.pool_id)["UserPool"]["LambdaConfig"]
    assert config["PreSignUp"] == arn
    assert config["PreTokenGenerationConfig"]["LambdaVersion"] == "V2_0"
    assert config["PreTokenGeneration"] == config["PreTokenGenerationConfig"]["LambdaArn"]
    assert sign_up(idp, handle.clients["web"].client_id, "hal")["UserConfirmed"] is True
    assert emulator.backend.triggers.describe()["pool_endpoints"] == {handle.pool_id: lambda_server.url}
    with pytest.raises(ValueError, match=r"pool.triggers.PreSigUp: unknown trigger"):
        build_pool(emulator.backend, {"pool": {"triggers": {"PreSigUp": arn}}}, "bad.toml")
    with pytest.raises(ValueError, match=r"lambda_endpoint: a Lambda endpoint must be http\(s\) on loopback"):
        build_pool(emulator.backend, {"pool": {"triggers": {"lambda_endpoint": "http://10.1.2.3:3001"}}}, "bad.toml")


# --- Python handlers -----------------------------------------------------------------------------------


HANDLERS = '''
import os, sys, time

CALLS = []

def pre_sign_up(event, context):
    CALLS.append({"function_name": context.function_name, "request_id": context.aws_request_id,
                  "remaining": context.get_remaining_time_in_millis(), "arn": context.invoked_function_arn})
    print("not the answer")  # a handler's print must not garble the answer
    event["response"]["autoConfirmUser"] = True
    event["response"]["autoVerifyEmail"] = len(CALLS) > 1  # warm: module state lives on
    return event

def crash(event, context):
    os._exit(3)

def hang(event, context):
    time.sleep(60)

def broken(event, context):
    raise PermissionError("legacy store says no")

def not_json(event, context):
    return {"response": {1, 2}}
'''


@pytest.fixture()
def handler_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"trigger_handlers_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(HANDLERS))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_a_python_handler_path_in_process(fast: Emulator, idp: Any, handler_module: str) -> None:
    pool_id, client_id = new_pool(idp)
    arn = set_trigger(fast.backend, pool_id, "PreSignUp", f"python:{handler_module}:pre_sign_up")
    assert sign_up(idp, client_id, "ida")["UserConfirmed"] is True
    calls = sys.modules[handler_module].CALLS
    assert calls[0]["function_name"] == f"harness-{pool_id}-PreSignUp" and calls[0]["arn"] == arn
    assert 0 < calls[0]["remaining"] <= SHORT_TIMEOUT * 1000
    assert len(calls[0]["request_id"]) == 36
    set_trigger(fast.backend, pool_id, "PreSignUp", f"python:{handler_module}:broken")
    assert refused(idp, client_id, "jon")["Message"] == "PreSignUp failed with error legacy store says no."
    set_trigger(fast.backend, pool_id, "PreSignUp", f"python:{handler_module}:not_json")
    assert refused(idp, client_id, "jon")["Message"].startswith("PreSignUp failed with error Unable to marshal")
    set_trigger(fast.backend, pool_id, "PreSignUp", "python:no_such_module_here:handler")
    assert refused(idp, client_id, "jon")["Message"].startswith(
        "PreSignUp failed with error Unable to import module 'no_such_module_here'")
    (first, *_) = trigger_events(fast, pool_id)
    assert first["binding"] == "python" and first["target"] == f"python:{handler_module}:pre_sign_up"


def test_python_handlers_in_worker_processes_cannot_take_the_server_down(handler_module: str) -> None:
    with Emulator.start(seed=7, isolate_python=True) as emu:
        emu.backend.triggers.timeout = 2.0  # a cold worker imports the handler within it
        idp = emu.boto3_client()
        pool_id, client_id = new_pool(idp)
        set_trigger(emu.backend, pool_id, "PreSignUp", f"python:{handler_module}:pre_sign_up")
        assert sign_up(idp, client_id, "kim")["UserConfirmed"] is True
        assert sign_up(idp, client_id, "kit")["UserConfirmed"] is True
        # the second call found the worker warm: the module's state had the first call in it
        assert {a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=pool_id, Username="kit")[
            "UserAttributes"]}["email_verified"] == "true"
        assert handler_module not in sys.modules  # never imported by the server itself
        set_trigger(emu.backend, pool_id, "PreSignUp", f"python:{handler_module}:crash")
        assert refused(idp, client_id, "lee")["Message"] == \
            "PreSignUp failed with error Runtime exited with error: exit status 3."
        emu.backend.triggers.timeout = SHORT_TIMEOUT
        set_trigger(emu.backend, pool_id, "PreSignUp", f"python:{handler_module}:hang")
        assert refused(idp, client_id, "lee")["Code"] == "UnexpectedLambdaException"
        emu.backend.triggers.timeout = 2.0
        set_trigger(emu.backend, pool_id, "PreSignUp", f"python:{handler_module}:pre_sign_up")
        assert sign_up(idp, client_id, "lou")["UserConfirmed"] is True  # the server carries on
        outcomes = [e["outcome"] for e in trigger_events(emu, pool_id)]
        assert outcomes == ["ok", "ok", "error", "timeout", "ok"]
        assert emu.backend.unmodeled_errors == []


# --- Node handlers ---------------------------------------------------------------------------------------


NODE_HANDLERS = {
    "async.js": """
        exports.handler = async (event, context) => {
          console.log("log lines go to stderr, not into the answer");
          event.response.autoConfirmUser = context.functionName.length > 0 && context.getRemainingTimeInMillis() > 0;
          event.response.autoVerifyEmail = context.awsRequestId.length === 36;
          return event;
        };
        exports.broken = async () => { throw new Error("node says no"); };
    """,
    "callback.js": """
        exports.handler = (event, context, callback) => {
          setTimeout(() => { event.response.autoConfirmUser = true; callback(null, event); }, 5);
        };
        exports.hang = (event, context, callback) => { setInterval(() => {}, 1000); };
    """,
    "esm.mjs": "export const handler = async (event) => ({...event, response: {...event.response, autoConfirmUser: true}});",
}


@needs_node
def test_a_node_handler_path(fast: Emulator, idp: Any, tmp_path: Path) -> None:
    fast.backend.triggers.timeout = 5.0  # node starts in ~50 ms; the hang case shortens it below
    for name, source in NODE_HANDLERS.items():
        (tmp_path / name).write_text(textwrap.dedent(source))
    pool_id, client_id = new_pool(idp)
    bind = f"{fast.url}/_harness/pools/{pool_id}/triggers"
    answer = requests.post(bind, json={"trigger": "PreSignUp", "handler": f"node:{tmp_path}/async.handler"}, timeout=5)
    assert answer.status_code == 200, answer.text
    assert sign_up(idp, client_id, "max")["UserConfirmed"] is True
    attributes = {a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=pool_id, Username="max")["UserAttributes"]}
    assert attributes["email_verified"] == "true"  # the context's awsRequestId reached the handler
    set_trigger(fast.backend, pool_id, "PreSignUp", f"node:{tmp_path}/callback.handler")
    assert sign_up(idp, client_id, "mia")["UserConfirmed"] is True
    set_trigger(fast.backend, pool_id, "PreSignUp", "node:esm.handler", base=tmp_path)
    assert sign_up(idp, client_id, "moe")["UserConfirmed"] is True
    set_trigger(fast.backend, pool_id, "PreSignUp", f"node:{tmp_path}/async.broken")
    assert refused(idp, client_id, "ned")["Message"] == "PreSignUp failed with error node says no."
    fast.backend.triggers.timeout = 0.5
    set_trigger(fast.backend, pool_id, "PreSignUp", f"node:{tmp_path}/callback.hang")
    assert refused(idp, client_id, "ned")["Code"] == "UnexpectedLambdaException"
    assert [(e["binding"], e["outcome"]) for e in trigger_events(fast, pool_id)] == [
        ("node", "ok"), ("node", "ok"), ("node", "ok"), ("node", "error"), ("node", "timeout")]
    missing = requests.post(bind, json={"trigger": "PreSignUp", "handler": "node:/no/such/index.handler"}, timeout=5)
    assert missing.status_code == 400 and missing.json()["field"] == "handler"


# --- URL and callable ------------------------------------------------------------------------------------


def test_a_url_binding_and_its_error(emulator: Emulator, idp: Any, lambda_server: LambdaInvokeServer) -> None:
    lambda_server.register("confirm", auto_confirm)
    lambda_server.register("deny", lambda event, context: (_ for _ in ()).throw(RuntimeError("closed")))
    pool_id, client_id = new_pool(idp)
    set_trigger(emulator.backend, pool_id, "PreSignUp", f"{lambda_server.url}/url/confirm")
    assert sign_up(idp, client_id, "ola")["UserConfirmed"] is True
    set_trigger(emulator.backend, pool_id, "PreSignUp", f"{lambda_server.url}/url/deny")
    assert refused(idp, client_id, "oli")["Message"] == "PreSignUp failed with error closed."
    assert [(e["binding"], e["outcome"]) for e in trigger_events(emulator, pool_id)] == [("url", "ok"), ("url", "error")]
    with pytest.raises(ValueError, match="loopback"):
        set_trigger(emulator.backend, pool_id, "PreSignUp", "http://example.com/hook")


def test_the_pytest_fixture_binds_a_callable(cognito_pool: Any, cognito_triggers: Any, cognito_idp: Any) -> None:
    contexts: list[Any] = []

    def pre_sign_up(event: dict[str, Any], context: Any) -> None:
        contexts.append(context)
        event["response"]["autoConfirmUser"] = True  # changed in place: None answers the event

    arn = cognito_triggers.bind("PreSignUp", pre_sign_up)
    answer = cognito_idp.sign_up(ClientId=cognito_pool.client_id, Username="pat", Password="Passw0rd!x-long")
    assert answer["UserConfirmed"] is True
    assert contexts[0].invoked_function_arn == arn and contexts[0].get_remaining_time_in_millis() > 0
    (logged,) = cognito_triggers.invocations("PreSignUp")
    assert (logged["type"], logged["binding"], logged["outcome"]) == ("trigger.invoked", "callable", "ok")


# --- faults and the control plane -------------------------------------------------------------------------


def test_faults_make_a_trigger_slow_fail_or_answer_garbage(emulator: Emulator, idp: Any) -> None:
    calls: list[str] = []
    pool_id, client_id = new_pool(idp)
    set_trigger(emulator.backend, pool_id, "PreSignUp", lambda event: calls.append(event["userName"]) or auto_confirm(event))
    faults = f"{emulator.url}/_harness/faults"

    def arm(**body: Any) -> requests.Response:
        return requests.post(faults, json=body, timeout=5)

    assert arm(kind="trigger_timeout", trigger="PreSignUp", count=2).status_code == 200
    assert sign_up(idp, client_id, "quin")["UserConfirmed"] is True  # two timeouts, retried, then it ran
    assert arm(kind="trigger_timeout", trigger="PreSignUp", count=3).status_code == 200
    assert refused(idp, client_id, "rae")["Message"] == \
        "PreSignUp invocation failed due to error Socket timeout while invoking Lambda function."
    assert arm(kind="trigger_error", trigger="PreSignUp", message="upstream down", count=1).status_code == 200
    assert refused(idp, client_id, "rae")["Message"] == "PreSignUp failed with error upstream down."
    assert arm(kind="trigger_garbage", count=1).status_code == 200
    assert refused(idp, client_id, "rae")["Code"] == "InvalidLambdaResponseException"
    assert arm(kind="trigger_error", trigger="PostConfirmation", count=1).status_code == 200
    assert sign_up(idp, client_id, "sam")["UserConfirmed"] is True  # another trigger's fault waits for it
    assert calls == ["quin", "sam"]
    bad = arm(kind="trigger_error", trigger="PreSignup")
    assert bad.status_code == 400 and bad.json()["field"] == "trigger"
    first, *_ = trigger_events(emulator, pool_id)
    assert [a["outcome"] for a in first["attempts"]] == ["timeout", "timeout", "ok"]
    assert all("fault_id" in a for a in first["attempts"][:2])
    requests.delete(faults, timeout=5)


def test_the_control_plane_binds_arns_and_endpoints(emulator: Emulator, idp: Any,
                                                    lambda_server: LambdaInvokeServer) -> None:
    arn = lambda_server.register("pre", auto_confirm)
    pool_id, client_id = new_pool(idp, LambdaConfig={"PreSignUp": arn})
    base = f"{emulator.url}/_harness"
    bound = requests.post(f"{base}/triggers", json={"arn": arn, "handler": f"lambda:{lambda_server.url}"}, timeout=5)
    assert bound.status_code == 200 and bound.json()["handler"] == f"lambda:{lambda_server.url}"
    assert sign_up(idp, client_id, "tom")["UserConfirmed"] is True
    assert requests.post(f"{base}/triggers", json={"arn": arn, "handler": None}, timeout=5).json()["unbound"] is True
    assert refused(idp, client_id, "ted")["Code"] == "UnexpectedLambdaException"
    endpoint = requests.post(f"{base}/lambda-endpoint", json={"url": lambda_server.url, "pool_id": pool_id}, timeout=5)
    assert endpoint.status_code == 200 and endpoint.json()["pool_endpoints"] == {pool_id: lambda_server.url}
    assert sign_up(idp, client_id, "ted")["UserConfirmed"] is True
    assert requests.get(f"{base}/triggers", timeout=5).json()["timeout"] == 5.0
    for body, field in (({"url": "http://10.0.0.1:3001"}, "url"), ({"url": lambda_server.url, "pool_id": 3}, "pool_id")):
        answer = requests.post(f"{base}/lambda-endpoint", json=body, timeout=5)
        assert answer.status_code == 400 and answer.json()["field"] == field
    unknown = requests.post(f"{base}/pools/us-east-1_nope/triggers", json={"trigger": "PreSignUp", "url": None}, timeout=5)
    assert unknown.status_code == 404
    bad = requests.post(f"{base}/pools/{pool_id}/triggers", json={"trigger": "PreSignUp", "handler": "ruby:x"}, timeout=5)
    assert bad.status_code == 400 and "python:module:function" in bad.json()["message"]


def test_serve_refuses_a_lambda_endpoint_off_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["serve", "--port", "0", "--lambda-endpoint", "http://192.0.2.1:3001"]) == 2
    assert "--lambda-endpoint: a Lambda endpoint must be http(s) on loopback" in capsys.readouterr().err
