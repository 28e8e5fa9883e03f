"""A pool definition's [identity_pool]: checked with typed errors naming key and file, built through
CreateIdentityPool / SetIdentityPoolRoles after the user pool, and audited by the IDP- checks of a run."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.audit import definition_of_spec_pool
from harness.engine.store import Backend
from harness.pooldef import PoolDefinitionError, load_pool, read_definition
from harness.results import Verdict
from harness.runner.engine import RunOptions, run
from harness.runner.spec import SpecError, load_spec
from harness.server import Emulator

IDENTITY = Path(__file__).resolve().parent.parent / "fixtures" / "identity"
REFERENCE = IDENTITY / "reference.toml"
ADMIN_ROLE = "arn:aws:iam::123456789012:role/app-admin"


def test_the_identity_pool_is_built_after_the_user_pool_and_served_over_http(emulator: Emulator) -> None:
    handle = load_pool(emulator.backend, REFERENCE)
    assert handle.identity_pool is not None and handle.identity_pool.name == "app identities"
    pool_id = handle.identity_pool.identity_pool_id
    client = emulator.identity_client()
    described = client.describe_identity_pool(IdentityPoolId=pool_id)
    provider = f"cognito-idp.us-east-1.amazonaws.com/{handle.pool_id}"
    assert described["AllowUnauthenticatedIdentities"] is True and described["AllowClassicFlow"] is False
    assert described["CognitoIdentityProviders"] == [
        {"ProviderName": provider, "ClientId": handle.clients["web"].client_id, "ServerSideTokenCheck": True}]
    roles = client.get_identity_pool_roles(IdentityPoolId=pool_id)
    assert roles["Roles"] == {"authenticated": "arn:aws:iam::123456789012:role/app-user",
                              "unauthenticated": "arn:aws:iam::123456789012:role/app-guest"}
    mapping = roles["RoleMappings"][f"{provider}:{handle.clients['web'].client_id}"]
    assert mapping["Type"] == "Rules" and mapping["AmbiguousRoleResolution"] == "Deny"
    assert mapping["RulesConfiguration"]["Rules"] == [
        {"Claim": "cognito:groups", "MatchType": "Contains", "Value": "admins", "RoleARN": ADMIN_ROLE}]


def test_the_seed_fixes_the_identity_pool_id_and_a_definition_without_one_builds_none() -> None:
    first = load_pool(Backend(seed=7), REFERENCE).identity_pool
    second = load_pool(Backend(seed=7), REFERENCE).identity_pool
    assert first is not None and second is not None and first.identity_pool_id == second.identity_pool_id
    backend = Backend(seed=7)
    assert load_pool(backend).identity_pool is None and backend.identity.pools == {}


def test_role_document_paths_are_anchored_to_the_definition_file() -> None:
    data = read_definition(REFERENCE)
    docs = data["identity_pool"]["role_documents"][ADMIN_ROLE]
    assert docs["trust"] == str(IDENTITY / "roles" / "admin-trust.json")
    assert docs["permissions"] == [str(IDENTITY / "roles" / "admin-permissions.json")]


@pytest.fixture
def pool(tmp_path: Path) -> Path:
    shutil.copytree(IDENTITY, tmp_path / "identity")
    return tmp_path / "identity" / "reference.toml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize("old,new,key,message", [
    ('name = "app identities"', 'name = "app identities"\ncolour = "blue"', "identity_pool.colour", "unknown key"),
    ("server_side_token_check = true", "server_side_token_check = 1", "identity_pool.server_side_token_check",
     "expected true or false"),
    ('clients = ["web"]', 'clients = ["server"]', "identity_pool.clients", "'server' is not a client"),
    ('ambiguous_role_resolution = "Deny"\n', "", "identity_pool.role_mappings.web.ambiguous_role_resolution",
     "required key is missing"),
    ('type = "Rules"', 'type = "Token"', "identity_pool.role_mappings.web.rules", "a Token mapping"),
    ('value = "admins"\n', "", "identity_pool.role_mappings.web.rules[0].value", "required key is missing"),
    ('permissions = ["roles/guest-permissions.json"]', 'permissions = ["roles/nope.json"]',
     'identity_pool.role_documents."arn:aws:iam::123456789012:role/app-guest".permissions', "cannot read"),
    ('name = "app identities"', 'name = "app identities!"', "identity_pool", "CreateIdentityPool refused it"),
])
def test_a_bad_identity_pool_key_is_a_typed_error_naming_key_and_file(pool: Path, old: str, new: str, key: str,
                                                                        message: str) -> None:
    edit(pool, old, new)
    with pytest.raises(PoolDefinitionError) as err:
        load_pool(Backend(seed=1), pool)
    assert (err.value.file, err.value.key) == (str(pool), key)
    assert message in err.value.message


def test_a_mapping_of_an_untrusted_client_is_named(pool: Path) -> None:
    edit(pool, "[clients.web]", '[clients.server]\ngenerate_secret = true\n\n[clients.web]')
    edit(pool, "[identity_pool.role_mappings.web]", "[identity_pool.role_mappings.server]")
    edit(pool, "[[identity_pool.role_mappings.web.rules]]", "[[identity_pool.role_mappings.server.rules]]")
    with pytest.raises(PoolDefinitionError) as err:
        load_pool(Backend(seed=1), pool)
    assert err.value.key == "identity_pool.role_mappings.server"
    assert "must name a trusted client (web)" in err.value.message


def spec_text(pool_lines: str) -> str:
    return ('[target]\nname = "static"\ncommand = ["{python}", "-m", "http.server", "{port}", "--bind", "127.0.0.1"]\n'
            'ready_url = "http://127.0.0.1:{port}/"\n\n' + pool_lines)


def test_an_inline_identity_pool_resolves_documents_next_to_the_spec_and_is_checked_at_load(tmp_path: Path) -> None:
    shutil.copytree(IDENTITY / "roles", tmp_path / "roles")
    inline = (f'[pool]\ndefinition = "{REFERENCE}"\n\n'
              '[pool.identity_pool.role_documents."arn:aws:iam::123456789012:role/app-guest"]\n'
              'trust = "roles/guest-trust.json"\npermissions = ["roles/flawed/guest-permissions-write.json"]\n')
    (tmp_path / "spec.toml").write_text(spec_text(inline))
    spec = load_spec(tmp_path / "spec.toml")
    definition = definition_of_spec_pool(spec.path, spec.pool_definition_path(), spec.pool.inline)
    assert definition is not None
    files = definition.role_documents["arn:aws:iam::123456789012:role/app-guest"]
    assert files.permissions == ((tmp_path / "roles" / "flawed" / "guest-permissions-write.json").resolve(),)
    assert files.trust == (tmp_path / "roles" / "guest-trust.json").resolve()
    assert definition.role_documents[ADMIN_ROLE].trust == IDENTITY / "roles" / "admin-trust.json"  # the file's own

    (tmp_path / "bad.toml").write_text(spec_text(inline.replace("guest-trust.json", "missing.json")))
    with pytest.raises(SpecError, match="missing.json"):
        load_spec(tmp_path / "bad.toml")


def run_audit_checks(tmp_path: Path, pool_lines: str) -> dict[str, Any]:
    (tmp_path / "spec.toml").write_text(spec_text(pool_lines))
    result = run(load_spec(tmp_path / "spec.toml"), RunOptions(seed=3, families=["identity-audit"]))
    return {r.check_id: r for r in result.results}


def test_the_idp_checks_pass_on_the_reference_and_fail_on_a_flawed_setup_with_evidence(tmp_path: Path) -> None:
    clean = run_audit_checks(tmp_path, f'[pool]\ndefinition = "{REFERENCE}"\nclient = "web"\n')
    assert len(clean) == 10 and all(r.verdict is Verdict.PASS for r in clean.values()), \
        {k: (r.verdict, r.reason) for k, r in clean.items()}
    flawed = run_audit_checks(tmp_path, f'[pool]\ndefinition = "{IDENTITY / "flawed" / "not-sub-scoped.toml"}"\n')
    failed = {k for k, r in flawed.items() if r.verdict is Verdict.FAIL}
    assert failed == {"IDP-NOT-SUB-SCOPED"}
    result = flawed["IDP-NOT-SUB-SCOPED"]
    assert "arn:aws:s3:::app-data/private/*" in result.reason
    notes = [e for s in result.steps for e in s.evidence if e.title.startswith("IDP-NOT-SUB-SCOPED")]
    assert notes and notes[0].data["finding"]["references"][0]["url"].startswith("https://docs.aws.amazon.com/")


def test_the_idp_checks_skip_without_an_identity_pool_or_without_role_documents(tmp_path: Path) -> None:
    none = run_audit_checks(tmp_path, "")
    assert all(r.verdict is Verdict.SKIP and "declares no [identity_pool]" in r.reason for r in none.values())
    bare = tmp_path / "undocumented.toml"  # the reference setup without its role documents
    bare.write_text(REFERENCE.read_text().split("[identity_pool.role_documents.")[0])
    undocumented = run_audit_checks(tmp_path, f'[pool]\ndefinition = "{bare}"\n')
    verdicts = {k: r.verdict for k, r in undocumented.items()}
    assert verdicts["IDP-CLASSIC-FLOW"] is Verdict.PASS and verdicts["IDP-TOKEN-CHECK-OFF"] is Verdict.PASS
    assert verdicts["IDP-TRUST-AUD"] is Verdict.SKIP
    assert "role_documents" in undocumented["IDP-TRUST-AUD"].reason
