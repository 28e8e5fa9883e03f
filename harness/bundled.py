"""Where the bundled fixtures (default pool, reference app and its specs) are.

In a checkout (the editable install the README uses) they are ``fixtures/``
at the repository root. A wheel install ships the same files under
``<prefix>/share/cognito-harness/fixtures`` (pyproject's data-files), so
``cognito-harness serve`` and ``cognito-harness run`` work without a checkout.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

_REPO_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixtures_dir() -> Path:
    """The first fixtures folder that exists: the checkout's, then the installed copy."""
    candidates = [
        _REPO_FIXTURES,
        Path(sysconfig.get_path("data")) / "share" / "cognito-harness" / "fixtures",
        Path(sys.prefix) / "share" / "cognito-harness" / "fixtures",
    ]
    for candidate in candidates:
        if (candidate / "pools").is_dir():
            return candidate
    return _REPO_FIXTURES


def fixture(*parts: str) -> Path:
    """A path inside the bundled fixtures, e.g. ``fixture("pools", "default.toml")``."""
    return fixtures_dir().joinpath(*parts)
