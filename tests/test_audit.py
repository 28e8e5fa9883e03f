"""The least-privilege audit (harness.audit, ``cognito-harness audit``): the clean reference setup reports nothing,
each flawed setup exactly its finding, sound variants nothing, bad input a typed error naming key and file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from harness.audit import FINDING_KINDS, audit_file
from harness.bundled import fixture
from harness.cli import main
from harness.pooldef import PoolDefinitionError

IDENTITY = Path(__file__).resolve().parent.parent / "fixtures" / "identity"
SUB = "${cognito-identity.amazonaws.com:sub}"
USER_ROLE = "arn:aws:iam::123456789012:role/app-user"
GUEST_ROLE = "arn:aws:iam::123456789012:role/app-guest"

FLAWED = {
    "trust-aud": "IDP-TRUST-AUD",
    "trust-amr": "IDP-TRUST-AMR",
    "unauth-write": "IDP-UNAUTH-WRITE",
    "unauth-read": "IDP-UNAUTH-READ",
    "wildcard-action": "IDP-WILDCARD-ACTION",
    "wildcard-resource": "IDP-WILDCARD-RESOURCE",
    "not-sub-scoped": "IDP-NOT-SUB-SCOPED",
    "ambiguous-broad": "IDP-AMBIGUOUS-BROAD",
    "token-check-off": "IDP-TOKEN-CHECK-OFF",
    "classic-flow": "IDP-CLASSIC-FLOW",
}


def ids(path: Path, allow: tuple[str, ...] = ()) -> list[str]:
    report = audit_file(path, allow)
    assert report is not None
    return [f.kind.id for f in report.findings]


@pytest.fixture
def setup(tmp_path: Path) -> "Setup":
    shutil.copytree(IDENTITY, tmp_path / "identity")
    return Setup(tmp_path / "identity")


class Setup:
    """A copy of the reference setup to vary: edit a role document or the definition, then audit."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pool = root / "reference.toml"

    def doc(self, name: str, change: Callable[[dict[str, Any]], None]) -> None:
        path = self.root / "roles" / name
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))

    def statement(self, name: str, statement: dict[str, Any]) -> None:
        self.doc(name, lambda d: d["Statement"].append(statement))

    def toml(self, old: str, new: str) -> None:
        text = self.pool.read_text()
        assert old in text
        self.pool.write_text(text.replace(old, new))

    def ids(self, allow: tuple[str, ...] = ()) -> list[str]:
        return ids(self.pool, allow)


def trust_condition(setup: Setup, name: str, operator: str, key: str, value: Any) -> None:
    def change(d: dict[str, Any]) -> None:
        cond = d["Statement"][0]["Condition"]
        for op in list(cond):
            cond[op].pop(key, None)
            if not cond[op]:
                del cond[op]
        if value is not None:
            cond.setdefault(operator, {})[key] = value
    setup.doc(name, change)


# --- the fixtures -----------------------------------------------------------------------------


def test_the_reference_setup_is_clean() -> None:
    report = audit_file(IDENTITY / "reference.toml")
    assert report is not None and report.findings == [] and report.clean
    assert sorted(report.roles) == sorted([USER_ROLE, GUEST_ROLE, "arn:aws:iam::123456789012:role/app-admin"])
    assert report.allow == ["s3:GetObject"]


@pytest.mark.parametrize("name,finding", sorted(FLAWED.items()))
def test_each_flawed_setup_reports_exactly_its_finding(name: str, finding: str) -> None:
    assert ids(IDENTITY / "flawed" / f"{name}.toml") == [finding]


def test_every_finding_kind_has_a_flawed_fixture_references_and_a_fix() -> None:
    assert sorted(FLAWED.values()) == sorted(k.id for k in FINDING_KINDS)
    for kind in FINDING_KINDS:
        assert kind.references and all(r.url.startswith("https://docs.aws.amazon.com/") for r in kind.references)
        assert kind.why and kind.fix


# --- sound variants: no finding ----------------------------------------------------------------


def test_a_read_only_guest_role_within_the_allow_list_is_clean(setup: Setup) -> None:
    setup.statement("guest-permissions.json", {"Effect": "Allow", "Action": "dynamodb:GetItem",
                                               "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/catalog"})
    assert setup.ids() == ["IDP-UNAUTH-READ"]
    assert setup.ids(allow=("dynamodb:GetItem",)) == []
    assert setup.ids(allow=("dynamodb:Get*",)) == []  # allow-list entries are globs


