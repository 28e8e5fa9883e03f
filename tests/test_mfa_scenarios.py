"""The MFA family: its spec keys, its pool-definition keys, and every check proven on the reference app.

The reference app passes every MFA check its spec and pool allow (and SKIPs the
others, naming why); each flawed variant (reference_app/flaws.py) FAILs exactly
the checks aimed at its flaw, with no ERROR. Runs are real: the emulator on
loopback, the reference app as a process, TOTP codes on the pool's clock, SMS and
email codes from the mailbox. Only the MFA family runs here (the whole catalogue
on the flawed apps is tests/test_runner_flaws.py's, with tests/flaws_mfa_matrix.py).
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyotp
import pytest

from harness.engine.store import Backend
from harness.pooldef.build import PoolDefinitionError, build_pool
from harness.results import Verdict
from harness.runner.backends import PoolPlan, RemoteBackend
from harness.runner.engine import RunOptions, run
from harness.runner.mfa import Authenticator
from harness.runner.scenario import load_catalogue
from harness.runner.spec import SpecError, load_spec
from tests.flaws_mfa_matrix import EXPECTED_MFA, MFA_ONLY_EXPECTED
from tests.spec_support import MINIMAL, TARGETS, write

SEED = 7
ALL_MFA = {"MFA-TOTP-REQUIRED", "MFA-EMAIL-OTP", "MFA-SMS", "MFA-WRONG-CODE", "MFA-REPLAY", "MFA-ENROLL", "MFA-SETUP",
           "MFA-ADMIN-REQUIRED"}
# correct specs -> the MFA checks they must PASS (the rest SKIP, with a reason)
MUST_PASS = {
    "reference.toml": ALL_MFA - {"MFA-SETUP", "MFA-ADMIN-REQUIRED"},
    "reference_admin_mfa.toml": ALL_MFA - {"MFA-SETUP"},
    "reference_mfa_required.toml": {"MFA-TOTP-REQUIRED", "MFA-WRONG-CODE", "MFA-REPLAY", "MFA-SETUP"},
}


def spec_error(tmp_path: Path, text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, text))
    return info.value


# --- the family is registered and described ---------------------------------------------------------


def test_every_mfa_check_is_in_the_catalogue_with_its_metadata() -> None:
    mine = {i: s for i, s in load_catalogue().items() if s.family == "mfa"}
    assert set(mine) == ALL_MFA
    for check in mine.values():
        assert check.requirements and check.remediation and check.title and check.needs, check.id
        assert check.severity == "MUST" and check.profile == "baseline", check.id


def test_every_check_is_failed_by_some_flawed_app() -> None:
    caught = set().union(*EXPECTED_MFA.values(), *MFA_ONLY_EXPECTED.values())
    assert caught == ALL_MFA


def test_every_mfa_flaw_has_its_spec() -> None:
    sys.path.insert(0, str(TARGETS / "reference_app"))
    try:
        import flaws
    finally:
        sys.path.pop(0)
    mfa_flaws = {name for name in flaws.FLAWS if name.startswith("mfa_")}
    shipped = {p.stem for p in (TARGETS / "flawed").glob("mfa_*.toml")} | \
              {p.stem for p in (TARGETS / "flawed_mfa_required").glob("*.toml")}
    assert mfa_flaws == shipped == set(EXPECTED_MFA) | {"mfa_setup_error_500"}


# --- the spec keys ----------------------------------------------------------------------------------


def test_the_reference_spec_says_where_its_login_puts_a_challenge() -> None:
    spec = load_spec(TARGETS / "reference.toml")
    login = spec.requests["login"]
    assert (login.challenge, login.challenge_session) == ("/challenge", "/session")
    assert spec.requests["login_mfa"].auth is False and spec.requests["totp_enroll_begin"].auth is True
    assert spec.requests["login_mfa_setup_begin"].totp_secret == "/secret_code"
    assert spec.tenancy.admin_mfa_required is False
    assert load_spec(TARGETS / "reference_admin_mfa.toml").tenancy.admin_mfa_required is True


LOGIN = '\n[requests.login]\nmethod = "POST"\npath = "/login"\n'
ANSWER = ('\n[requests.login_mfa]\nmethod = "POST"\npath = "/login/mfa"\n'
          'json = { session = "{session}", code = "{code}" }\n')


@pytest.mark.parametrize(("text", "key", "says"), [
    (MINIMAL + ANSWER, "[requests.login]", "required by [requests.login_mfa]"),
    (MINIMAL + LOGIN + ANSWER, "[requests.login].challenge", "challenge name"),
    (MINIMAL + LOGIN + 'challenge = "/c"\n' + ANSWER, "[requests.login].challenge_session", "{session}"),
    (MINIMAL + LOGIN + 'challenge = "c"\n', "[requests.login].challenge", "JSON pointer"),
    (MINIMAL + '\n[requests.totp_enroll_begin]\npath = "/mfa"\n', "[requests.totp_enroll_begin].totp_secret",
     "TOTP secret"),
    (MINIMAL.replace('path = "/api/protected"', 'path = "/api/protected"\nchallenge = "/c"'),
     "[requests.protected].challenge", "known keys"),
    (MINIMAL + LOGIN + 'totp_secret = "/s"\n', "[requests.login].totp_secret", "known keys"),
    (MINIMAL + '\n[tenancy]\nadmin_mfa_required = "yes"\n', "[tenancy].admin_mfa_required", "true or false"),
    (MINIMAL + '\n[requests.login_mfa_chooser]\npath = "/x"\n', "[requests.login_mfa_chooser]", "login_mfa_select"),
])
def test_a_bad_mfa_key_is_a_spec_error_naming_file_and_key(tmp_path: Path, text: str, key: str, says: str) -> None:
    error = spec_error(tmp_path, text)
    assert error.key == key and error.path.endswith("spec.toml"), str(error)
    assert says in str(error)


def test_an_app_that_keeps_the_session_in_a_cookie_needs_no_session_pointer(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, MINIMAL + LOGIN + 'challenge = "/c"\n' + ANSWER.replace(
        'session = "{session}", ', "")))
    assert spec.requests["login"].challenge_session is None and spec.requests["login_mfa"].auth is False


# --- the pool-definition keys -----------------------------------------------------------------------

MFA_POOL = """
[pool]
name = "mfa"
mfa = "OPTIONAL"
mfa_factors = ["totp", "email", "sms"]
mfa_sms_message = "Code {####}"
[pool.email]
sending_account = "DEVELOPER"
source_arn = "arn:aws:ses:us-east-1:123456789012:identity/no-reply@example.com"
[pool.sms]
sns_caller_arn = "arn:aws:iam::123456789012:role/cognito-sms"
"""


def _build(text: str) -> tuple[Backend, str]:
    import tomllib

    backend = Backend(seed=0)
    return backend, build_pool(backend, tomllib.loads(text), "pool.toml").pool_id


def test_mfa_factors_are_set_with_set_user_pool_mfa_config() -> None:
    backend, pool_id = _build(MFA_POOL)
    config = backend.call("GetUserPoolMfaConfig", {"UserPoolId": pool_id})
    assert config["MfaConfiguration"] == "OPTIONAL"
    assert config["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    assert config["SmsMfaConfiguration"]["SmsAuthenticationMessage"] == "Code {####}"
    assert config["SmsMfaConfiguration"]["SmsConfiguration"]["SnsCallerArn"].endswith(":role/cognito-sms")
    assert "Subject" in config["EmailMfaConfiguration"]
    assert backend.call("DescribeUserPool", {"UserPoolId": pool_id})["UserPool"]["MfaConfiguration"] == "OPTIONAL"


@pytest.mark.parametrize(("change", "key", "says"), [
    (('"totp", "email", "sms"', '"totp", "voice"'), "pool.mfa_factors", "distinct factors"),
    (('mfa = "OPTIONAL"', 'mfa = "OFF"'), "pool.mfa_factors", 'mfa = "ON" or "OPTIONAL"'),
    (('[pool.sms]\nsns_caller_arn = "arn:aws:iam::123456789012:role/cognito-sms"', ""), "pool.sms", "sns_caller_arn"),
    (('sending_account = "DEVELOPER"', 'sending_account = "COGNITO_DEFAULT"'), "pool.mfa_factors",
     "SetUserPoolMfaConfig refused it"),
    (('mfa_factors = ["totp", "email", "sms"]', 'mfa_factors = []'), "pool.mfa_factors", "non-empty list"),
])
def test_a_bad_mfa_setting_names_the_key(change: tuple[str, str], key: str, says: str) -> None:
    with pytest.raises(PoolDefinitionError) as info:
        _build(MFA_POOL.replace(*change))
    assert info.value.key == key and says in str(info.value), str(info.value)


def test_a_foreign_backend_gets_the_definitions_mfa_factors(moto_server: str) -> None:
    """CreateUserPool cannot turn TOTP or email MFA on: the run's pool on another cognito-idp endpoint gets
    them through SetUserPoolMfaConfig, like the emulator's."""
    backend = RemoteBackend(moto_server, PoolPlan.for_spec(load_spec(TARGETS / "reference.toml")))
    backend.start()
    pool_id = backend.prepare(SEED).pool_id
    config = backend.idp.get_user_pool_mfa_config(UserPoolId=pool_id)
    assert config["MfaConfiguration"] == "OPTIONAL"
    assert config["SoftwareTokenMfaConfiguration"] == {"Enabled": True}


