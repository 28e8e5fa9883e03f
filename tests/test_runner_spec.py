"""Target specs: parsing, strict validation with named errors, ``extends``, and request rendering."""

from __future__ import annotations

import pickle

import json
from pathlib import Path

import pytest

from harness.runner.spec import (
    AuthSection,
    REQUEST_NAMES,
    SpecError,
    bundled_spec_path,
    load_spec,
    parse_spec,
)
from harness.runner.target import MissingPlaceholder, json_pointer, mask_data, mask_value, render
from tests.spec_support import MINIMAL, TARGETS, write


def spec_error(tmp_path: Path, text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, text))
    return info.value


# --- the bundled specs -------------------------------------------------------------------------


def test_bundled_reference_spec_declares_every_named_request() -> None:
    spec = load_spec(bundled_spec_path())
    assert spec.name == "reference-app"
    assert set(spec.requests) == set(REQUEST_NAMES)
    assert spec.target.mode == "command"
    assert spec.target.command[0] == "{python}"
    assert spec.requests["identity"].user_key == "/user_key"
    assert spec.requests["login"].pointers == {
        "access_token": "/access_token", "id_token": "/id_token", "refresh_token": "/refresh_token"}
    assert spec.requests["signup"].auth is False and spec.requests["protected"].auth is True
    assert spec.tenancy.admin_group_for("acme") == "tenant-acme-admin"
    assert spec.tenancy.member_group_for("globex") == "tenant-globex-member"
    assert len(spec.sha256) == 64


def test_flawed_spec_extends_the_reference_and_keeps_its_paths(tmp_path: Path) -> None:
    base = load_spec(bundled_spec_path())
    flawed = load_spec(TARGETS / "flawed" / "no_exp_check.toml")
    assert flawed.target.env == {"REFERENCE_APP_FLAW": "no_exp_check"}
    assert flawed.name.endswith("(flaw: no_exp_check)")
    # {spec_dir} of the base is anchored to the base's directory, not flawed/
    assert flawed.target.command[1] == str(TARGETS / "reference_app" / "app.py")
    assert flawed.requests.keys() == base.requests.keys()
    assert flawed.sha256 != base.sha256


def test_every_shipped_flawed_spec_names_a_known_flaw() -> None:
    import importlib.util

    module_spec = importlib.util.spec_from_file_location("flaws", TARGETS / "reference_app" / "flaws.py")
    flaws = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(flaws)
    shipped = sorted(p.stem for p in (TARGETS / "flawed").glob("*.toml"))
    assert len(shipped) >= 3
    for name in shipped:
        spec = load_spec(TARGETS / "flawed" / f"{name}.toml")
        flaw = spec.target.env["REFERENCE_APP_FLAW"]
        assert name in (flaw, f"id_mode_{flaw}")  # id_mode_<flaw>: the reference app taking ID tokens
        assert flaw in flaws.FLAWS


def test_extends_hash_covers_the_base(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL, "base.toml")
    child = write(tmp_path, 'extends = "base.toml"\n[target]\nname = "child"\n', "child.toml")
    first = load_spec(child)
    assert first.name == "child" and first.target.base_url == "http://127.0.0.1:8000"
    write(tmp_path, MINIMAL.replace("/api/protected", "/api/other"), "base.toml")
    second = load_spec(child)
    assert second.requests["protected"].path == "/api/other"
    assert second.sha256 != first.sha256


def test_minimal_spec_defaults() -> None:
    import tomllib

    spec = parse_spec(tomllib.loads(MINIMAL), "x.toml")
    req = spec.requests["protected"]
    assert (req.method, req.allowed, req.denied) == ("GET", [200, 201, 202, 204], [401, 403])
    assert spec.auth == AuthSection()
    assert spec.limits.max_revocation_window_seconds == 3600
    assert spec.evidence.mask_secrets is True
    assert spec.missing(["protected", "identity"]) == ["identity"]


