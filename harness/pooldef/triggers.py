"""A pool definition's ``[pool.triggers]``: the pool's LambdaConfig and where each function runs.

::

    [pool.triggers]
    lambda_endpoint = "http://127.0.0.1:3001"   # a Lambda Invoke API (sam local start-lambda, LocalStack)
                                                # for this pool's ARNs bound to nothing else
    PreSignUp = "python:app.triggers:pre_sign_up"            # a handler: the harness makes the ARN
    PostConfirmation = "arn:aws:lambda:us-east-1:123456789012:function:post-confirm"   # runs at lambda_endpoint
    PreTokenGeneration = { handler = "node:lambdas/pretoken/index.handler", version = "V2_0" }
    UserMigration = { arn = "arn:aws:lambda:us-east-1:123456789012:function:migrate",
                      handler = "python:app.migrate:handler" }   # that ARN, run by that handler

A key is a LambdaConfig trigger name; its value is an ARN (``arn:...``), a
handler (``python:module:function``, ``node:path/index.handler`` relative to
the definition's folder, ``lambda:<endpoint>``, or a loopback URL), or a table
with ``arn``, ``handler`` and ``version`` (LambdaVersion of PreTokenGeneration:
V1_0, V2_0, V3_0). Applied once the pool exists, through
``harness.engine.triggers.set_trigger``.
"""

from __future__ import annotations

from pathlib import Path

from harness.engine.store import Backend
from harness.engine.triggers import TRIGGER_NAMES, set_function_arn, set_trigger
from harness.pooldef.reader import DefinitionTable

ENDPOINT_KEY = "lambda_endpoint"


def _arn(t: DefinitionTable, name: str, value: str) -> str:
    if not value.startswith("arn:aws:lambda:") or ":function:" not in value:
        raise t.wrong(name, "a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)", value)
    return value


def apply_triggers(backend: Backend, pool_id: str, pool_table: DefinitionTable, base: Path | None) -> None:
    """Set the pool's LambdaConfig and bindings from ``[pool.triggers]`` (nothing when it is absent)."""
    t = pool_table.table("triggers")
    if t is None:
        return
    endpoint = t.get(ENDPOINT_KEY, str, None)
    try:
        if endpoint is not None:
            backend.triggers.set_endpoint(endpoint, pool_id)
    except ValueError as exc:
        raise t.fail(ENDPOINT_KEY, str(exc)) from None
    for name in t.data:
        if name == ENDPOINT_KEY:
            continue
        t.used.add(name)
        if name not in TRIGGER_NAMES:
            raise t.fail(name, f"unknown trigger; expected {ENDPOINT_KEY} or one of {', '.join(TRIGGER_NAMES)}")
        value = t.data[name]
        arn = handler = version = None
        if isinstance(value, str):
            if value.startswith("arn:"):
                arn = _arn(t, name, value)
            else:
                handler = value
        elif isinstance(value, dict):
            one = DefinitionTable(t.file, t.key(name), value)
            arn = one.get("arn", str, None)
            arn = _arn(one, "arn", arn) if arn is not None else None
            handler = one.get("handler", str, None)
            version = one.get("version", str, None)
            one.done()
            if arn is None and handler is None:
                raise one.missing("handler", "a handler (python:..., node:..., lambda:URL, a URL) or an arn")
        else:
            raise t.wrong(name, "an ARN, a handler string or a table {arn, handler, version}", value)
        try:
            if handler is not None:
                set_trigger(backend, pool_id, name, handler, arn=arn, version=version, base=base)
            else:
                with backend.transaction():
                    set_function_arn(backend.pool(pool_id), name, str(arn), version)
        except (ValueError, TypeError) as exc:
            raise t.fail(name, str(exc)) from None
    t.done()


__all__ = ["apply_triggers"]
