"""The triggers family (scenarios/triggers.py) and how a spec binds the app's own Lambda functions.

Real runs: the reference app with its triggers (fixtures/targets/reference_triggers.toml)
passes every TRIG- check; the plain reference app (no triggers) SKIPs them with the
reason; a flawed trigger's FAIL carries what the function saw and answered. The
flaw matrix itself runs in tests/test_runner_flaws.py (tests/flaws_triggers_matrix.py).
The spec tables ([triggers.*], [legacy], [custom_auth]) are strict, and a Python
handler runs in a worker process with its binding's environment, so two runs in one
process never share an environment (the flaw matrix runs many at once).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness.coordinates import PoolCoordinates
from harness.results import Verdict
from harness.runner.engine import RunOptions, run
from harness.runner.scenario import load_catalogue
from harness.runner.spec import SpecError, load_spec
from harness.runner.spec_triggers_model import TriggerBinding
from harness.runner.trigger_bindings import BoundTriggers
from harness.server import Emulator
from tests.flaws_triggers_matrix import EXPECTED_TRIGGERS, TRIGGERS_ONLY_EXPECTED

TARGETS = Path(__file__).resolve().parents[1] / "fixtures" / "targets"
SEED = 21


def _run(spec: Path | str, keyword: str | None = None, families: tuple[str, ...] = ("triggers",)):
    return run(load_spec(spec), RunOptions(seed=SEED, families=list(families), keyword=keyword))


# --- the catalogue -------------------------------------------------------------------------------


def test_every_trigger_check_has_metadata_and_a_flaw_that_fails_it() -> None:
    mine = {i: s for i, s in load_catalogue().items() if s.family == "triggers"}
    assert len(mine) == 10
    for s in mine.values():
        assert s.id.startswith("TRIG-") and s.requirements and s.remediation and s.title, s.id
        assert (s.severity, s.profile) == ("MUST", "baseline"), s.id
    assert set(mine) == set().union(*EXPECTED_TRIGGERS.values()), "checks no flawed app or trigger fails"


def test_flawed_trigger_specs_plant_the_flaw_in_the_function() -> None:
    """A trigger_* flaw is in the function's environment (the app only reports it), bound from the reference app."""
    for name in EXPECTED_TRIGGERS:
        spec = load_spec(TARGETS / "flawed" / f"{name}.toml")
        assert spec.target.env["REFERENCE_APP_FLAW"] == name
        assert set(spec.triggers.bindings) >= {"PreSignUp", "PreTokenGeneration", "UserMigration",
                                               "DefineAuthChallenge", "CreateAuthChallenge",
                                               "VerifyAuthChallengeResponse"}
        planted = [b.trigger for b in spec.triggers.bindings.values()
                   if b.environment.get("REFERENCE_APP_FLAW") == name]
        assert len(planted) == (1 if name.startswith("trigger_") else 0), (name, planted)
        assert all(b.handler.startswith(f"python:{TARGETS / 'reference_app' / 'triggers.py'}:")
                   for b in spec.triggers.bindings.values()), name


# --- real runs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", sorted(TRIGGERS_ONLY_EXPECTED))
def test_correct_app_with_triggers_passes_the_family(spec: str) -> None:
    result = _run(TARGETS / spec)
    verdicts = {r.check_id: r.verdict for r in result.results}
    failed = {i for i, v in verdicts.items() if v is Verdict.FAIL}
    assert failed == TRIGGERS_ONLY_EXPECTED[spec], [(r.check_id, r.reason) for r in result.results
                                                     if r.verdict is not Verdict.PASS]
    assert set(verdicts.values()) == {Verdict.PASS}, verdicts


def test_app_without_triggers_skips_the_family_naming_the_binding() -> None:
    result = _run(TARGETS / "reference.toml")
    assert {r.verdict for r in result.results} == {Verdict.SKIP}
    reasons = {r.check_id: r.reason for r in result.results}
    assert "no PreTokenGeneration trigger" in reasons["TRIG-TOKEN-ROLE-REFRESH"]
    assert "[triggers.PreTokenGeneration]" in reasons["TRIG-TOKEN-ROLE-REFRESH"]
    assert "no UserMigration trigger" in reasons["TRIG-MIGRATE-SIGNIN"]
    assert "[triggers.UserMigration]" in reasons["TRIG-MIGRATE-SIGNIN"]
    assert "no PreSignUp trigger" in reasons["TRIG-SIGNUP-REJECTED"]


def _trigger_evidence(result) -> list[dict]:
    check = result.results[0]
    pieces = [e for step in check.steps for e in step.evidence] + list(check.evidence)
    return [{"type": i["type"], **i["data"]} for e in pieces if e.title.startswith("trigger invocations")
            for i in e.data["invocations"]]


