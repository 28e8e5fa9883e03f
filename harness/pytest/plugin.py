"""pytest fixtures for testing code against a local Cognito (registered as ``cognito_harness``).

Installed with the package; nothing to configure::

    def test_sign_in(cognito_pool):
        tokens = cognito_pool.sign_in("alice")            # USER_PASSWORD_AUTH via the web client
        assert cognito_pool.idp.get_user(AccessToken=tokens["AccessToken"])

    def test_expiry(cognito_pool, cognito_clock):
        cognito_clock.advance(3601)                        # no sleeping

Fixtures:

* ``cognito_emulator`` (session): one in-process emulator on a free loopback port.
* ``cognito_pool`` (function): resets the emulator and loads the pool definition
  (``fixtures/pools/default.toml`` or ``--cognito-pool FILE``); a :class:`CognitoPool`
  with ``pool_id``, ``client_id``, ``client_secret``, ``clients``, ``users``, ``idp``,
  ``url``, ``issuer``, ``jwks_url`` and ``control``.
* ``cognito_control``: :class:`harness.control.Control` over the emulator.
* ``cognito_clock``, ``cognito_mailbox``, ``cognito_faults``: the clock, mailbox and
  fault views (clock set back to real time and faults cleared after the test).
* ``cognito_idp``: a real boto3 ``cognito-idp`` client pointed at the emulator.
* ``cognito_triggers``: bind the pool's Lambda triggers for one test
  (``cognito_triggers.bind("PreSignUp", fn)``; ``fn(event)`` or ``fn(event, context)``, or a
  ``python:``/``node:``/``lambda:``/URL binding string); ``invocations()`` lists what they saw.
  ARNs bound to nothing go to ``--cognito-lambda-endpoint`` / ``$AWS_ENDPOINT_URL_LAMBDA`` if set.

Importing this module starts nothing; the emulator starts when a test first asks for it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from types import SimpleNamespace

import pytest

DEFAULT_SEED = 1234
LAMBDA_ENDPOINT_ENV = "AWS_ENDPOINT_URL_LAMBDA"


# The runner's pytest mode (``pytest --cognito-target spec.toml``) lives in its own
# module, always loaded with this plugin.
pytest_plugins = ["harness.pytest.target_mode"]


def _emulator() -> SimpleNamespace:
    """The emulator's pieces the fixtures use, imported when a test first asks for one.

    Deliberately lazy (the one lazy import of this module): this plugin is loaded in every
    pytest session of every project that installs cognito-harness, and the emulator (boto3,
    faker, cryptography, the engine) takes about a second to import.
    """
    from harness import control, pooldef, server
    from harness.engine import common, triggers

    return SimpleNamespace(Emulator=server.Emulator, Control=control.Control, load_pool=pooldef.load_pool,
                           secret_hash=common.secret_hash, ClockControl=control.ClockControl,
                           MailboxControl=control.MailboxControl, FaultControl=control.FaultControl,
                           set_trigger=triggers.set_trigger)


# --- options -----------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """Command-line options of the cognito-harness plugin.

    The runner's options (``--cognito-target``...) are defined by
    ``harness/pytest/target_mode.py`` in the same group; ``--cognito-seed`` is
    defined there too, and the fixtures here read the same value.
    """
    group = parser.getgroup("cognito-harness", "cognito-harness (local Amazon Cognito)")
    group.addoption(
        "--cognito-pool",
        metavar="FILE",
        default=None,
        help="pool definition TOML that cognito_pool loads (default: fixtures/pools/default.toml)",
    )
    group.addoption(
        "--cognito-lambda-endpoint",
        metavar="URL",
        default=None,
        help=f"Lambda Invoke API on loopback (sam local start-lambda, LocalStack) for trigger ARNs bound to "
             f"nothing else (default ${LAMBDA_ENDPOINT_ENV})",
    )


# --- what cognito_pool returns -------------------------------------------------------------------


@dataclass
class CognitoPool:
    """A ready pool: ids, secrets, seed users, a boto3 client and the control plane."""

    pool_id: str
    client_id: str
    client_secret: str | None
    region: str
    url: str
    issuer: str
    jwks_url: str
    idp: Any
    control: Any
    handle: Any
    clients: dict[str, Any] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)

    def user(self, username: str) -> Any:
        return self.users[username]

    def secret_hash(self, username: str, client: str | None = None) -> str | None:
        """SECRET_HASH for ``username`` with a client that has a secret (None for a public client)."""
        c = self.clients[client] if client else self.handle.client
        return _emulator().secret_hash(c.client_id, c.client_secret, username) if c.client_secret else None

    def sign_in(self, username: str, password: str | None = None, client: str | None = None) -> dict[str, Any]:
        """USER_PASSWORD_AUTH through a real InitiateAuth call; returns the AuthenticationResult."""
        c = self.clients[client] if client else self.handle.client
        params = {"USERNAME": username, "PASSWORD": password or self.users[username].password}
        digest = self.secret_hash(username, c.name)
        if digest:
            params["SECRET_HASH"] = digest
        response = self.idp.initiate_auth(ClientId=c.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=params)
        return response["AuthenticationResult"]


@dataclass
class TriggerBindings:
    """The pool's Lambda triggers for one test: bind a callable or a handler, read what they saw."""

    pool: CognitoPool
    backend: Any
    bound: list[str] = field(default_factory=list)

    def bind(self, trigger: str, handler: Any, *, arn: str | None = None, version: str | None = None) -> str:
        """Point ``LambdaConfig[trigger]`` at ``handler``; returns the function's ARN.

        ``handler``: ``fn(event)`` / ``fn(event, context)`` returning the event (or None after changing
        it in place), or ``"python:module:function"``, ``"node:path/index.handler"``,
        ``"lambda:http://127.0.0.1:3001"``, a loopback URL. ``version``: PreTokenGeneration's
        LambdaVersion (V1_0, V2_0, V3_0).
        """
        bound = _emulator().set_trigger(self.backend, self.pool.pool_id, trigger, handler, arn=arn, version=version)
        self.bound.append(trigger)
        return bound

    def unbind(self, trigger: str) -> None:
        _emulator().set_trigger(self.backend, self.pool.pool_id, trigger, None)

    def invocations(self, trigger: str | None = None) -> list[dict[str, Any]]:
        """The pool's ``trigger.invoked`` / ``trigger.failed`` / ``trigger.unbound`` events' data, oldest first."""
        match = {} if trigger is None else {"trigger": trigger}
        return [{"type": e.type, **e.data} for e in self.backend.events.list("trigger.*", self.pool.pool_id, **match)]

    def set_timeout(self, seconds: float) -> None:
        """Tests only: wait ``seconds`` for a function instead of Cognito's 5 (put back after the test)."""
        self.backend.triggers.timeout = seconds


