"""The sections of a target spec: one parser per table, with strict per-key validation.

Each reads its table through :class:`SpecTable` (the package's one typed TOML
reader, harness.tomltable) and raises :class:`SpecError` naming the file and
the ``[table].key``. harness.runner.specfile reads the files and calls these.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any


from harness.pooldef.build import (DEFAULT_APP_CLIENT, PoolDefinitionError, check_definition, inline_layout, layered,
                                   read_definition)
from harness.runner.spec_model import (
    COMMAND_PLACEHOLDERS,
    DEFAULT_ALLOWED,
    DEFAULT_DENIED,
    DEFAULT_HOSTED_UI_SCOPES,
    CHALLENGE_ANSWERS,
    CREDENTIAL_REQUESTS,
    HTTP_METHODS,
    LOGIN_STEPS,
    PLACEHOLDERS,
    REQUEST_NAMES,
    TOKEN_POINTERS,
    TOTP_SECRET_REQUESTS,
    UNAUTHENTICATED_BY_DEFAULT,
    AuthSection,
    CheckSection,
    AwsSection,
    EvidenceSection,
    HostedUiSection,
    LimitsSection,
    PoolSection,
    RequestSpec,
    SpecError,
    StatusOverride,
    TargetSection,
    TenancySection,
    collect_placeholders,
)
from harness.tomltable import TomlTable


class SpecTable(TomlTable):
    """One table of a target spec (harness.tomltable does the typed reads): unknown keys are refused
    up front, and errors are :class:`SpecError` naming the file and the ``[table].key``."""

    def __init__(self, path: Path, prefix: str, table: Any, allowed: set[str]) -> None:
        self.prefix = prefix
        if not isinstance(table, dict):
            raise SpecError(path, prefix, "a table")
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise SpecError(path, self.key(unknown[0]), f"one of the known keys ({', '.join(sorted(allowed))})",
                            unknown[0], has_got=False) from None
        super().__init__(str(path), prefix, table)
        self.table = table

    def key(self, name: str) -> str:
        return f"[{self.prefix}].{name}" if self.prefix else name

    def wrong(self, name: str, expected: str, value: Any) -> SpecError:
        return SpecError(self.file, self.key(name), expected, value)

    def missing(self, name: str, expected: str) -> SpecError:
        return SpecError(self.file, self.key(name), f"{expected} (this key is required)", has_got=False)

    def error(self, name: str, expected: str) -> SpecError:
        return self.wrong(name, expected, self.table.get(name))

    def string(self, name: str, default: str | None = None, *, required: bool = False,
               choices: tuple[str, ...] | None = None, nonempty: bool = False) -> Any:
        if required and name not in self.table:
            raise self.missing(name, "a string")
        expected = f"one of {', '.join(repr(c) for c in choices)}" if choices else "a string"
        value = self.read(name, str, default, expected=expected)
        if choices and value is not None and value not in choices:
            raise self.error(name, expected)
        if nonempty and value is not None and not value.strip():
            raise self.error(name, "a non-empty string")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        return self.read(name, bool, default, expected="true or false")

    def number(self, name: str, default: float, *, minimum: float = 0, integer: bool = False) -> Any:
        kind: tuple[type, ...] = (int,) if integer else (int, float)
        expected = f"{'an integer' if integer else 'a number'} >= {minimum}"
        value = self.read(name, kind, default, expected=expected)
        if value < minimum:
            raise self.error(name, expected)
        return value

    def str_table(self, name: str) -> dict[str, str]:
        value = self.read(name, dict, {}, expected="a table of strings")
        for k, v in value.items():
            if not isinstance(v, str):
                raise SpecError(self.file, f"{self.key(name)}.{k}", "a string", v)
        return dict(value)

    def str_list(self, name: str, default: list[str] | None = None) -> list[str] | None:
        return self.strings(name, default)

    def status_list(self, name: str, default: list[int]) -> list[int]:
        expected = "a non-empty list of HTTP status codes (integers 100-599)"
        value = self.read(name, list, default, expected=expected)
        if not value or not all(isinstance(v, int) and not isinstance(v, bool) and 100 <= v <= 599 for v in value):
            raise self.error(name, expected)
        return list(value)

    def pointer(self, name: str) -> str | None:
        value = self.string(name)
        if value is not None and value != "" and not value.startswith("/"):
            raise self.error(name, "a JSON pointer (RFC 6901) such as '/user/id'")
        return value


def parse_target(path: Path, raw: Any) -> TargetSection:
    r = SpecTable(path, "target", raw, {"name", "command", "cwd", "ready_url", "ready_timeout", "stop_timeout",
                                      "env", "image", "container_port", "base_url"})
    name = r.string("name", required=True, nonempty=True)
    command_raw = r.read("command", (str, list), None, expected="a command line (string or list of strings)")
    command: list[str] | None = None
    if isinstance(command_raw, str):
        try:
            command = shlex.split(command_raw)
        except ValueError as exc:
            raise r.error("command", f"a shell-style command line ({exc})") from None
    elif isinstance(command_raw, list):
        if not command_raw or not all(isinstance(c, str) for c in command_raw):
            raise r.error("command", "a non-empty list of strings")
        command = list(command_raw)
    if command is not None and not command:
        raise r.error("command", "a non-empty command")
    if command is not None:
        found: set[str] = set()
        collect_placeholders(command, found)
        bad = sorted(found - COMMAND_PLACEHOLDERS)
        if bad:
            raise r.error("command", f"only the placeholders {{python}}, {{spec_dir}}, {{port}} (unknown {{{bad[0]}}})")
    image = r.string("image", nonempty=True)
    base_url = r.string("base_url", nonempty=True)
    modes = [k for k, v in (("command", command), ("image", image), ("base_url", base_url)) if v]
    if len(modes) != 1:
        raise SpecError(path, "[target]", "exactly one of command, image or base_url",
                        ", ".join(modes) or "none of them")
    if base_url and not re.match(r"^https?://[^/\s]+", base_url):
        raise r.error("base_url", "an http:// or https:// URL")
    ready_url = r.string("ready_url", nonempty=True)
    if ready_url is not None:
        found = set()
        collect_placeholders(ready_url, found)
        if found - {"port"}:
            raise r.error("ready_url", "a URL whose only placeholder is {port}")
        if not ready_url.startswith(("http://", "https://", "/")):
            raise r.error("ready_url", "an http(s) URL or a path on the target such as '/health'")
    return TargetSection(
        name=name,
        command=command,
        cwd=r.string("cwd", nonempty=True),
        ready_url=ready_url,
        ready_timeout=float(r.number("ready_timeout", 30.0, minimum=0.1)),
        stop_timeout=float(r.number("stop_timeout", 5.0, minimum=0.1)),
        env=r.str_table("env"),
        image=image,
        container_port=int(r.number("container_port", 8080, minimum=1, integer=True)),
        base_url=base_url.rstrip("/") if base_url else None,
    )


def parse_auth(path: Path, raw: Any) -> AuthSection:
    r = SpecTable(path, "auth", raw, {"location", "header", "scheme", "cookie", "token"})
    return AuthSection(
        location=r.string("location", "header", choices=("header", "cookie")),
        header=r.string("header", "Authorization", nonempty=True),
        scheme=r.string("scheme", "Bearer"),
        cookie=r.string("cookie", "access_token", nonempty=True),
        token=r.string("token", "access", choices=("access", "id")),
    )


def parse_request(path: Path, name: str, raw: Any) -> RequestSpec:
    prefix = f"requests.{name}"
    if name not in REQUEST_NAMES:
        raise SpecError(path, f"[{prefix}]", f"a request named one of {', '.join(REQUEST_NAMES)}", name)
    r = SpecTable(path, prefix, raw, {"method", "path", "query", "headers", "json", "form", "auth", "allowed",
                                    "denied", "user_key", "value_key", *TOKEN_POINTERS,
                                    *(("challenge", "challenge_session") if name in LOGIN_STEPS else ()),
                                    *(("totp_secret",) if name in TOTP_SECRET_REQUESTS else ()),
                                    *(("access_key_id",) if name in CREDENTIAL_REQUESTS else ())})
    req_path = r.string("path", required=True, nonempty=True)
    if not req_path.startswith("/"):
        raise r.error("path", "a path starting with '/'")
    json_body = r.table.get("json")
    form = r.str_table("form") if "form" in r.table else None
    if json_body is not None and form is not None:
        raise SpecError(path, f"[{prefix}]", "at most one of json or form", "both", has_got=False)
    pointers = {k: p for k in TOKEN_POINTERS if (p := r.pointer(k))}
    spec = RequestSpec(
        name=name,
        method=r.string("method", "GET", choices=tuple(sorted(HTTP_METHODS))).upper(),
        path=req_path,
        query=r.str_table("query"),
        headers=r.str_table("headers"),
        json=json_body,
        form=form,
        auth=r.boolean("auth", name not in UNAUTHENTICATED_BY_DEFAULT),
        allowed=r.status_list("allowed", DEFAULT_ALLOWED),
        denied=r.status_list("denied", DEFAULT_DENIED),
        user_key=r.pointer("user_key"),
        value_key=r.pointer("value_key"),
        pointers=pointers,
        challenge=r.pointer("challenge"),
        challenge_session=r.pointer("challenge_session"),
        totp_secret=r.pointer("totp_secret"),
        access_key_id=r.pointer("access_key_id"),
    )
    overlap = sorted(set(spec.allowed) & set(spec.denied))
    if overlap:
        raise r.error("denied", f"status codes not also listed in allowed (both list {overlap[0]})")
    unknown = sorted(spec.placeholders() - PLACEHOLDERS)
    if unknown:
        raise SpecError(path, f"[{prefix}]", f"placeholders among {{{'}, {'.join(sorted(PLACEHOLDERS))}}}",
                        "{" + unknown[0] + "}")
    if name == "identity" and spec.user_key is None:
        raise SpecError(path, f"[{prefix}].user_key", "a JSON pointer to the app's user key (required for identity)",
                        has_got=False)
    if name in TOTP_SECRET_REQUESTS and not spec.totp_secret:
        raise SpecError(path, f"[{prefix}].totp_secret", f"a JSON pointer to the TOTP secret the app hands out "
                        f"(required for {name})", has_got=False)
    if name in CREDENTIAL_REQUESTS and not spec.access_key_id:
        raise SpecError(path, f"[{prefix}].access_key_id", "a JSON pointer to the AccessKeyId of the AWS credentials "
                        f"the app hands out (required for {name})", has_got=False)
    return spec


def check_login_steps(path: Path, requests: dict[str, RequestSpec]) -> None:
    """A spec that answers MFA challenges says where its login puts the challenge (and the session, when a
    request sends it back as {session}): without them no check could tell a challenge from a refusal."""
    answers = [n for n in CHALLENGE_ANSWERS if n in requests]
    if not answers:
        return
    login = requests.get("login")
    if login is None:
        raise SpecError(path, "[requests.login]", f"a login request (required by [requests.{answers[0]}])",
                        has_got=False)
    if not login.challenge:
        raise SpecError(path, "[requests.login].challenge", "a JSON pointer to the challenge name the login "
                        f"answers with (required by [requests.{answers[0]}])", has_got=False)
    for name in answers:
        if "session" in requests[name].placeholders() and not login.challenge_session:
            raise SpecError(path, "[requests.login].challenge_session", "a JSON pointer to the challenge's session "
                            f"handle ([requests.{name}] sends it back as {{session}})", has_got=False)


_TEMPLATE_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def parse_tenancy(path: Path, raw: Any) -> TenancySection:
    r = SpecTable(path, "tenancy", raw, {"model", "member_group", "admin_group", "attribute", "admin_attribute",
                                       "admin_value", "tenants", "admin_mfa_required"})
    model = r.string("model", "groups", choices=("groups", "attribute", "groups+attribute"))
    t = TenancySection(
        model=model,
        member_group=r.string("member_group", "tenant-{tenant}-member") or None,
        admin_group=r.string("admin_group", "tenant-{tenant}-admin") or None,
        attribute=r.string("attribute"),
        admin_attribute=r.string("admin_attribute"),
        admin_value=r.string("admin_value", "admin"),
        tenants=r.str_list("tenants", ["acme", "globex"]) or [],
        admin_mfa_required=r.boolean("admin_mfa_required", False),
    )
    if len(t.tenants) < 2 or len(set(t.tenants)) != len(t.tenants):
        raise r.error("tenants", "a list of at least two distinct tenant names")
    for key in ("member_group", "admin_group"):
        bad = [p for p in _TEMPLATE_PLACEHOLDER.findall(getattr(t, key) or "") if p != "tenant"]
        if bad:
            raise r.error(key, "a group name, or a template whose only placeholder is {tenant}")
    if t.uses_groups and "{tenant}" not in (t.member_group or ""):
        raise r.error("member_group", f"a group name template containing {{tenant}} when model = {model!r} (the "
                                      "tenant comes from this group; for a tenant in an attribute and "
                                      "tenant-independent role groups use model = 'attribute')")
    if t.member_group and t.member_group == t.admin_group:
        raise r.error("admin_group", "a group other than member_group (else every member is an admin)")
    if t.uses_attribute and not t.attribute:
        raise SpecError(path, "[tenancy].attribute", f"a custom attribute name when model = {model!r}",
                        has_got=False)
    for key in ("attribute", "admin_attribute"):
        value = getattr(t, key)
        if value is not None and not value.startswith("custom:"):
            raise r.error(key, "a custom attribute name such as 'custom:tenant'")
    if t.attribute is not None and t.attribute == t.admin_attribute:
        raise r.error("admin_attribute", "an attribute other than [tenancy].attribute")
    return t


def parse_limits(path: Path, raw: Any) -> LimitsSection:
    r = SpecTable(path, "limits", raw, {"max_revocation_window_seconds", "required_scope", "clock_skew_seconds",
                                      "max_jwks_fetches", "jwks_refetch_cooldown_seconds",
                                      "revocation_cache_seconds", "max_pool_revocation_window_seconds"})
    pool_window = int(r.number("max_pool_revocation_window_seconds", 0, integer=True)) \
        if "max_pool_revocation_window_seconds" in r.table else None
    return LimitsSection(
        max_revocation_window_seconds=int(r.number("max_revocation_window_seconds", 3600, integer=True)),
        required_scope=r.string("required_scope", nonempty=True),
        clock_skew_seconds=int(r.number("clock_skew_seconds", 300, integer=True)),
        max_jwks_fetches=int(r.number("max_jwks_fetches", 5, minimum=1, integer=True)),
        jwks_refetch_cooldown_seconds=float(r.number("jwks_refetch_cooldown_seconds", 30.0)),
        revocation_cache_seconds=float(r.number("revocation_cache_seconds", 5.0)),
        max_pool_revocation_window_seconds=pool_window,
    )


_SCOPE_RE = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]+$")  # RFC 6749 §3.3 scope-token


def parse_hosted_ui(path: Path, raw: Any) -> HostedUiSection:
    r = SpecTable(path, "hosted_ui", raw, {"scopes"})
    scopes = r.str_list("scopes", list(DEFAULT_HOSTED_UI_SCOPES)) or []
    if not scopes or not all(_SCOPE_RE.match(s) for s in scopes) or len(set(scopes)) != len(scopes):
        raise r.error("scopes", "a non-empty list of distinct OAuth scope names (no spaces)")
    if {"email", "phone", "profile"} & set(scopes) and "openid" not in scopes:
        raise r.error("scopes", "a list that includes 'openid' (Cognito requires it for email, phone and profile)")
    return HostedUiSection(scopes=scopes)


POOL_SPEC_KEYS = {"definition", "client"}  # [pool]'s own keys; the others are pool-definition keys


def parse_pool(path: Path, raw: Any) -> PoolSection:
    """[pool]: ``definition`` (a file), the pool-definition keys inline, or both (inline keys over the file's:
    tables merge key by key, arrays are replaced); ``client`` names the app's client in every case.

    An inline pool is built once in a scratch emulator engine here, so a bad
    key, type or a setting Cognito refuses is a SpecError naming this file
    and the key before anything starts.
    """
    if not isinstance(raw, dict):
        raise SpecError(path, "[pool]", "a table", raw)
    r = SpecTable(path, "pool", {k: v for k, v in raw.items() if k in POOL_SPEC_KEYS}, POOL_SPEC_KEYS)
    definition, client = r.string("definition", nonempty=True), r.string("client", nonempty=True)
    inline = {k: v for k, v in raw.items() if k not in POOL_SPEC_KEYS} or None
    if inline is None:
        return PoolSection(definition=definition, client=client)
    base: dict[str, Any] = {}
    if definition is not None:
        try:
            base = inline_layout(read_definition((path.parent / definition).resolve()))
        except PoolDefinitionError as exc:
            raise r.error("definition", f"a readable pool definition ({exc})") from None
    merged = layered(base, inline)
    try:
        check_definition(merged, str(path), inline=True)
    except PoolDefinitionError as exc:
        raise _pool_error(path, exc, inline, definition) from None
    clients = merged.get("clients") or {DEFAULT_APP_CLIENT: {}}
    if client is not None and client not in clients:
        raise r.error("client", f"the name of one of the pool's clients ({', '.join(clients)})")
    return PoolSection(definition=definition, client=client, inline=inline)


def _pool_error(path: Path, exc: PoolDefinitionError, inline: dict[str, Any], definition: str | None) -> SpecError:
    """A pool-definition error as a spec error: ``pool.clients.web.x`` reads ``[pool.clients.web].x``; a key
    only the definition file gives is named in that file."""
    top = exc.key.removeprefix("pool").lstrip(".").split(".")[0].split("[")[0]
    if definition is not None and top and top not in inline:
        return SpecError(path, "[pool].definition", f"a definition Cognito accepts with this spec's [pool] keys "
                         f"({definition}: {exc.key}: {exc.message})", has_got=False)
    table, _, name = exc.key.rpartition(".")
    key = f"[{table}].{name}" if table else f"[{name or 'pool'}]"
    message = exc.message
    if message.startswith("expected "):
        return SpecError(path, key, message.removeprefix("expected "), has_got=False)
    if message.startswith("unknown key; expected one of "):
        known = message.removeprefix("unknown key; expected one of ")
        if table == "":
            known = ", ".join(sorted({*known.split(", "), *POOL_SPEC_KEYS}))
        return SpecError(path, key, f"one of the known keys ({known})", has_got=False)
    return SpecError(path, key, f"a pool definition Cognito accepts ({message})", has_got=False)


def parse_evidence(path: Path, raw: Any) -> EvidenceSection:
    r = SpecTable(path, "evidence", raw, {"mask_secrets", "body_limit"})
    return EvidenceSection(mask_secrets=r.boolean("mask_secrets", True),
                           body_limit=int(r.number("body_limit", 2048, minimum=64, integer=True)))


def parse_aws(path: Path, raw: Any, target: TargetSection) -> AwsSection:
    r = SpecTable(path, "aws", raw, {"endpoints", "hosts_file"})
    aws = AwsSection(endpoints=r.boolean("endpoints", False),
                     hosts_file=r.string("hosts_file", "auto", choices=("auto", "off", "required")))
    if aws.endpoints and target.mode != "command":
        raise r.error("endpoints", "false for a target the harness does not launch with command (AWS endpoint mode "
                                   "hands the app a CA made for the run, an HTTPS_PROXY and a private /etc/hosts "
                                   f"when it starts it; [target].{target.mode} gets none of these: start the app with "
                                   "[target].command, e.g. a script that runs it, or see docs/target-spec.md)")
    return aws


def parse_statuses(r: SpecTable) -> StatusOverride:
    return StatusOverride(allowed=r.status_list("allowed", []) if "allowed" in r.table else None,
                          denied=r.status_list("denied", []) if "denied" in r.table else None)


def parse_checks(path: Path, raw: Any, requests: dict[str, RequestSpec]) -> dict[str, CheckSection]:
    """``[checks."ID"]`` tables: statuses a check accepts (``allowed``/``denied``), or per request name.

    Check ids are checked against the catalogue at run start (:func:`validate_check_ids`):
    the catalogue is code the spec parser does not load.
    """
    if not isinstance(raw, dict):
        raise SpecError(path, "[checks]", 'a table of check ids, e.g. [checks."TV-MALFORMED"]', raw)
    out: dict[str, CheckSection] = {}
    for check_id, table in raw.items():
        prefix = f'checks."{check_id}"'
        if not isinstance(table, dict):
            raise SpecError(path, f"[{prefix}]", "a table with allowed, denied or request-name tables", table)
        r = SpecTable(path, prefix, table, {"allowed", "denied", *REQUEST_NAMES})
        section = CheckSection(statuses=parse_statuses(r))
        for name in sorted(set(table) & set(REQUEST_NAMES)):
            if name not in requests:
                raise SpecError(path, f"[{prefix}.{name}]", f"a request this spec defines ([requests.{name}])",
                                has_got=False)
            per = SpecTable(path, f"{prefix}.{name}", table[name], {"allowed", "denied"})
            section.requests[name] = parse_statuses(per)
        for req in requests.values():
            judged = section.request(req)
            overlap = sorted(set(judged.allowed) & set(judged.denied))
            if overlap:
                where = f"{prefix}.{req.name}" if req.name in section.requests else prefix
                raise SpecError(path, f"[{where}]", f"allowed and denied lists that do not overlap for "
                                f"[requests.{req.name}] (both list {overlap[0]})", has_got=False)
        out[check_id] = section
    return out


__all__ = ["POOL_SPEC_KEYS", "SpecTable", "check_login_steps", "parse_auth", "parse_aws", "parse_checks", "parse_evidence", "parse_hosted_ui", "parse_limits", "parse_pool", "parse_request", "parse_statuses", "parse_target", "parse_tenancy"]