def test_a_failing_check_shows_what_the_trigger_saw_and_answered() -> None:
    result = _run(TARGETS / "flawed" / "trigger_roles_cached.toml", keyword="TRIG-TOKEN-ROLE-REFRESH")
    check = result.results[0]
    assert check.verdict is Verdict.FAIL, check.reason
    calls = _trigger_evidence(result)
    sources = [c["source"] for c in calls]
    assert "TokenGeneration_RefreshTokens" in sources and any(s.startswith("TokenGeneration_") for s in sources[:1])
    refresh = next(c for c in calls if c["source"] == "TokenGeneration_RefreshTokens")
    assert refresh["event"]["triggerSource"] == "TokenGeneration_RefreshTokens"
    claims = refresh["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["claimsToAddOrOverride"]
    assert claims == {"custom:tenant": "acme", "custom:role": "admin"}  # the cached role: the flaw, in evidence


def test_a_failing_signup_shows_the_failed_invocation() -> None:
    result = _run(TARGETS / "flawed" / "signup_trigger_error_500.toml", keyword="TRIG-SIGNUP-REJECTED")
    check = result.results[0]
    assert check.verdict is Verdict.FAIL and "server error" in check.reason, check.reason
    failed = [c for c in _trigger_evidence(result) if c.get("type") == "trigger.failed"]
    assert failed and failed[0]["trigger"] == "PreSignUp", _trigger_evidence(result)


# --- the spec's tables ---------------------------------------------------------------------------


def _spec(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "app.toml"
    path.write_text(textwrap.dedent("""\
        [target]
        name = "app"
        base_url = "http://127.0.0.1:9"
    """) + textwrap.dedent(body), encoding="utf-8")
    return path


@pytest.mark.parametrize(("body", "key", "words"), [
    ('[triggers.PreTokenGen]\nhandler = "python:m:f"\n', "[triggers.PreTokenGen]", "a trigger named one of"),
    ('[triggers.PreSignUp]\nhandler = "lambda:f"\n', "[triggers.PreSignUp].handler", "python:<file.py"),
    ('[triggers.PreSignUp]\nhandler = "python:{spec_dir}/nope.py:f"\n', "[triggers.PreSignUp].handler",
     "an existing Python file"),
    ('[triggers.PreSignUp]\nhandler = "http://example.com/hook"\n', "[triggers.PreSignUp].handler", "loopback"),
    ('[triggers.PreSignUp]\nhandler = "python:m:f"\nversion = "V2_0"\n', "[triggers.PreSignUp].version",
     "one of the known keys"),
    ('[triggers.PreTokenGeneration]\nhandler = "python:m:f"\nversion = "V4_0"\n',
     "[triggers.PreTokenGeneration].version", "'V1_0'"),
    ('[triggers.PreSignUp]\nhandler = "python:m:f"\nenvironment = { A = "{port}" }\n',
     "[triggers.PreSignUp].environment.A", "{spec_dir}, {run_dir}"),
    ('[custom_auth]\nanswer_attributes = []\n', "[custom_auth].answer_attributes", "a non-empty list"),
    ('[custom_auth]\nanswer_attributes = ["custom:pin"]\nmax_attempts = 0\n', "[custom_auth].max_attempts",
     "an integer >= 1"),
    ('[legacy]\nusers = [{ username = "a" }]\n', "[legacy.users[0]].password", "required"),
    ('[requests.custom_login_answer]\npath = "/x"\njson = { a = "{answr}" }\n', "[requests.custom_login_answer]",
     "placeholders among"),
])
def test_bad_trigger_tables_are_spec_errors_naming_the_key(tmp_path: Path, body: str, key: str, words: str) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(_spec(tmp_path, body))
    assert key in str(info.value) and words in str(info.value), str(info.value)


def test_handlers_of_an_extended_spec_stay_anchored_at_the_base(tmp_path: Path) -> None:
    child = tmp_path / "child.toml"
    child.write_text(f'extends = "{TARGETS / "reference_triggers.toml"}"\n'
                     '[triggers.UserMigration.environment]\nX = "{spec_dir}/x"\n', encoding="utf-8")
    spec = load_spec(child)
    migration = spec.triggers.bindings["UserMigration"]
    assert migration.handler == f"python:{TARGETS / 'reference_app' / 'triggers.py'}:user_migration"
    assert migration.environment == {"X": "{spec_dir}/x"}  # the child's own: replaced when the run binds it
    bound = BoundTriggers((migration,), spec.spec_dir)
    try:
        coords = PoolCoordinates(region="us-east-1", pool_id="p", client_id="c", client_secret="", issuer="",
                                 jwks_url="", endpoint="http://127.0.0.1:9", domain="", other_client_id="")
        assert dict(bound._handler(migration, coords).environment)["X"] == f"{tmp_path}/x"  # noqa: SLF001
    finally:
        bound.stop()
    assert spec.triggers.custom_auth is not None and spec.triggers.custom_auth.rounds == 2
    assert [u.username for u in spec.triggers.legacy_users] == ["legacy.alice", "legacy.bob"]


# --- Python handlers in a worker with the binding's environment ----------------------------------

HANDLER = '''
import os, time

def pre_sign_up(event, context):
    mode = os.environ["MODE"]
    print("log line, not protocol")
    if mode == "reject":
        raise ValueError("no thanks")
    if mode == "slow":
        time.sleep(30)
    event["response"]["autoConfirmUser"] = mode == "confirm"
    return event
'''


@pytest.fixture()
def emulator():
    emu = Emulator.start(seed=3)
    yield emu
    emu.stop()


def _pool(emu) -> tuple[PoolCoordinates, object]:
    idp = emu.boto3_client()
    pool_id = idp.create_user_pool(PoolName="p")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="c")["UserPoolClient"]["ClientId"]
    coords = PoolCoordinates(region="us-east-1", pool_id=pool_id, client_id=client_id, client_secret="",
                             issuer="", jwks_url="", endpoint=emu.url, domain="", other_client_id="")
    return coords, idp


def _sign_up(idp, client_id: str, name: str) -> dict:
    return idp.sign_up(ClientId=client_id, Username=name, Password="Passw0rd!Passw0rd",
                       UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}])