# --- errors name the file, the key and what was expected ------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        (MINIMAL + "\nbogus = 1\n", "bogus", "one of the known keys"),
        (MINIMAL.replace('name = "app"', 'name = "app"\nreadytimeout = 3'), "[target].readytimeout",
         "one of the known keys"),
        (MINIMAL + '\n[requests.protectd]\npath = "/x"\n', "[requests.protectd]", "a request named one of"),
        (MINIMAL + "allowed = [\"200\"]\n", "[requests.protected].allowed", "HTTP status codes"),
        (MINIMAL + "allowed = []\n", "[requests.protected].allowed", "non-empty list"),
        (MINIMAL + "denied = [200]\n", "[requests.protected].denied", "not also listed in allowed"),
        (MINIMAL + 'method = "FETCH"\n', "[requests.protected].method", "one of"),
        (MINIMAL.replace('"/api/protected"', '"api/protected"'), "[requests.protected].path", "starting with '/'"),
        (MINIMAL.replace('"/api/protected"', '"/api/{tenantt}"'), "[requests.protected]", "placeholders among"),
        (MINIMAL + '\n[requests.identity]\npath = "/me"\n', "[requests.identity].user_key", "JSON pointer"),
        (MINIMAL + '\n[requests.identity]\npath = "/me"\nuser_key = "user_key"\n', "[requests.identity].user_key",
         "JSON pointer"),
        (MINIMAL.replace('base_url = "http://127.0.0.1:8000"', 'base_url = "http://x"\ncommand = ["app"]'),
         "[target]", "exactly one of command, image or base_url"),
        (MINIMAL.replace('base_url = "http://127.0.0.1:8000"', ""), "[target]", "exactly one of"),
        (MINIMAL.replace('base_url = "http://127.0.0.1:8000"', 'base_url = "127.0.0.1:8000"'),
         "[target].base_url", "http:// or https:// URL"),
        (MINIMAL.replace('name = "app"', 'name = "app"\nready_timeout = "soon"'), "[target].ready_timeout",
         "a number"),
        (MINIMAL.replace('name = "app"\n', ""), "[target].name", "required"),
        (MINIMAL.replace('base_url = "http://127.0.0.1:8000"', 'command = ["{pythn}", "app.py"]'),
         "[target].command", "placeholders"),
        (MINIMAL.replace('base_url = "http://127.0.0.1:8000"', 'command = "app"\nready_url = "http://h:{prt}/"'),
         "[target].ready_url", "only placeholder is {port}"),
        (MINIMAL + '\n[auth]\nlocation = "query"\n', "[auth].location", "'header', 'cookie'"),
        (MINIMAL + '\n[auth]\ntoken = "refresh"\n', "[auth].token", "'access', 'id'"),
        (MINIMAL + '\n[tenancy]\nmodel = "attribute"\n', "[tenancy].attribute", "custom attribute name"),
        (MINIMAL + '\n[tenancy]\nmember_group = "members"\n', "[tenancy].member_group", "containing {tenant}"),
        (MINIMAL + '\n[tenancy]\ntenants = ["one"]\n', "[tenancy].tenants", "at least two"),
        (MINIMAL + '\n[tenancy]\nmodel = "attribute"\nattribute = "tenant"\n', "[tenancy].attribute", "custom:"),
        (MINIMAL + "\n[limits]\nmax_revocation_window_seconds = -1\n", "[limits].max_revocation_window_seconds",
         "an integer >= 0"),
        (MINIMAL + "\n[limits]\nmax_revocation_window_seconds = 1.5\n", "[limits].max_revocation_window_seconds",
         "an integer"),
        (MINIMAL + "\n[evidence]\nmask_secrets = 1\n", "[evidence].mask_secrets", "true or false"),
        ('extends = 3\n' + MINIMAL, "extends", "the path of another target spec"),
    ],
)
def test_errors_name_file_key_and_expectation(tmp_path: Path, text: str, key: str, expected: str) -> None:
    err = spec_error(tmp_path, text)
    message = str(err)
    assert message.startswith(str(tmp_path / "spec.toml")), message
    assert key in message, message
    assert expected in message, message
    assert err.key.endswith(key) or key in err.key, (err.key, key)


def test_invalid_toml_and_missing_file_name_the_file(tmp_path: Path) -> None:
    err = spec_error(tmp_path, "[target\nname = 1")
    assert str(tmp_path / "spec.toml") in str(err) and "valid TOML" in str(err)
    with pytest.raises(SpecError, match="no-such.toml: expected an existing target spec file"):
        load_spec(tmp_path / "no-such.toml")


def test_missing_extends_base_names_the_base(tmp_path: Path) -> None:
    err = spec_error(tmp_path, 'extends = "gone.toml"\n' + MINIMAL)
    assert "gone.toml" in str(err)


