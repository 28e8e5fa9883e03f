"""What the browser tests share: Debian's Chromium under Playwright, a page server, the client bundles.

* :func:`browser` (a module-scoped fixture): headless Chromium (``/usr/bin/chromium``, or
  ``$COGNITO_HARNESS_CHROMIUM``) launched through Playwright for Python; the test skips, saying
  why, only where Playwright or Chromium cannot be had. :func:`relaunched` starts another one with
  more flags (:func:`trusting` makes it accept the certificates of one CA, and no other bad one).
* :class:`PageSite`: a static site on a free loopback port. It serves the pages the tests open
  (another origin than the emulator's, so the browser really applies CORS) and answers any
  other path (an app's callback) with a small page, so no test depends on a fixed port.
* :func:`client_bundles`: the browser clients of fixtures/browser/ (amazon-cognito-identity-js,
  Amplify v6) installed from the npm registry into the cache tests/libapps.py uses (pinned by
  the committed package-lock.json, never vendored), each page script bundled by esbuild.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.libapps import LibAppError, LibraryApp, install, run_step

CHROMIUM = os.environ.get("COGNITO_HARNESS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
CLIENTS = Path(__file__).resolve().parents[1] / "fixtures" / "browser"
PAGE_SCRIPTS = ("identity-js", "amplify")  # fixtures/browser/<name>.js -> one bundle each
APP_PAGE = b"<!doctype html><title>app</title><p id='done'>signed in</p>"


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium with ARGS; a skip with the reason where it cannot be launched."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed "
                                                                 "(pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set COGNITO_HARNESS_CHROMIUM)")
    with sync_api.sync_playwright() as pw:
        try:
            launched = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except Exception as exc:  # noqa: BLE001 - any launch failure means no browser on this machine
            pytest.skip(f"Chromium at {CHROMIUM} could not be launched: {exc}")
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium for one test module."""
    with chromium() as launched:
        yield launched


@contextlib.contextmanager
def relaunched(browser: Any, extra_args: Sequence[str]) -> Iterator[Any]:
    """Another Chromium with ARGS and ``extra_args``, from ``browser``'s Playwright (a thread runs one only)."""
    launched = browser.browser_type.launch(executable_path=CHROMIUM, args=[*ARGS, *extra_args])
    try:
        yield launched
    finally:
        launched.close()


def trusting(ca_pem: Path) -> list[str]:
    """The flag that makes Chromium accept a chain holding this CA's key, and no other bad chain.

    Chromium takes base64 SHA-256 hashes of SubjectPublicKeyInfo (it honours the flag with the
    user data directory Playwright always gives it); nothing like a blanket ignore of HTTPS errors.
    """
    spki = x509.load_pem_x509_certificate(ca_pem.read_bytes()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return [f"--ignore-certificate-errors-spki-list={base64.b64encode(hashlib.sha256(spki).digest()).decode()}"]


class PageSite:
    """A static site on ``host`` (loopback) and a free port: ``pages`` by path, APP_PAGE anywhere else.

    A real socket, not a Playwright route: Chromium applies its CORS and local-network rules to
    what a real origin loads, and a routed page would not be one. Every request's path is kept
    in ``hits`` (an app's callback with its query, for instance).
    """

    def __init__(self, pages: dict[str, bytes] | None = None, host: str = "127.0.0.1") -> None:
        served = dict(pages or {})
        hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                hits.append(self.path)
                path = self.path.split("?", 1)[0]
                body = served.get(path, APP_PAGE)
                kind = "text/javascript" if path.endswith(".js") else "text/html; charset=utf-8"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

        self.hits = hits
        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.origin = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "/") -> str:
        return self.origin + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> PageSite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- the browser clients, from the npm registry -------------------------------------------------------


CLIENTS_APP = LibraryApp("browser-clients", CLIENTS, "npm", spec_name="")  # an install only: no target spec


@dataclass(frozen=True)
class Bundles:
    """One bundled page script per client (PAGE_SCRIPTS), and the versions that went into them."""

    scripts: dict[str, bytes]
    installed: Path

    def page(self, name: str) -> bytes:
        """An HTML page that loads ``/<name>.js`` (the script defines ``window.harness``)."""
        return (f'<!doctype html><html><head><meta charset="utf-8"><title>{name}</title></head>'
                f'<body><p id="client">{name}</p><script src="/{name}.js"></script></body></html>').encode()

    def site_pages(self) -> dict[str, bytes]:
        pages = {f"/{name}.js": script for name, script in self.scripts.items()}
        pages.update({f"/{name}.html": self.page(name) for name in self.scripts})
        return pages


def client_bundles(work: Path) -> Bundles:
    """Install the pinned clients once (cached), then bundle each page script into ``work``.

    Bundles are cached beside the install too, keyed by the script's hash: esbuild runs again
    only when a page script or the lock file changes.
    """
    try:
        installed = install(CLIENTS_APP)
    except LibAppError as exc:
        pytest.skip(f"the browser clients cannot be installed from the npm registry: {exc}")
    esbuild = installed / "node_modules" / ".bin" / "esbuild"
    scripts: dict[str, bytes] = {}
    for name in PAGE_SCRIPTS:
        source = CLIENTS / f"{name}.js"
        digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
        bundle = installed / "bundles" / f"{name}-{digest}.js"
        if not bundle.is_file():
            bundle.parent.mkdir(exist_ok=True)
            staged = work / f"{name}.js"  # esbuild resolves packages from the entry's folder upwards
            shutil.copy2(source, staged)
            link = work / "node_modules"
            if not link.exists():
                link.symlink_to(installed / "node_modules", target_is_directory=True)
            partial = bundle.with_name(f".{bundle.name}.{os.getpid()}")
            run_step([str(esbuild), str(staged), "--bundle", "--format=iife", "--platform=browser", "--target=chrome110",
                  "--define:global=globalThis", "--log-level=warning", f"--outfile={partial}"], work,
                 f"bundling {source.name} with esbuild")
            partial.rename(bundle)  # complete bundles only
        scripts[name] = bundle.read_bytes()
    return Bundles(scripts, installed)
