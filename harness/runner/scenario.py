"""The scenario model: small declarative checks registered in one catalogue.

A scenario is a function taking a :class:`~harness.runner.context.ScenarioContext`,
decorated with its metadata::

    @scenario(id="TV-ACCESS-VALID", family="token-validation", title="A valid access token is accepted",
              severity="MUST", profile="baseline", requirements=["RFC 8725 §3.1"],
              remediation="...", needs=["protected"])
    def valid_access_token(ctx):
        ...

The function acts on the pool, the clock, the mailbox and the target through
the context, and signals its outcome by returning (PASS) or raising
:class:`Failure` (FAIL), :class:`Skip` (SKIP) or anything else (ERROR).
The catalogue is filled by importing every module that the installed
distributions declare in the entry-point group ``cognito_harness.scenarios``
(see docs/writing-a-check.md); cognito-harness declares its bundled families
(the ``scenarios`` package) there too. An entry point that fails to load fails
the run, naming it: a family is never dropped without a word.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, Callable

from harness.runner.spec_model import REQUEST_NAMES

if TYPE_CHECKING:  # pragma: no cover
    from harness.runner.context import ScenarioContext

SEVERITIES = ("MUST", "SHOULD")
PROFILES = ("baseline", "strict")
_ID_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")

ENTRY_POINT_GROUP = "cognito_harness.scenarios"
"""Entry points in this group name a module (or package) whose import registers checks."""
BUNDLED_ENTRY_POINT = "bundled"
"""cognito-harness's own entry point: the ``scenarios`` package, which imports every bundled family."""


class CatalogueError(RuntimeError):
    """A scenario family could not be loaded (its entry point names a module that fails to import)."""


class Failure(AssertionError):
    """The target did not do what the check requires: the verdict is FAIL."""

    def __init__(self, message: str, expected: str = "", actual: str = "") -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class Skip(Exception):
    """The check cannot apply to this target or backend: the verdict is SKIP, with the reason."""


def control_plane_skip(what: str, backend: str) -> str:
    """The one wording of "skipped: the backend has no control plane", so the summary groups these by ``what``."""
    return f"needs the control plane: {what or 'clock, minting, events'} (backend {backend} has none)"


ScenarioFn = Callable[["ScenarioContext"], Any]


@dataclass(frozen=True)
class Scenario:
    """One check: metadata plus the function that runs it."""

    id: str
    family: str
    title: str
    severity: str
    profile: str
    requirements: tuple[str, ...]
    remediation: str
    fn: ScenarioFn
    needs: tuple[str, ...] = ()
    control_plane: bool = True  # needs the emulator's control plane (clock, mint, events...)
    control_plane_for: str = ""  # what of it (the reason a backend without one skips it): "virtual clock"...
    cold_app: bool = False  # restart the target before running
    aliases: tuple[str, ...] = ()
    description: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    def run(self, ctx: ScenarioContext) -> Any:
        return self.fn(ctx)

    def text(self) -> str:
        """What ``-k`` matches against: id, title, aliases and tags (``--family`` selects families)."""
        return " ".join([self.id, self.title, *self.aliases, *self.tags]).lower()


# The catalogue: id -> Scenario, filled at import of the scenario modules.
CATALOGUE: dict[str, Scenario] = {}


def scenario(
    *,
    id: str,  # noqa: A002 - the natural name
    family: str,
    title: str,
    severity: str = "MUST",
    profile: str = "baseline",
    requirements: list[str] | tuple[str, ...] = (),
    remediation: str,
    needs: list[str] | tuple[str, ...] = (),
    control_plane: bool | str = True,
    cold_app: bool = False,
    aliases: list[str] | tuple[str, ...] = (),
    tags: list[str] | tuple[str, ...] = (),
) -> Callable[[ScenarioFn], ScenarioFn]:
    """Register a scenario function in the catalogue (IDs must be unique and stable).

    ``control_plane``: False for a check that runs on any cognito-idp backend; True, or better what it
    needs of the emulator's control plane (``"virtual clock"``, ``"mailbox"``...), which is the reason
    it is skipped on a backend without one (``run --backend URL``).
    """
    if not _ID_RE.match(id):
        raise ValueError(f"scenario id {id!r} must look like FAMILY-NAME (upper case, dashes)")
    if severity not in SEVERITIES:
        raise ValueError(f"scenario {id}: severity must be one of {SEVERITIES}")
    if profile not in PROFILES:
        raise ValueError(f"scenario {id}: profile must be one of {PROFILES}")
    if not remediation.strip():
        raise ValueError(f"scenario {id}: a remediation line is required")

    def register(fn: ScenarioFn) -> ScenarioFn:
        existing = CATALOGUE.get(id)
        if existing is not None and (existing.fn.__module__, existing.fn.__qualname__) != (fn.__module__, fn.__qualname__):
            raise RuntimeError(f"scenario id {id} registered twice ({existing.fn.__module__}, {fn.__module__})")
        unknown = [n for n in needs if n not in REQUEST_NAMES]
        if unknown:
            raise ValueError(f"scenario {id}: needs unknown request {unknown[0]!r}")
        CATALOGUE[id] = Scenario(
            id=id, family=family, title=title, severity=severity, profile=profile,
            requirements=tuple(requirements), remediation=remediation.strip(), fn=fn, needs=tuple(needs),
            control_plane=bool(control_plane),
            control_plane_for=control_plane if isinstance(control_plane, str) else "",
            cold_app=cold_app, aliases=tuple(aliases),
            description=(fn.__doc__ or "").strip(), tags=tuple(tags),
        )
        return fn

    return register


