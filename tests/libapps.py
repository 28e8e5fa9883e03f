"""Install and stage the library apps of fixtures/targets/libs/ from the package registries.

Each app folder holds a small resource server written as a library's quick-start shows, its
pinned dependencies (``package.json`` + ``package-lock.json`` for npm, ``requirements.txt`` for
PyPI) and one target spec. Dependencies are never vendored: they are installed at test time
from the registries (``npm ci`` / ``pip install`` into a fresh venv) into
``~/.cache/cognito-harness/libapps/<app>-<hash of the manifests>`` (``$COGNITO_HARNESS_CACHE``
or ``$XDG_CACHE_HOME`` move it), once per manifest version; an install is renamed into place
only when complete, so a crash never leaves a half-installed cache behind.

A run needs the app's files next to its dependencies (Node resolves packages from the script's
folder), so :func:`stage` copies the app folder into a work directory and links the installed
``node_modules`` or ``venv`` into it; the staged spec's ``{spec_dir}`` then finds both.

By hand: ``python -m tests.libapps jose`` installs, stages into a temp dir and prints the spec
to pass to ``cognito-harness run --target``.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.cachedir import cache_root as harness_cache_root
from harness.runner.engine import RunOptions, run
from harness.runner.spec import load_spec

LIBS = Path(__file__).resolve().parents[1] / "fixtures" / "targets" / "libs"
NPM_MANIFESTS = ("package.json", "package-lock.json")
PIP_MANIFESTS = ("requirements.txt",)
INSTALLED_DIRS = {"npm": "node_modules", "pip": "venv"}
INSTALL_TIMEOUT_S = 600
OUTPUT_TAIL_CHARS = 3000


SEED = 9  # the seed of the correct apps' baseline runs
WORKERS = 3  # the runs mostly wait (JWKS cooldowns re-probed in real time); a 4th process buys little on 2 CPUs
# aws-jwt-verify-cognito is the README quick-start itself (CognitoJwtVerifier): AWS endpoint mode
APPS = ("aws-jwt-verify", "aws-jwt-verify-cognito", "jose", "pyjwt")
SHAPED_APPS = ("aws-jwt-verify",)  # also run in every pool shape (POOL_SHAPES): the fastest of them


class LibAppError(RuntimeError):
    """A library app cannot be installed or staged; the message says why and what to do."""


@dataclass(frozen=True)
class LibraryApp:
    """One folder of fixtures/targets/libs/: its files, its registry and its spec."""

    name: str
    folder: Path
    registry: str  # "npm" | "pip"
    spec_name: str  # the .toml file in the folder

    @classmethod
    def from_folder(cls, folder: Path) -> LibraryApp:
        if (folder / "package.json").is_file():
            registry = "npm"
            missing = [m for m in NPM_MANIFESTS if not (folder / m).is_file()]
        elif (folder / "requirements.txt").is_file():
            registry, missing = "pip", []
        else:
            raise LibAppError(f"{folder}: no package.json nor requirements.txt: which registry does this app use?")
        if missing:
            raise LibAppError(f"{folder}: missing {', '.join(missing)} (pin versions with a committed lock file)")
        specs = sorted(p.name for p in folder.glob("*.toml"))
        if len(specs) != 1:
            raise LibAppError(f"{folder}: expected exactly one target spec (*.toml), found {specs or 'none'}")
        return cls(folder.name, folder, registry, specs[0])

    @property
    def manifests(self) -> tuple[str, ...]:
        return NPM_MANIFESTS if self.registry == "npm" else PIP_MANIFESTS

    def manifest_hash(self) -> str:
        """Covers the pinned manifests and, for a venv, the interpreter it is built on."""
        digest = hashlib.sha256()
        for name in self.manifests:
            digest.update(name.encode() + b"\0" + (self.folder / name).read_bytes() + b"\0")
        if self.registry == "pip":
            digest.update(f"{sys.executable}\0{sys.version}".encode())
        return digest.hexdigest()[:16]


def library_app(name: str) -> LibraryApp:
    folder = LIBS / name
    if not folder.is_dir():
        known = sorted(p.name for p in LIBS.iterdir() if p.is_dir())
        raise LibAppError(f"no library app {name!r} in {LIBS} (known: {', '.join(known)})")
    return LibraryApp.from_folder(folder)


def cache_root() -> Path:
    """Where installs live: ``libapps`` in the harness's cache folder (harness.cachedir), or, with the
    cache turned off (COGNITO_HARNESS_CACHE=off), a folder of this process in the temp directory."""
    root = harness_cache_root()
    if root is None:
        return Path(tempfile.gettempdir()) / f"cognito-harness-libapps-{os.getpid()}"
    return root / "libapps"


def _require_tool(tool: str, app: LibraryApp) -> str:
    found = shutil.which(tool)
    if not found:
        raise LibAppError(f"{tool!r} is not on PATH: library app {app.name!r} needs it to install its pinned "
                          f"dependencies and run. Install Node.js 18+ with npm (CI installs it).")
    return found


def _require_node(app: LibraryApp) -> None:
    """node on PATH, at least the version the app's package.json ``engines.node`` (">=N[.M]") asks for."""
    node = _require_tool("node", app)
    wanted = json.loads((app.folder / "package.json").read_text()).get("engines", {}).get("node", "")
    floor = re.fullmatch(r">=\s*(\d+)(?:\.(\d+))?(?:\.\d+)?", wanted.strip())
    if not floor:
        return
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    found = re.match(r"v(\d+)\.(\d+)", version)
    need = (int(floor.group(1)), int(floor.group(2) or 0))
    if not found or (int(found.group(1)), int(found.group(2))) < need:
        raise LibAppError(f"library app {app.name!r} needs Node.js {wanted} (package.json engines), "
                          f"but {node} is {version or 'of unknown version'}")


