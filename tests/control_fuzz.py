"""Random and edge-case requests for every control-plane route (``/_harness``), as data.

Shared by tests/test_model_fuzz.py (hypothesis draws from these pools) and the
quick fuzzer below (``python -m tests.control_fuzz [N]``: N random requests
against a fresh emulator, then a count of the 5xx answers by route).
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from harness.control import Control
from harness.server import Emulator


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # "{pool_id}", "{kid}", "{fault_id}", "{name}", "{sub}" are filled in per request
    members: tuple[str, ...] = ()  # the JSON body's members (POST) or the query's (GET)


ROUTES: tuple[Route, ...] = (
    Route("GET", "", ()),
    Route("POST", "/reset", ("seed",)),
    Route("POST", "/pools", ("definition", "toml", "issuer")),
    Route("GET", "/clock"),
    Route("POST", "/clock", ("action", "at", "seconds")),
    Route("GET", "/mailbox", ("to", "purpose", "pool_id", "include_failed")),
    Route("DELETE", "/mailbox"),
    Route("GET", "/mailbox/latest-code", ("to", "purpose")),
    Route("GET", "/faults"),
    Route("POST", "/faults", ("kind", "operation", "recipient", "channel", "count")),
    Route("DELETE", "/faults"),
    Route("GET", "/faults/{fault_id}"),
    Route("DELETE", "/faults/{fault_id}"),
    Route("GET", "/pools/{pool_id}/keys"),
    Route("POST", "/pools/{pool_id}/keys/rotate", ("uses", "unpublish_old")),
    Route("POST", "/pools/{pool_id}/keys/{kid}/retire"),
    Route("POST", "/pools/{pool_id}/keys/{kid}/publish"),
    Route("POST", "/pools/{pool_id}/keys/{kid}/unpublish"),
    Route("GET", "/foreign-jwk", ("kid",)),
    Route("POST", "/pools/{pool_id}/mint", ("username", "token_use", "client_id", "claims", "header", "sign_with",
                                           "expires_in", "issued_at")),
    Route("POST", "/tokens/status", ("token",)),
    Route("GET", "/events", ("type", "since", "pool_id", "count_only", "username")),
    Route("GET", "/snapshot", ("secrets",)),
    Route("POST", "/restore", ("format", "format_version", "settings", "clock", "ids", "pools", "mailbox", "faults",
                               "events")),
    Route("GET", "/idps"),
    Route("POST", "/idps", ("name", "preset", "client_id", "client_secret")),
    Route("GET", "/idps/{name}"),
    Route("DELETE", "/idps/{name}"),
    Route("GET", "/idps/{name}/provider-details"),
    Route("POST", "/idps/{name}/users", ("sub", "claims", "password", "select", "replace")),
    Route("DELETE", "/idps/{name}/users/{sub}"),
    Route("POST", "/idps/{name}/select", ("sub",)),
    Route("POST", "/idps/{name}/rotate-keys", ("publish_new", "unpublish_old")),
    Route("POST", "/idps/{name}/unpublished-key", ("on",)),
    Route("POST", "/idps/{name}/client-secret", ("secret",)),
    Route("POST", "/idps/{name}/faults", ("endpoint", "kind", "status", "delay", "count", "error")),
    Route("DELETE", "/idps/{name}/faults"),
    Route("POST", "/idp-settings", ("client_timeout",)),
    Route("POST", "/pools/{pool_id}/triggers", ("trigger", "url")),
    Route("GET", "/triggers"),
    Route("GET", "/identity/credentials", ("identity_pool_id", "identity_id")),
    Route("GET", "/identity/credentials/ASIA0000000000000000"),
    Route("POST", "/identity/credentials/expire", ("access_key_id", "identity_pool_id")),
    Route("GET", "/coordinates", ("pool_id", "client")),
)

# Values a field may meet: right-looking, wrong types, out of range, unrepresentable.
EDGE_VALUES: tuple[Any, ...] = (
    None, True, False, 0, 1, -1, 7, 2**31, 2**63, 10**30, -(10**30), 10**400, 0.5, -0.0, 1e15, 1e300, -1e300,
    float("nan"), float("inf"), float("-inf"), "", "x", "0", "-5", "1e400", "NaN", "true", "é", "\ud800", "\x00",
    "a" * 5000, "2030-01-01T00:00:00Z", "9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00-14:00",
    "1970-01-01", "+275760-09-13", "2030-02-30", [], [1], ["id"], ["access", "id"], ["nope"], [None], {}, {"a": 1},
    {"exp": None}, {"kid": None}, {"alg": "none"}, {"sub": [1]}, [[[]]],
    # the names the routes know, so some requests get past the first check
    "freeze", "unfreeze", "advance", "set", "throttle", "internal_error", "delivery_failure", "SignUp", "EMAIL",
    "SMS", "access", "id", "pool", "none", "foreign", "hs256:", "hs256-public-key", "retired:nope", "local", "aws",
    "google", "apple", "oidc", "token", "userinfo", "jwks", "discovery", "timeout", "error", "PreSignUp",
    "http://127.0.0.1:1/hook", "SIGN_UP", "admin",
)

# Values that get a member past its first check, so the edge values of the others are reached.
FIELD_VALUES: dict[str, tuple[Any, ...]] = {
    "action": ("freeze", "unfreeze", "advance", "set"),
    "kind": ("throttle", "internal_error", "delivery_failure", "timeout", "error"),
    "operation": ("SignUp", "InitiateAuth"),
    "channel": ("EMAIL", "SMS"),
    "token_use": ("access", "id"),
    "sign_with": ("pool", "none", "foreign", "hs256:", "hs256-public-key", "retired:nope"),
    "issuer": ("local", "aws"),
    "preset": ("google", "apple", "oidc"),
    "endpoint": ("token", "userinfo", "jwks", "discovery"),
    "trigger": ("PreSignUp",),
    "username": ("admin",),
    "name": ("g2", "h"),
    "sub": ("s", "1001"),
    "uses": (["id"], ["access", "id"]),
    "format": ("cognito-harness/snapshot",),
    "format_version": (1,),
    "header": ({"alg": 5}, {"kid": [1]}, {"typ": None}, {"jku": "http://x"}, {"alg": "HS256"}, {"crit": {}}),
    "claims": ({"exp": "soon"}, {"iat": 1e300}, {"sub": None}, {"scope": [1, 2]}, {"aud": {"a": 1}}),
    "definition": ({"pool": {"name": 5}}, {"pool": {}, "users": [{"username": "u", "password": 5}]},
                   {"clients": {"c": {"generate_secret": "yes"}}}, {"pool": {"password_policy": {"minimum_length": -1}}},
                   {"users": "x"}, {"groups": [{"name": None}]}, {"tenants": {"names": [1]}}),
    "toml": ("[pool]\nname = 5", "[[users]]\nusername = 'u'", "x = [", "[clients.c]\nexplicit_auth_flows = 'x'"),
}

PATH_VALUES: tuple[str, ...] = ("x", "0", "-1", "99999999999999999999", "%00", "%ff", "%E9", "..", "%2F", "a" * 300)


class Targets:
    """Real names to put in paths (a pool, its key ids, a fake IdP, a fault) next to random ones."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        control = Control(emu.backend)
        self.pool_id = control.load_pool()["pool_id"]
        self.kids = [k["kid"] for k in control.keys(self.pool_id)]
        control.arm_fault("throttle", operation="SignUp")
        requests.post(emu.url + "/_harness/idps", json={"name": "g", "preset": "google"}, timeout=10)

    def fill(self, path: str, rnd: random.Random) -> str:
        real = {"{pool_id}": self.pool_id, "{kid}": quote(rnd.choice(self.kids) if self.kids else "k", safe=""),
                "{fault_id}": "1", "{name}": "g", "{sub}": "s"}
        for slot, value in real.items():
            if slot in path:
                path = path.replace(slot, value if rnd.random() < 0.6 else rnd.choice(PATH_VALUES))
        return path