# --- fixtures --------------------------------------------------------------------------------------


def _seed(config: pytest.Config) -> int:
    seed = config.getoption("cognito_seed", None)
    return DEFAULT_SEED if seed is None else int(seed)


@pytest.fixture(scope="session")
def cognito_emulator(request: pytest.FixtureRequest) -> Iterator[Any]:
    """One in-process emulator for the session, on a free 127.0.0.1 port."""
    endpoint = request.config.getoption("cognito_lambda_endpoint", None) or os.environ.get(LAMBDA_ENDPOINT_ENV)
    emulator = _emulator().Emulator.start(seed=_seed(request.config), lambda_endpoint=endpoint or None)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def cognito_idp(cognito_emulator: Any) -> Any:
    """A real boto3 cognito-idp client pointed at the emulator (test credentials)."""
    return cognito_emulator.boto3_client()


@pytest.fixture()
def cognito_control(cognito_emulator: Any) -> Any:
    """The control plane (:class:`harness.control.Control`) of the emulator."""
    return _emulator().Control(cognito_emulator.backend)


@pytest.fixture()
def cognito_pool(request: pytest.FixtureRequest, cognito_emulator: Any, cognito_idp: Any,
                 cognito_control: Any) -> CognitoPool:
    """A fresh emulator state with the pool definition loaded (every test starts equal)."""
    cognito_control.reset(_seed(request.config))
    handle = _emulator().load_pool(cognito_emulator.backend, request.config.getoption("cognito_pool"))
    default = handle.client
    return CognitoPool(
        pool_id=handle.pool_id,
        client_id=default.client_id,
        client_secret=default.client_secret,
        region=handle.region,
        url=cognito_emulator.url,
        issuer=handle.issuer,
        jwks_url=handle.jwks_url,
        idp=cognito_idp,
        control=cognito_control,
        handle=handle,
        clients=dict(handle.clients),
        users=dict(handle.users),
    )


@pytest.fixture()
def cognito_clock(cognito_control: Any) -> Iterator[Any]:
    """The virtual clock (``now``, ``freeze``, ``unfreeze``, ``advance``, ``set``); real time again afterwards."""
    yield _emulator().ClockControl(cognito_control)
    cognito_control.backend.clock.reset()


@pytest.fixture()
def cognito_mailbox(cognito_control: Any) -> Any:
    """Every email/SMS the pool sent (``messages``, ``latest``, ``latest_code``, ``clear``)."""
    return _emulator().MailboxControl(cognito_control)


@pytest.fixture()
def cognito_triggers(cognito_pool: CognitoPool, cognito_emulator: Any) -> Iterator[TriggerBindings]:
    """Bind the pool's Lambda triggers (:class:`TriggerBindings`); unbound and 5 s again after the test."""
    bindings = TriggerBindings(cognito_pool, cognito_emulator.backend)
    timeout = cognito_emulator.backend.triggers.timeout
    yield bindings
    cognito_emulator.backend.triggers.timeout = timeout
    for trigger in dict.fromkeys(bindings.bound):
        bindings.unbind(trigger)


@pytest.fixture()
def cognito_faults(cognito_control: Any) -> Iterator[Any]:
    """Fault injection (``arm``, ``list``, ``clear``); every fault is cleared after the test."""
    yield _emulator().FaultControl(cognito_control)
    cognito_control.clear_faults()
