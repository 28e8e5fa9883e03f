"""``cognito-harness env``: the exports of a server that is already running.

``serve`` prints its exports once, at start, and then runs in the foreground, so
``eval "$(cognito-harness serve)"`` never returns. ``env`` asks the running server's
control plane (``GET /_harness/coordinates``, guarded by the control token from
``$COGNITO_HARNESS_CONTROL_TOKEN``) and prints the same ``export`` lines ``serve`` printed,
so ``eval "$(cognito-harness env)"`` works in any shell, at any time. The control token itself
is never printed (the caller already holds it). For an https server (``serve --tls``) the
server is verified with the machine CA, whose variables are printed too, as ``serve`` does.

Exit 0 with the exports on stdout; 2 with one line on stderr when no server answers, the token
is refused, or the pool or client named does not exist.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from harness.cli.serve import DEFAULT_PORT
from harness.control.checks import ControlError
from harness.control.client import RemoteControl
from harness.control.guard import TOKEN_ENV, token_from_env
from harness.coordinates import export_lines
from harness.web.machine_ca import CERT_FILE, MachineCA, MachineCAError, default_directory

EXIT_OK = 0
EXIT_USAGE = 2
RETRY_EVERY = 0.2  # seconds between attempts under --wait


class EnvError(Exception):
    """``env`` cannot print the exports (exit 2); the message says why and what to do."""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "env",
        help="print the shell exports of a running `cognito-harness serve` (eval \"$(cognito-harness env)\")",
        description="Ask a running cognito-harness server for its pool's coordinates and print them as the "
                    f"shell exports `serve` printed. The control token is read from ${TOKEN_ENV}.",
    )
    p.add_argument("--url", default=f"http://127.0.0.1:{DEFAULT_PORT}",
                   help=f"the server (default http://127.0.0.1:{DEFAULT_PORT}, serve's default)")
    p.add_argument("--pool-id", default=None, help="the pool (default: the first, the one serve loaded)")
    p.add_argument("--client", metavar="NAME|ID", default=None,
                   help="app client for COGNITO_CLIENT_ID/SECRET, by name or id (default: the first public one)")
    p.add_argument("--ca-dir", metavar="DIR", default=None,
                   help="https only: where the machine CA that `serve --tls` uses is kept (default: serve's)")
    p.add_argument("--wait", metavar="SECONDS", type=_seconds, default=0.0,
                   help="keep trying this long while nothing answers yet (a server still starting); default 0")
    p.set_defaults(run=run)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if not 0 <= value <= 600:
        raise argparse.ArgumentTypeError("expected a number of seconds from 0 to 600")
    return value


def _trust(url: str, ca_dir: str | None) -> tuple[Any, dict[str, str]]:
    """(requests' ``verify``, the CA variables to print) for ``url``."""
    if urlsplit(url).scheme != "https":
        return True, {}
    folder = Path(ca_dir) if ca_dir is not None else default_directory()
    if not (folder / CERT_FILE).is_file():  # never make a CA here: the server's certificate is not from a new one
        raise EnvError(f"{url} is https, and no machine CA is kept in {folder} (`serve --tls` makes it; "
                       "--ca-dir names another folder)")
    try:
        ca = MachineCA.load_or_create(folder)
    except MachineCAError as exc:
        raise EnvError(f"{url}: cannot read the machine CA: {exc}") from None
    return str(ca.bundle()), ca.client_env()


def _refusal(url: str, exc: ControlError) -> str:
    if exc.status == 401:
        held = "is not set" if token_from_env() is None else "is not the token the server runs with"
        return (f"{url} refused the control token: ${TOKEN_ENV} {held}. Set it to the token `serve` was started "
                f"with (its --control-token or ${TOKEN_ENV}; `--control-token generate` printed it).")
    if exc.status == 404 and exc.field == "request":
        return f"{url} has no /_harness/coordinates: is it a cognito-harness server (this version or newer)?"
    return f"{url}: {exc.message}"


def fetch_exports(url: str, pool_id: str | None = None, client: str | None = None, ca_dir: str | None = None,
                  wait: float = 0.0) -> list[tuple[str, str]]:
    """The (name, value) pairs the server at ``url`` hands over; raises EnvError."""
    url = url.rstrip("/")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise EnvError(f"--url {url!r}: expected http://HOST:PORT or https://HOST:PORT")
    verify, ca_env = _trust(url, ca_dir)
    session = requests.Session()
    session.verify = verify
    session.trust_env = False  # loopback: never through a proxy from the environment
    control = RemoteControl(url, session=session)
    deadline = time.monotonic() + wait
    while True:
        try:
            answer = control.coordinates(pool_id, client)
            break
        except requests.exceptions.SSLError as exc:
            raise EnvError(f"{url}: its certificate is not from the machine CA ({exc})") from None
        except requests.ConnectionError as exc:
            if time.monotonic() >= deadline:
                raise EnvError(f"no server answers at {url} ({type(exc).__name__}); start one with "
                               "`cognito-harness serve`" + (f" (waited {wait:g} s)" if wait else "")) from None
            time.sleep(RETRY_EVERY)
        except requests.RequestException as exc:
            raise EnvError(f"{url}: {type(exc).__name__}: {exc}") from None
        except ControlError as exc:
            raise EnvError(_refusal(url, exc)) from None
    exports = answer.get("exports") if isinstance(answer, dict) else None
    if not isinstance(exports, list) or not all(isinstance(p, list) and len(p) == 2 for p in exports):
        raise EnvError(f"{url}: the answer of /_harness/coordinates has no exports: not a cognito-harness server?")
    return [(str(name), str(value)) for name, value in exports] + list(ca_env.items())


def run(args: argparse.Namespace) -> int:
    try:
        pairs = fetch_exports(args.url, args.pool_id, args.client, args.ca_dir, args.wait)
    except EnvError as exc:
        print(f"cognito-harness env: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print("\n".join(export_lines(pairs)))
    return EXIT_OK