def test_two_bindings_in_one_process_each_see_their_own_environment(tmp_path: Path, emulator) -> None:
    """The flaw matrix runs many runs in one process: a function's environment is its own binding's."""
    (tmp_path / "hooks.py").write_text(HANDLER, encoding="utf-8")
    handler = f"python:{tmp_path / 'hooks.py'}:pre_sign_up"
    runs = [BoundTriggers((TriggerBinding("PreSignUp", handler, {"MODE": mode}),), tmp_path)
            for mode in ("confirm", "plain")]
    try:
        outcomes = []
        for bound in runs:
            coords, idp = _pool(emulator)
            bound.bind(emulator.backend, coords)
            outcomes.append(_sign_up(idp, coords.client_id, f"user{len(outcomes)}")["UserConfirmed"])
        assert outcomes == [True, False]
        assert "log line, not protocol" in runs[0].logs()["PreSignUp"]
        assert runs[0].run_dir != runs[1].run_dir
    finally:
        for bound in runs:
            bound.stop()
    assert not runs[0].run_dir.exists()


@pytest.mark.parametrize(("mode", "code", "message"), [
    ("reject", "UserLambdaValidationException", "PreSignUp failed with error no thanks."),
    ("slow", "UnexpectedLambdaException", "PreSignUp invocation failed due to error"),
])
def test_a_handler_that_raises_or_hangs_fails_sign_up_as_cognito_does(tmp_path: Path, emulator, mode: str,
                                                                       code: str, message: str) -> None:
    (tmp_path / "hooks.py").write_text(HANDLER, encoding="utf-8")
    bound = BoundTriggers((TriggerBinding("PreSignUp", f"python:{tmp_path / 'hooks.py'}:pre_sign_up",
                                          {"MODE": mode}),), tmp_path)
    emulator.backend.triggers.timeout = 1.0  # Cognito's 5 s, three attempts: shortened so a hang costs 3 s
    try:
        coords, idp = _pool(emulator)
        bound.bind(emulator.backend, coords)
        with pytest.raises(ClientError) as info:
            _sign_up(idp, coords.client_id, "someone")
        assert info.value.response["Error"]["Code"] == code
        assert info.value.response["Error"]["Message"].startswith(message), info.value.response["Error"]
        with pytest.raises(ClientError):
            idp.admin_get_user(UserPoolId=coords.pool_id, Username="someone")  # no half-created user
    finally:
        bound.stop()


def test_the_launched_app_and_its_functions_share_the_run_directory() -> None:
    """COGNITO_HARNESS_RUN_DIR reaches the app (it keeps its tenancy store there) only when triggers are bound."""
    bound = BoundTriggers((), Path("."))
    try:
        assert set(bound.target_env()) == {"COGNITO_HARNESS_RUN_DIR"}
        assert Path(bound.target_env()["COGNITO_HARNESS_RUN_DIR"]).is_dir()
    finally:
        bound.stop()