def scenario_entry_points() -> list[EntryPoint]:
    """The ``cognito_harness.scenarios`` entry points of every installed distribution, bundled first."""
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name != BUNDLED_ENTRY_POINT, ep.name))
    if not any(ep.name == BUNDLED_ENTRY_POINT for ep in found):
        raise CatalogueError(f"no {BUNDLED_ENTRY_POINT!r} entry point in group {ENTRY_POINT_GROUP}: cognito-harness "
                             "is not installed (pip install -e . in a checkout), so its bundled checks cannot be found")
    return found


def load_catalogue() -> dict[str, Scenario]:
    """Load every scenario family (idempotent: a module registers once) and return the catalogue."""
    for ep in scenario_entry_points():
        try:
            ep.load()
        except Exception as exc:
            raise CatalogueError(f"scenario entry point {ep.name} = {ep.value} (group {ENTRY_POINT_GROUP}) "
                                 f"could not be loaded: {type(exc).__name__}: {exc}") from exc
    return CATALOGUE


# --- selection ----------------------------------------------------------------------------------


class SelectionError(ValueError):
    """A bad -k expression or an unknown family (bad usage: exit 2)."""


_TOKEN_RE = re.compile(r"\s*(\(|\)|\bnot\b|\band\b|\bor\b|[^\s()]+)", re.I)


def keyword_matcher(expr: str) -> Callable[[Scenario], bool]:
    """pytest-style ``-k``: case-insensitive substrings (or globs) joined by and/or/not and parentheses."""
    tokens = [t for t in _TOKEN_RE.findall(expr) if t.strip()]
    pos = 0

    def peek() -> str | None:
        return tokens[pos].lower() if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def parse_or() -> Callable[[str], bool]:
        left = parse_and()
        while peek() == "or":
            take()
            right = parse_and()
            left = (lambda a, b: lambda t: a(t) or b(t))(left, right)
        return left

    def parse_and() -> Callable[[str], bool]:
        left = parse_not()
        while peek() == "and":
            take()
            right = parse_not()
            left = (lambda a, b: lambda t: a(t) and b(t))(left, right)
        return left

    def parse_not() -> Callable[[str], bool]:
        if peek() == "not":
            take()
            inner = parse_not()
            return lambda t: not inner(t)
        return parse_atom()

    def parse_atom() -> Callable[[str], bool]:
        tok = peek()
        if tok is None:
            raise SelectionError(f"-k {expr!r}: expression ends too early")
        if tok == "(":
            take()
            inner = parse_or()
            if peek() != ")":
                raise SelectionError(f"-k {expr!r}: missing ')'")
            take()
            return inner
        if tok in (")", "and", "or"):
            raise SelectionError(f"-k {expr!r}: unexpected {tok!r}")
        word = take().lower()
        if any(c in word for c in "*?["):
            return lambda t: any(fnmatch.fnmatchcase(part, word) for part in t.split())
        return lambda t: word in t

    if not tokens:
        return lambda s: True
    matcher = parse_or()
    if pos != len(tokens):
        raise SelectionError(f"-k {expr!r}: unexpected {tokens[pos]!r}")
    return lambda s: matcher(s.text())


def select(
    catalogue: dict[str, Scenario],
    *,
    profile: str = "baseline",
    keyword: str | None = None,
    families: list[str] | None = None,
    ids: list[str] | None = None,
) -> list[Scenario]:
    """The scenarios a run executes, in catalogue order.

    ``strict`` includes the baseline checks; a ``keyword`` that is exactly a
    check id selects that check alone (whatever its profile); ``ids`` (from a
    transcript) pins an exact selection.
    """
    if profile not in PROFILES:
        raise SelectionError(f"--profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    known_families = {s.family for s in catalogue.values()}
    for fam in families or []:
        if fam not in known_families:
            raise SelectionError(f"--family {fam!r}: no such family (known: {', '.join(sorted(known_families))})")
    if ids is not None:
        missing = [i for i in ids if i not in catalogue]
        if missing:
            raise SelectionError(f"unknown check id {missing[0]!r}")
        return [catalogue[i] for i in ids]
    if keyword and keyword.strip().upper() in catalogue:
        return [catalogue[keyword.strip().upper()]]  # an exact check id (the reproduction one-liner)
    allowed_profiles = {"baseline"} if profile == "baseline" else {"baseline", "strict"}
    match = keyword_matcher(keyword) if keyword else (lambda s: True)
    return [
        s for s in catalogue.values()
        if s.profile in allowed_profiles and (not families or s.family in families) and match(s)
    ]


__all__ = ["CATALOGUE", "ENTRY_POINT_GROUP", "CatalogueError", "Failure", "Scenario", "SelectionError", "Skip",
           "control_plane_skip", "keyword_matcher", "load_catalogue",
           "scenario", "select"]