def run_step(command: list[str], cwd: Path, what: str, env: dict[str, str] | None = None) -> None:
    """Run one install or build step; a LibAppError with the output's tail when it fails or hangs."""
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise LibAppError(f"{what}: {' '.join(command)} did not finish in {INSTALL_TIMEOUT_S}s "
                          f"(is the package registry reachable?)") from None
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-OUTPUT_TAIL_CHARS:]
        raise LibAppError(f"{what}: {' '.join(command)} exited {done.returncode} (registry unreachable, "
                          f"or a pinned version withdrawn?):\n{output}")


def _install_npm(app: LibraryApp, into: Path) -> None:
    npm = _require_tool("npm", app)
    run_step([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--omit=dev"], into,
         f"installing {app.name} from the npm registry")


def _install_pip(app: LibraryApp, into: Path) -> None:
    venv = into / INSTALLED_DIRS["pip"]
    run_step([sys.executable, "-m", "venv", str(venv)], into, f"creating a venv for {app.name}")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    run_step([str(venv / "bin" / "python"), "-m", "pip", "install", "--only-binary", ":all:", "-r",
          str(into / "requirements.txt")], into, f"installing {app.name} from PyPI", env=env)


def install(app: LibraryApp) -> Path:
    """The cache folder holding the app's installed dependencies; installs them on first use."""
    if app.registry == "npm":  # a missing or too old node must fail even when the cache is already there
        _require_node(app)
    final = cache_root() / f"{app.name}-{app.manifest_hash()}"
    if (final / INSTALLED_DIRS[app.registry]).is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{app.name}-", dir=final.parent))
    try:
        for name in app.manifests:
            shutil.copy2(app.folder / name, work / name)
        (_install_npm if app.registry == "npm" else _install_pip)(app, work)
        try:
            work.rename(final)
        except OSError:  # another process finished the same install first
            if not (final / INSTALLED_DIRS[app.registry]).is_dir():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def stage(app: LibraryApp, installed: Path, workdir: Path) -> Path:
    """Copy the app's files into ``workdir``, link its installed dependencies; the spec's path."""
    workdir.mkdir(parents=True, exist_ok=True)
    linked = INSTALLED_DIRS[app.registry]
    for item in app.folder.iterdir():
        if item.name == linked or item.name.startswith("."):
            continue  # a hand install's node_modules/venv in the source folder is never copied
        if item.is_file():
            shutil.copy2(item, workdir / item.name)
    (workdir / linked).symlink_to(installed / linked, target_is_directory=True)
    return workdir / app.spec_name


def prepared_spec(name: str, workdir: Path) -> Path:
    """Install (or reuse) and stage one app: the path of a spec ready for the runner."""
    app = library_app(name)
    return stage(app, install(app), workdir)


# the pool the shaped runs start from (the reference app's: no seed users whose usernames would not fit the
# shape), and the shapes: inline [pool] keys over it
SHAPE_BASE_POOL = LIBS.parents[1] / "pools" / "reference_app.toml"
POOL_SHAPES: dict[str, str] = {
    "email_username": 'alias_attributes = []\nusername_attributes = ["email"]',
    "phone_username": 'alias_attributes = []\nusername_attributes = ["phone_number"]',
    "aliases": 'alias_attributes = ["email", "phone_number", "preferred_username"]',
}


def prepared_spec_in_shape(name: str, shape: str, workdir: Path) -> Path:
    """Stage one app and write a spec beside its own that runs it in a pool of ``shape`` (POOL_SHAPES)."""
    base = prepared_spec(name, workdir)
    spec = base.with_name(f"{base.stem}-{shape}.toml")
    spec.write_text(f'extends = "{base.name}"\n\n[target]\nname = "libapp-{name} (pool: {shape})"\n\n'
                    f'[pool]\ndefinition = "{SHAPE_BASE_POOL}"\n{POOL_SHAPES[shape]}\n')
    return spec


@dataclass(frozen=True)
class CheckRow:
    """One check's outcome, small and picklable (runs happen in worker processes)."""

    check_id: str
    verdict: str
    severity: str
    reason: str


@dataclass(frozen=True)
class AppRun:
    """A baseline catalogue run against one staged library app."""

    app: str
    seconds: float
    rows: tuple[CheckRow, ...]
    target_log: str

    def with_verdict(self, verdict: str, severity: str | None = None) -> list[CheckRow]:
        return [r for r in self.rows if r.verdict == verdict and severity in (None, r.severity)]

    def verdict_of(self, check_id: str) -> str:
        return next((r.verdict for r in self.rows if r.check_id == check_id), "NOT RUN")


def run_catalogue(app: str, spec_path: str, seed: int, profile: str = "baseline") -> AppRun:
    """Run the whole catalogue of ``profile`` against a staged app's spec."""
    started = time.monotonic()
    result = run(load_spec(spec_path), RunOptions(seed=seed, profile=profile))
    rows = tuple(CheckRow(r.check_id, r.verdict.value, r.severity, r.reason) for r in result.results)
    log = "\n".join(f"[{e.title}] {line}" for e in result.target_logs for line in e.data.get("lines", []))
    return AppRun(app, round(time.monotonic() - started, 1), rows, log[-OUTPUT_TAIL_CHARS:])


class BackgroundRuns:
    """Baseline runs of several library apps in worker processes, started now, collected later.

    The runs mostly wait (JWKS cooldowns are re-probed in real time), so the test session starts
    them as soon as it has collected and checks their verdicts last: the waiting overlaps the rest
    of the suite. An install failure is kept and raised by :meth:`results`, never lost.
    """

    def __init__(self, apps: tuple[str, ...], workdir: Path | None, seed: int, workers: int,
                 shaped: tuple[str, ...] = ()) -> None:
        """``workdir`` None: stage the apps in a temporary folder that :meth:`close` removes."""
        self._scratch = tempfile.TemporaryDirectory(prefix="libapps-") if workdir is None else None
        workdir = Path(self._scratch.name) if self._scratch is not None else workdir
        assert workdir is not None
        self.started = time.monotonic()
        self.error: LibAppError | None = None
        self.futures: dict[str, Future[AppRun]] = {}
        try:
            specs = {app: str(prepared_spec(app, workdir / app)) for app in apps}
            for app in shaped:  # the same app in every pool shape: "app@shape"
                for shape in POOL_SHAPES:
                    specs[f"{app}@{shape}"] = str(prepared_spec_in_shape(app, shape, workdir / f"{app}@{shape}"))
        except LibAppError as exc:
            self.error = exc
            self.pool = None
            return
        context = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        self.futures = {app: self.pool.submit(run_catalogue, app, spec, seed) for app, spec in specs.items()}

    def results(self) -> dict[str, AppRun]:
        """Wait for every run (raises the install error, if any)."""
        if self.error is not None:
            raise self.error
        try:
            return {app: future.result() for app, future in self.futures.items()}
        finally:
            self.close()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None


LIBRARY_RUNS = pytest.StashKey["BackgroundRuns"]()  # the session's background runs (tests/conftest.py)


def start_correct_app_runs(workdir: Path | None = None) -> BackgroundRuns:
    """The baseline runs of every correct library app (APPS), started in the background."""
    return BackgroundRuns(APPS, workdir, SEED, WORKERS, shaped=SHAPED_APPS)


def all_apps() -> list[str]:
    return sorted(p.name for p in LIBS.iterdir() if p.is_dir())


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"usage: python -m tests.libapps APP   (one of: {', '.join(all_apps())})", file=sys.stderr)
        return 2
    try:
        spec = prepared_spec(argv[0], Path(tempfile.mkdtemp(prefix=f"libapp-{argv[0]}-")))
    except LibAppError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(spec)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