def random_body(route: Route, rnd: random.Random) -> Any:
    """A body for ``route``: mostly an object of its members with edge values, sometimes anything."""
    roll = rnd.random()
    if roll < 0.05:
        return rnd.choice(EDGE_VALUES)
    if roll < 0.10:
        return {rnd.choice(("bogus", "", "é")): 1}
    names = list(route.members)
    picked = rnd.sample(names, rnd.randint(0, len(names))) if names else []
    return {name: rnd.choice(FIELD_VALUES[name]) if name in FIELD_VALUES and rnd.random() < 0.6
            else rnd.choice(EDGE_VALUES) for name in picked}


def encode_body(body: Any) -> bytes:
    return json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")


def send(emu: Emulator, session: requests.Session, method: str, path: str, body: Any) -> requests.Response:
    url = emu.url + "/_harness" + path
    if method == "GET" and isinstance(body, dict):
        query = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        return session.get(url, params={k: v.encode("utf-8", "surrogatepass") for k, v in query.items()},
                           timeout=30)
    data = b"" if method in ("GET", "DELETE") else encode_body(body)
    return session.request(method, url, data=data, headers={"Content-Type": "application/json"}, timeout=30)


def run(count: int, seed: int = 11) -> Counter[str]:
    """``count`` random control-plane requests; the 5xx answers counted by route."""
    rnd = random.Random(seed)
    failures: Counter[str] = Counter()
    with Emulator.start(seed=5) as emu:
        targets = Targets(emu)
        session = requests.Session()
        for _ in range(count):
            route = rnd.choice(ROUTES)
            if route.path == "/reset" and rnd.random() < 0.9:
                continue  # a reset forgets the targets: rarely
            answer = send(emu, session, route.method, targets.fill(route.path, rnd), random_body(route, rnd))
            if answer.status_code >= 500:
                failures[f"{route.method} {route.path}"] += 1
            if emu.backend.pools.get(targets.pool_id) is None:
                targets = Targets(emu)
    return failures


if __name__ == "__main__":
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 2500
    found = run(total, int(sys.argv[2]) if len(sys.argv) > 2 else 11)
    for where, n in found.most_common():
        print(f"{n:5d}  {where}")
    print(f"{sum(found.values())} of {total} requests answered 5xx")