# --- the harness's authenticator app ------------------------------------------------------------------


def test_the_harness_authenticator_shows_the_codes_an_rfc_6238_app_shows() -> None:
    secret = pyotp.random_base32(length=52)
    device = Authenticator(secret)
    for at in (0, 59, 1_700_000_000, 1_700_000_029, 1_700_000_030):
        assert device.code_for(at // 30) == pyotp.TOTP(secret).at(at)


# --- the checks on the reference app and its flawed variants --------------------------------------------


def _run(relative: str) -> tuple[str, dict[str, Verdict], dict[str, str]]:
    result = run(load_spec(TARGETS / relative), RunOptions(seed=SEED, families=["mfa"]))
    return relative, {r.check_id: r.verdict for r in result.results}, {r.check_id: r.reason for r in result.results}


@pytest.fixture(scope="module")
def verdicts() -> dict[str, tuple[dict[str, Verdict], dict[str, str]]]:
    specs = [*MUST_PASS, *(f"flawed/{name}.toml" for name in EXPECTED_MFA),
             *(name for name in MFA_ONLY_EXPECTED if name.startswith("flawed_"))]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return {name: (got, reasons) for name, got, reasons in pool.map(_run, specs)}


@pytest.mark.parametrize("spec", sorted(MUST_PASS))
def test_the_reference_app_passes_every_mfa_check_its_pool_allows(verdicts: dict, spec: str) -> None:
    got, reasons = verdicts[spec]
    assert set(got) == ALL_MFA
    assert {i for i, v in got.items() if v is Verdict.PASS} == MUST_PASS[spec], (spec, got, reasons)
    skipped = {i: reasons[i] for i, v in got.items() if v is Verdict.SKIP}
    assert all(skipped.values()), skipped  # every SKIP says why


@pytest.mark.parametrize("flaw", sorted([*EXPECTED_MFA, "mfa_setup_error_500"]))
def test_each_flawed_app_fails_exactly_its_mfa_checks(verdicts: dict, flaw: str) -> None:
    spec = f"flawed/{flaw}.toml" if flaw in EXPECTED_MFA else f"flawed_mfa_required/{flaw}.toml"
    expected = EXPECTED_MFA.get(flaw) or MFA_ONLY_EXPECTED[spec]
    got, reasons = verdicts[spec]
    assert {i for i, v in got.items() if v is Verdict.ERROR} == set(), reasons
    assert {i for i, v in got.items() if v is Verdict.FAIL} == expected, (flaw, reasons)


@pytest.mark.parametrize(("flaw", "check", "says"), [
    ("mfa_pending_session_trusted", "MFA-TOTP-REQUIRED", "accepted the challenge's session handle"),
    ("mfa_answers_every_challenge_as_totp", "MFA-EMAIL-OTP", "the sign-in did not complete"),
    ("mfa_wrong_code_500", "MFA-WRONG-CODE", "server error"),
    ("mfa_answers_replayed", "MFA-REPLAY", "handed out access_token"),
    ("mfa_enroll_unverified", "MFA-ENROLL", "wrong first code must not turn MFA on"),
    ("mfa_admin_requirement_ignored", "MFA-ADMIN-REQUIRED", "signed in without MFA must be denied"),
])
def test_a_failure_says_what_the_app_did(verdicts: dict, flaw: str, check: str, says: str) -> None:
    _, reasons = verdicts[f"flawed/{flaw}.toml"]
    assert says in reasons[check], reasons[check]


def test_admins_who_must_use_mfa_still_pass_the_tenancy_checks() -> None:
    """In a spec whose admins must use MFA, the harness's tenant admins sign in with TOTP, so the tenancy
    family tests roles (and the app enforcing MFA does not turn them into FAILs)."""
    result = run(load_spec(TARGETS / "reference_admin_mfa.toml"), RunOptions(seed=SEED, families=["tenancy"]))
    got = {r.check_id: r.verdict for r in result.results}
    assert {"TEN-ADMIN-OWN", "TEN-ROLE-REMOVED", "TEN-CROSS-TENANT"} <= {i for i, v in got.items()
                                                                         if v is Verdict.PASS}, got
    assert Verdict.ERROR not in got.values(), got