def test_command_as_string_is_split_like_a_shell(tmp_path: Path) -> None:
    text = MINIMAL.replace('base_url = "http://127.0.0.1:8000"',
                           'command = "{python} app.py --flag \'two words\'"\ncwd = "sub"')
    spec = load_spec(write(tmp_path, text))
    assert spec.target.command == ["{python}", "app.py", "--flag", "two words"]
    assert spec.resolve(spec.target.cwd) == (tmp_path / "sub").resolve()


# --- auth presentation and rendering --------------------------------------------------------------


def test_token_presentation_per_auth_section() -> None:
    assert AuthSection().present("T") == ({"Authorization": "Bearer T"}, {})
    assert AuthSection(scheme="").present("T") == ({"Authorization": "T"}, {})
    assert AuthSection(header="X-Token", scheme="JWT").present("T") == ({"X-Token": "JWT T"}, {})
    assert AuthSection(location="cookie", cookie="sid").present("T") == ({}, {"sid": "T"})


def test_render_keeps_types_for_whole_placeholders_and_quotes_paths() -> None:
    values = {"tenant": "a b/c", "value": 42, "email": "x@example.com", "username": "u"}
    assert render({"v": "{value}", "s": "n={value}"}, values) == {"v": 42, "s": "n=42"}
    assert render("/t/{tenant}/{email}", values, url=True) == "/t/a%20b%2Fc/x%40example.com"
    assert render(["{username}", {"k": "{email}"}], values) == ["u", {"k": "x@example.com"}]
    with pytest.raises(MissingPlaceholder, match=r"\{code\}"):
        render({"c": "{code}"}, values)


def test_json_pointer() -> None:
    doc = {"a": {"b/c": [10, {"d~e": "x"}]}}
    assert json_pointer(doc, "") == doc
    assert json_pointer(doc, "/a/b~1c/1/d~0e") == "x"
    for bad in ("/a/zz", "/a/b~1c/7", "/a/b~1c/0/x"):
        with pytest.raises(KeyError):
            json_pointer(doc, bad)


def test_masking_hides_tokens_and_secrets_but_keeps_them_recognisable() -> None:
    jwt_like = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
    masked = mask_data({"password": "hunter2", "refresh_token": "abc", "note": f"got {jwt_like}",
                        "nested": [{"AccessToken": "zzz"}], "count": 3})
    text = json.dumps(masked)
    for secret in ("hunter2", "abc\"", jwt_like, "zzz"):
        assert secret not in text
    assert masked["count"] == 3
    assert masked["password"] == mask_value("hunter2")
    assert mask_value("hunter2") == mask_value("hunter2") != mask_value("hunter3")


def test_the_documented_example_is_a_valid_spec(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "target-spec.md").read_text()
    example = doc.split("## A complete, commented example", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    spec = load_spec(write(tmp_path, example))
    assert spec.name == "orders-api"
    assert set(spec.requests) == set(REQUEST_NAMES)
    assert spec.target.env["PUBLIC_URL"] == "http://127.0.0.1:{port}"
    assert spec.requests["identity"].user_key == "/user/id"


def test_the_documented_inline_pool_is_a_valid_spec(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "target-spec.md").read_text()
    example = doc.split("## The pool", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    spec = load_spec(write(tmp_path, MINIMAL + example))
    assert spec.pool.definition is None and spec.pool.client == "web"
    assert spec.pool.inline is not None and spec.pool.inline["username_attributes"] == ["email"]
    assert set(spec.pool.inline["clients"]) == {"web"} and spec.pool.inline["groups"] == [{"name": "admins"}]


def test_inline_pool_keys_merge_through_extends(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL + '\n[pool]\nusername_attributes = ["email"]\n[pool.clients.web]\n'
                              'generate_secret = false\n', "base.toml")
    spec = load_spec(write(tmp_path, 'extends = "base.toml"\n[pool]\nusername_case_sensitive = true\n'
                                     '[pool.clients.web]\nexplicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH"]\n'))
    assert spec.pool.inline == {"username_attributes": ["email"], "username_case_sensitive": True,
                                "clients": {"web": {"generate_secret": False,
                                                    "explicit_auth_flows": ["ALLOW_USER_PASSWORD_AUTH"]}}}


def test_a_spec_error_survives_pickling_so_a_worker_process_reports_it_intact() -> None:
    error = SpecError("/specs/app.toml", "[pool].definition", "a definition Cognito accepts", got="x.toml")
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, SpecError) and str(again) == str(error)
    assert (again.path, again.key, again.expected) == (error.path, error.key, error.expected)