def test_sub_scoped_s3_keys_and_dynamodb_leading_keys_are_clean(setup: Setup) -> None:
    setup.statement("user-permissions.json", {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                                              "Resource": [f"arn:aws:s3:::uploads/{SUB}",
                                                           f"arn:aws:s3:::uploads/users/{SUB}/avatar.png"]})
    setup.statement("user-permissions.json", {
        "Effect": "Allow", "Action": ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"],
        "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/app-prefs",
        "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [SUB]}}})
    assert setup.ids() == []


def test_actions_without_a_resource_type_may_use_star(setup: Setup) -> None:
    setup.statement("user-permissions.json", {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets"], "Resource": "*"})
    assert setup.ids() == []


def test_a_provider_specific_amr_is_a_sound_restriction_for_signed_in_users(setup: Setup) -> None:
    trust_condition(setup, "user-trust.json", "ForAnyValue:StringLike", "cognito-identity.amazonaws.com:amr",
                    "cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123")
    assert setup.ids() == []


def test_an_unconditional_deny_takes_away_what_an_allow_gave(setup: Setup) -> None:
    setup.statement("guest-permissions.json", {"Effect": "Allow", "Action": "s3:PutObject",
                                               "Resource": "arn:aws:s3:::app-assets/public/*"})
    assert setup.ids() == ["IDP-UNAUTH-WRITE"]
    setup.statement("guest-permissions.json", {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"})
    assert setup.ids() == []


def test_an_authenticated_role_fallback_no_broader_than_the_rule_roles_is_clean(setup: Setup) -> None:
    setup.toml('ambiguous_role_resolution = "Deny"', 'ambiguous_role_resolution = "AuthenticatedRole"')
    assert setup.ids() == []  # the fallback (app-user) can do nothing the rule role (app-admin) cannot


# --- more flawed variants ------------------------------------------------------------------------


def test_a_wildcard_aud_is_no_pin(setup: Setup) -> None:
    trust_condition(setup, "user-trust.json", "StringLike", "cognito-identity.amazonaws.com:aud", "us-east-1:*")
    assert setup.ids() == ["IDP-TRUST-AUD"]


def test_an_if_exists_or_negated_aud_condition_is_no_pin(setup: Setup) -> None:
    trust_condition(setup, "user-trust.json", "StringEqualsIfExists", "cognito-identity.amazonaws.com:aud",
                    "us-east-1:4a1d3b6e-2f0c-4c55-9e8a-0b7d6c5e4f31")
    assert setup.ids() == ["IDP-TRUST-AUD"]


@pytest.mark.parametrize("doc,value", [
    ("user-trust.json", "*"),  # a signed-in role that admits guests
    ("user-trust.json", ["authenticated", "unauthenticated"]),
    ("guest-trust.json", "authenticated"),  # the guest role trusted for signed-in users
])
def test_an_amr_condition_that_does_not_fit_the_role_is_reported(setup: Setup, doc: str, value: Any) -> None:
    trust_condition(setup, doc, "ForAnyValue:StringLike", "cognito-identity.amazonaws.com:amr", value)
    assert setup.ids() == ["IDP-TRUST-AMR"]


def test_a_dynamodb_scan_or_an_unbound_item_action_is_not_sub_scoped(setup: Setup) -> None:
    setup.statement("user-permissions.json", {"Effect": "Allow", "Action": "dynamodb:Scan",
                                              "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/app-notes"})
    assert setup.ids() == ["IDP-NOT-SUB-SCOPED"]


def test_list_bucket_without_a_sub_prefix_is_not_sub_scoped(setup: Setup) -> None:
    setup.statement("user-permissions.json", {"Effect": "Allow", "Action": "s3:ListBucket",
                                              "Resource": "arn:aws:s3:::app-data"})
    report = audit_file(setup.pool)
    assert [f.kind.id for f in report.findings] == ["IDP-NOT-SUB-SCOPED"]
    assert report.findings[0].evidence["actions"] == ["s3:ListBucket"]


def test_shared_resources_excuse_reads_never_writes(setup: Setup) -> None:
    setup.statement("user-permissions.json", {"Effect": "Allow", "Action": "s3:PutObject",
                                              "Resource": "arn:aws:s3:::app-assets/public/*"})
    report = audit_file(setup.pool)
    assert [f.kind.id for f in report.findings] == ["IDP-NOT-SUB-SCOPED"]
    assert report.findings[0].evidence["actions"] == ["s3:PutObject"]


def test_not_action_is_a_wildcard(setup: Setup) -> None:
    setup.statement("user-permissions.json", {"Effect": "Allow", "NotAction": "iam:*",
                                              "Resource": "arn:aws:execute-api:us-east-1:123456789012:a1b2/*"})
    assert "IDP-WILDCARD-ACTION" in setup.ids()


def test_a_finding_names_the_role_the_file_and_the_statement() -> None:
    report = audit_file(IDENTITY / "flawed" / "wildcard-resource.toml")
    (finding,) = report.findings
    assert finding.subject == USER_ROLE
    assert finding.location.endswith("user-permissions-wildcard-resource.json statement 4 (InvokeAnything)")
    assert finding.evidence["actions"] == ["lambda:InvokeFunction"]


# --- bad input ------------------------------------------------------------------------------------


def test_a_malformed_document_is_a_typed_error_naming_key_and_file(setup: Setup) -> None:
    (setup.root / "roles" / "guest-trust.json").write_text("{not json")
    with pytest.raises(PoolDefinitionError) as err:
        audit_file(setup.pool)
    assert err.value.file == str(setup.pool)
    assert err.value.key == f'identity_pool.role_documents."{GUEST_ROLE}".trust'
    assert "guest-trust.json is not valid JSON" in err.value.message


def test_an_unknown_action_is_a_typed_error(setup: Setup) -> None:
    setup.statement("user-permissions.json", {"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"})
    with pytest.raises(PoolDefinitionError, match="UNKNOWN_ACTION"):
        audit_file(setup.pool)


def test_a_role_without_documents_is_a_typed_error(setup: Setup) -> None:
    setup.toml('[identity_pool.role_documents."arn:aws:iam::123456789012:role/app-admin"]\n'
               'trust = "roles/admin-trust.json"\npermissions = ["roles/admin-permissions.json"]\n', "")
    with pytest.raises(PoolDefinitionError, match="no trust and permission documents for role .*app-admin"):
        audit_file(setup.pool)


@pytest.mark.parametrize("old,new,key", [
    ("allow_classic_flow = false", "allow_classic_flow = \"no\"", "identity_pool.allow_classic_flow"),
    ("clients = [\"web\"]", "clients = [\"mobile\"]", "identity_pool.clients"),
    ('match_type = "Contains"', 'match_type = "Like"', "identity_pool.role_mappings.web.rules[0].match_type"),
    ('type = "Rules"', 'type = "Rules"\ncolour = "blue"', "identity_pool.role_mappings.web.colour"),
    ('authenticated = "arn:aws:iam::123456789012:role/app-user"', 'authenticated = "app-user"',
     "identity_pool.roles.authenticated"),
    ('trust = "roles/user-trust.json"', 'trust = "roles/missing.json"',
     f'identity_pool.role_documents."{USER_ROLE}".trust'),
])
def test_a_bad_definition_key_is_named(setup: Setup, old: str, new: str, key: str) -> None:
    setup.toml(old, new)
    with pytest.raises(PoolDefinitionError) as err:
        audit_file(setup.pool)
    assert (err.value.file, err.value.key) == (str(setup.pool), key)


# --- the command -----------------------------------------------------------------------------------


def test_the_command_exits_0_clean_1_findings_2_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["audit", "--pool", str(IDENTITY / "reference.toml")]) == 0
    assert "no findings" in capsys.readouterr().out
    assert main(["audit", "--pool", str(IDENTITY / "flawed" / "classic-flow.toml")]) == 1
    out = capsys.readouterr().out
    assert "IDP-CLASSIC-FLOW" in out and "https://docs.aws.amazon.com/cognito/latest/developerguide/" in out
    assert main(["audit", "--pool", str(fixture("pools", "default.toml"))]) == 2
    assert "declares no [identity_pool]" in capsys.readouterr().err
    assert main(["audit", "--pool", str(tmp_path / "missing.toml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_the_command_json_and_allow(capsys: pytest.CaptureFixture[str]) -> None:
    pool = str(IDENTITY / "flawed" / "unauth-read.toml")
    assert main(["audit", "--pool", pool, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    (finding,) = data["findings"]
    assert finding["id"] == "IDP-UNAUTH-READ" and finding["evidence"]["actions"] == ["dynamodb:GetItem"]
    assert finding["references"][0]["url"].startswith("https://docs.aws.amazon.com/")
    assert main(["audit", "--pool", pool, "--allow", "dynamodb:GetItem", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["clean"] is True


def test_the_command_audits_a_target_specs_pool(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(f'[target]\nname = "app"\nbase_url = "http://127.0.0.1:9"\n\n'
                    f'[pool]\ndefinition = "{IDENTITY / "flawed" / "token-check-off.toml"}"\n')
    assert main(["audit", "--target", str(spec)]) == 1
    assert "IDP-TOKEN-CHECK-OFF" in capsys.readouterr().out
