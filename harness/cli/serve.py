"""``cognito-harness serve``: the emulator as a long-running server.

Loads a pool definition, prints the coordinates an app needs as shell
exports (stdout, one ``export NAME=value`` per line; with ``--env-file F`` also
into F, see harness.cli.env_file), then serves until Ctrl-C or SIGTERM and
exits 0. Human notes go to stderr. ``cognito-harness env`` asks a running
server for the same exports.

The control plane (``/_harness``) can mint tokens and read keys and
passwords: on an address other than loopback ``serve`` refuses to start
without a control token (``--control-token``, ``$COGNITO_HARNESS_CONTROL_TOKEN``),
which every ``/_harness`` call must then carry (harness.control.guard).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.control.guard import (TOKEN_ENV, WILDCARD_HOSTS, TokenError, checked_token, generate_token, host_name,
                                   is_loopback_host, token_from_env)
from harness.cli import serve_state
from harness.cli.env_file import EnvFile, EnvFileError
from harness.control.pool_coordinates import pool_coordinates
from harness.coordinates import export_lines
from harness.engine import heap
from harness.engine.events import DEFAULT_MAX_EVENTS, check_max_events
from harness.engine.functions.lambda_api import check_endpoint
from harness.engine.persist import StateFileError
from harness.engine.store import Backend
from harness.fake_idps import IdPRegistry
from harness.pooldef import PoolDefinitionError, load_pool
from harness.server import Emulator
from harness.version import __version__
from harness.web.machine_ca import MachineCAError

DEFAULT_PORT = 9229
LAMBDA_ENDPOINT_ENV = "AWS_ENDPOINT_URL_LAMBDA"  # the AWS SDKs' own variable for a Lambda endpoint
GENERATE = "generate"  # --control-token generate: make a token and print it with the exports


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the Cognito User Pool emulator (cognito-idp API, JWKS, control plane)",
        description="Serve the emulator on HOST:PORT with the pool from --pool, print the coordinates as "
        "shell exports, and run until Ctrl-C or SIGTERM.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any free port)")
    p.add_argument("--pool", metavar="FILE", default=None,
                   help="pool definition TOML (default: fixtures/pools/default.toml)")
    p.add_argument("--seed", type=int, default=None, help="fix ids, codes, keys and generated users")
    p.add_argument("--issuer", choices=("local", "aws"), default=None,
                   help="token issuer form: local URL or https://cognito-idp.<region>.amazonaws.com/<pool>")
    p.add_argument("--frozen-clock", action="store_true", help="start with the virtual clock frozen at now")
    p.add_argument("--region", default="us-east-1", help="AWS region of the emulated pools (default us-east-1)")
    p.add_argument("--client", metavar="NAME", default=None,
                   help="app client whose id/secret go into COGNITO_CLIENT_ID/SECRET (default: the first public one)")
    p.add_argument("--env-file", metavar="FILE", default=None,
                   help="also write the exports to FILE (mode 0600) once the server listens, for "
                        "`serve --env-file F & ... . F`; removed at start and when serve stops")
    p.add_argument("--public-url", metavar="URL", default=None,
                   help="URL apps reach the emulator at (issuer, JWKS); default http://127.0.0.1:PORT "
                        "(https with --tls)")
    p.add_argument("--tls", action="store_true",
                   help="serve https only, with a certificate from this machine's loopback-only CA (made once, "
                        "kept in --ca-dir); its path is printed as COGNITO_HARNESS_CA_BUNDLE with the exports")
    p.add_argument("--ca-dir", metavar="DIR", default=None,
                   help="where the machine CA is kept (default: ~/.cache/cognito-harness/ca, moved by "
                        "$COGNITO_HARNESS_CACHE or $XDG_CACHE_HOME)")
    p.add_argument("--control-token", metavar="TOKEN|generate", default=None,
                   help=f"every /_harness call must carry this token (Authorization: Bearer TOKEN); 'generate' "
                        f"makes one and prints it as export {TOKEN_ENV}=...; default ${TOKEN_ENV}. Required "
                        "on a non-loopback --host. Prefer the env variable: a flag shows in the process list")
    p.add_argument("--allowed-host", metavar="NAME", action="append", default=[],
                   help="another Host name the control plane answers to (repeatable; the loopback names, "
                        "--host and --public-url's host always are)")
    p.add_argument("--max-events", metavar="N", type=_max_events, default=DEFAULT_MAX_EVENTS,
                   help=f"the event log keeps the newest N events (default {DEFAULT_MAX_EVENTS}; 0 keeps none); "
                        "GET /_harness/events says how many were dropped")
    p.add_argument("--state", metavar="DIR|FILE", default=None, help=serve_state.HELP)
    p.add_argument("--lambda-endpoint", metavar="URL", default=None,
                   help=f"a Lambda Invoke API on loopback (sam local start-lambda, LocalStack) that runs the "
                        f"LambdaConfig functions bound to nothing else; default ${LAMBDA_ENDPOINT_ENV}")
    p.set_defaults(run=run)


def _max_events(text: str) -> int:
    try:
        return check_max_events(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, not {text!r}") from None


class ServeRefused(Exception):
    """``serve`` will not start as asked (exit 2); the message never contains the token."""


@dataclass(frozen=True)
class ControlAccess:
    """The control token ``serve`` runs with, and whether it made it (then it is printed in the exports)."""

    token: str | None
    generated: bool = False

    @classmethod
    def choose(cls, host: str, flag: str | None, environ: Mapping[str, str]) -> ControlAccess:
        """The token from the flag (or 'generate'), else the environment; refuse a non-loopback host without one."""
        if flag == GENERATE:
            return cls(generate_token(), generated=True)
        token = flag if flag is not None else token_from_env(environ)
        if token is not None:
            try:
                return cls(checked_token(token))
            except TokenError as exc:
                source = "--control-token" if flag is not None else f"${TOKEN_ENV}"
                raise ServeRefused(f"{source}: {exc}") from None
        if not is_loopback_host(host):
            raise ServeRefused(
                f"--host {host or '(all interfaces)'} is not a loopback address, and the control plane "
                "(/_harness) mints tokens, rewrites state and reads private keys and passwords: serving it "
                f"beyond this machine needs a control token. Set {TOKEN_ENV}, or pass --control-token generate "
                "(the token is printed with the exports)."
            )
        return cls(None)


def served_exports(emu: Emulator, handle: Any, client_name: str | None, access: ControlAccess) -> list[tuple[str, str]]:
    """Every (name, value) ``serve`` hands over, on stdout and in ``--env-file`` alike: the pool's
    coordinates (built where ``cognito-harness env`` gets them), then what only this process knows."""
    client = handle.clients[client_name] if client_name else handle.client
    pairs = pool_coordinates(emu.backend, handle.pool_id, client.client_id).exports()
    if access.generated:  # the one place a token is ever printed: the caller asked for one to be made
        pairs.append((TOKEN_ENV, str(access.token)))
    if emu.ca is not None:  # the CA path, and the variables clients read it from (MachineCA.client_env says why)
        pairs.extend(emu.ca.client_env().items())
    return pairs


def _refused(message: str) -> int:
    """One line on stderr and exit 2: serve could not start as asked."""
    print(f"cognito-harness serve: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    try:
        access = ControlAccess.choose(args.host, args.control_token, os.environ)  # before binding anything
        for name in [*args.allowed_host, *([args.public_url] if args.public_url else [])]:
            host_name(name)
    except ServeRefused as exc:
        return _refused(str(exc))
    except ValueError as exc:
        return _refused(f"--allowed-host/--public-url: {exc}")
    try:
        env_file = EnvFile.prepare(args.env_file) if args.env_file else None
    except EnvFileError as exc:
        return _refused(str(exc))
    lambda_endpoint = args.lambda_endpoint or os.environ.get(LAMBDA_ENDPOINT_ENV) or None
    try:
        lambda_endpoint = check_endpoint(lambda_endpoint) if lambda_endpoint else None
    except ValueError as exc:
        source = "--lambda-endpoint" if args.lambda_endpoint else f"${LAMBDA_ENDPOINT_ENV}"
        return _refused(f"{source}: {exc}")
    heap.one_malloc_arena(os.environ)  # before any connection thread: freed memory goes back to the OS
    backend = Backend(seed=args.seed, region=args.region, external_idps=IdPRegistry, max_events=args.max_events)
    if args.frozen_clock:
        backend.clock.freeze()
    try:
        emu = Emulator(backend=backend, host=args.host, port=args.port, control_token=access.token,
                       allowed_hosts=args.allowed_host, lambda_endpoint=lambda_endpoint,
                       isolate_python=True,  # a python: trigger handler cannot crash or block the server
                       tls=args.tls, ca_dir=args.ca_dir, state=args.state)
    except StateFileError as exc:
        return _refused(f"--state: {exc}")
    except MachineCAError as exc:
        return _refused(f"--tls: {exc}")
    except OSError as exc:
        return _refused(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    public_url = args.public_url or (
        f"{'https' if args.tls else 'http'}://127.0.0.1:{emu.http.port}" if args.host in WILDCARD_HOSTS else emu.url
    )
    try:
        emu.set_public_url(public_url)  # under --tls: https on a loopback name, which the leaf then names
    except ValueError as exc:
        emu.stop()
        return _refused(f"--public-url: {exc}")
    try:
        state = emu.state
        if state is not None and state.loaded and backend.pools:  # serve a saved state as it is
            handle = serve_state.restored_handle(backend, state)
        else:
            handle = load_pool(backend, args.pool, issuer=args.issuer)
            if state is not None:
                serve_state.remember(state, handle)
        if args.client is not None and args.client not in handle.clients:
            raise PoolDefinitionError(handle.source, "clients",
                                      f"--client {args.client!r} is not defined (have: {', '.join(handle.clients)})")
    except (PoolDefinitionError, StateFileError) as exc:
        emu.stop()  # never started: releases the port
        return _refused(str(exc))

    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    emu.http.start()
    lines = export_lines(served_exports(emu, handle, args.client, access))
    print("\n".join(lines))
    sys.stdout.flush()
    users = ", ".join(f"{u.username}/{u.password}" for u in handle.users.values() if not u.generated)
    print(
        f"# cognito-harness {__version__} serving {emu.url} (pool {handle.pool_id} from {handle.source}, "
        f"seed {backend.seed}{', clock frozen' if args.frozen_clock else ''})\n"
        f"# users: {users}\n# control plane: {backend.settings.public_url}/_harness"
        f"{f' (needs Authorization: Bearer ${TOKEN_ENV})' if access.token else ''}  (Ctrl-C to stop)",
        file=sys.stderr,
    )
    if lambda_endpoint:
        print(f"# Lambda functions bound to nothing else: {lambda_endpoint}", file=sys.stderr)
    if emu.state is not None:
        print(serve_state.note(emu.state, args), file=sys.stderr)
    if emu.ca is not None:
        print(f"# TLS: certificate from the machine CA {emu.ca_path} (SHA-256 {emu.ca.fingerprint}), good for "
              "loopback names only; trust it once in a browser or the OS (README: serve --tls)", file=sys.stderr)
    sys.stderr.flush()
    try:
        if env_file is not None:  # last: a script waiting for the file finds a server that answers
            env_file.write(lines, f"cognito-harness serve (pid {os.getpid()}) at {backend.settings.public_url}; "
                                  "removed when it stops")
        while not stop.wait(0.5):
            pass
    except OSError as exc:  # only the env file's write can fail here
        return _refused(f"--env-file {args.env_file}: cannot write it ({exc.strerror or exc})")
    finally:
        emu.stop()
        if env_file is not None:
            env_file.remove()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("# cognito-harness: stopped", file=sys.stderr)
    return 0
