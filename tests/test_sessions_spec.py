"""The session families' spec keys: tenancy models, [hosted_ui] scopes, the pool revocation window.

Fast: parsing and the tenancy model's arithmetic only (the checks that use
them run against real apps in tests/test_flaws_sessions.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.runner.spec import SpecError, TenancySection, load_spec
from tests.spec_support import MINIMAL, TARGETS, write


def load(tmp_path: Path, extra: str):
    return load_spec(write(tmp_path, MINIMAL + extra))


# --- tenancy models --------------------------------------------------------------------------------


def test_old_group_model_keeps_its_meaning(tmp_path: Path) -> None:
    t = load(tmp_path, "").tenancy
    assert t.grants("acme") == (["tenant-acme-member"], {})
    assert t.grants("acme", admin=True) == (["tenant-acme-member", "tenant-acme-admin"], {})
    assert t.admin_removal("acme") == (["tenant-acme-admin"], {})
    assert t.membership_removal("acme") == (["tenant-acme-member"], {})


def test_old_attribute_model_ignores_the_default_per_tenant_groups(tmp_path: Path) -> None:
    t = load(tmp_path, '[tenancy]\nmodel = "attribute"\nattribute = "custom:tenant"\n'
                       'admin_attribute = "custom:role"\n').tenancy
    assert t.grants("acme", admin=True) == ([], {"custom:tenant": "acme", "custom:role": "admin"})
    assert t.admin_removal("acme") == ([], {"custom:role": "member"})
    assert t.membership_removal("acme") == ([], {"custom:tenant": "not-acme"})


def test_tenant_attribute_with_tenant_independent_role_groups(tmp_path: Path) -> None:
    t = load(tmp_path, '[tenancy]\nmodel = "attribute"\nattribute = "custom:tenant_id"\n'
                       'member_group = "member"\nadmin_group = "admin"\n').tenancy
    assert t.grants("acme") == (["member"], {"custom:tenant_id": "acme"})
    assert t.grants("globex", admin=True) == (["member", "admin"], {"custom:tenant_id": "globex"})
    assert t.admin_removal("acme") == (["admin"], {})
    assert t.membership_removal("acme") == (["member"], {"custom:tenant_id": "not-acme"})
    assert t.can_make_admin()
    # the pool gets each role group once, whatever the number of tenants
    assert {t.member_group_for(x) for x in t.tenants} | {t.admin_group_for(x) for x in t.tenants} == \
        {"member", "admin"}


def test_per_tenant_groups_with_a_role_admin_group(tmp_path: Path) -> None:
    t = load(tmp_path, '[tenancy]\nadmin_group = "admin"\n').tenancy
    assert t.grants("acme", admin=True) == (["tenant-acme-member", "admin"], {})


def test_groups_and_attribute_combined(tmp_path: Path) -> None:
    t = load(tmp_path, '[tenancy]\nmodel = "groups+attribute"\nattribute = "custom:tenant_id"\n').tenancy
    assert t.grants("acme", admin=True) == (["tenant-acme-member", "tenant-acme-admin"],
                                            {"custom:tenant_id": "acme"})


def test_no_way_to_make_an_admin_is_not_an_error_but_said() -> None:
    t = TenancySection(model="attribute", attribute="custom:tenant_id", member_group=None, admin_group=None)
    assert not t.can_make_admin()


@pytest.mark.parametrize(
    ("extra", "key", "expected"),
    [
        ('[tenancy]\nmember_group = "member"\n', "[tenancy].member_group", "containing {tenant} when model = 'groups'"),
        ('[tenancy]\nmodel = "groups+attribute"\nattribute = "custom:t"\nmember_group = "member"\n',
         "[tenancy].member_group", "containing {tenant}"),
        ('[tenancy]\nadmin_group = "tenant-{tenant_id}-admin"\n', "[tenancy].admin_group",
         "only placeholder is {tenant}"),
        ('[tenancy]\nmodel = "attribute"\nattribute = "custom:t"\nmember_group = "x"\nadmin_group = "x"\n',
         "[tenancy].admin_group", "a group other than member_group"),
        ('[tenancy]\nmodel = "attribute"\nattribute = "custom:t"\nadmin_attribute = "custom:t"\n',
         "[tenancy].admin_attribute", "an attribute other than"),
        ('[hosted_ui]\nscopes = []\n', "[hosted_ui].scopes", "non-empty list"),
        ('[hosted_ui]\nscopes = ["openid email"]\n', "[hosted_ui].scopes", "no spaces"),
        ('[hosted_ui]\nscopes = ["email"]\n', "[hosted_ui].scopes", "includes 'openid'"),
        ('[hosted_ui]\nscope = ["openid"]\n', "[hosted_ui].scope", "one of the known keys"),
        ("[limits]\nmax_pool_revocation_window_seconds = -5\n", "[limits].max_pool_revocation_window_seconds",
         "an integer >= 0"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, extra: str, key: str, expected: str) -> None:
    with pytest.raises(SpecError) as info:
        load(tmp_path, extra)
    message = str(info.value)
    assert message.startswith(str(tmp_path / "spec.toml")) and key in message and expected in message, message


# --- hosted UI scopes, revocation windows ----------------------------------------------------------


def test_hosted_ui_scopes_default_and_declared(tmp_path: Path) -> None:
    assert load(tmp_path, "").hosted_ui.scopes == ["openid", "email", "profile"]
    declared = load(tmp_path, '[hosted_ui]\nscopes = ["openid", "aws.cognito.signin.user.admin"]\n')
    assert declared.hosted_ui.scopes == ["openid", "aws.cognito.signin.user.admin"]


def test_pool_revocation_window_defaults_to_the_logout_window(tmp_path: Path) -> None:
    assert load(tmp_path, "[limits]\nmax_revocation_window_seconds = 60\n").limits.pool_revocation_window == 60
    both = load(tmp_path, "[limits]\nmax_revocation_window_seconds = 60\nmax_pool_revocation_window_seconds = 0\n")
    assert both.limits.pool_revocation_window == 0


def test_bundled_specs_describe_the_session_setup() -> None:
    reference = load_spec(TARGETS / "reference.toml")
    assert reference.limits.pool_revocation_window == 3600 and reference.limits.max_revocation_window_seconds == 60
    assert load_spec(TARGETS / "reference_strict.toml").limits.pool_revocation_window == 0
    attribute = load_spec(TARGETS / "reference_tenant_attribute.toml")
    assert attribute.tenancy.grants("acme", admin=True) == (["member", "admin"], {"custom:tenant_id": "acme"})
    assert attribute.target.env["REFERENCE_APP_TENANCY"] == "attribute"
