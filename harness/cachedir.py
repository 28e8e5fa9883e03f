"""The one folder where cognito-harness keeps things between processes.

``~/.cache/cognito-harness`` by default; ``$XDG_CACHE_HOME`` moves the
``~/.cache`` part and ``$COGNITO_HARNESS_CACHE`` names the folder itself.
``COGNITO_HARNESS_CACHE=off`` means "keep nothing on disk": :func:`cache_root`
then answers None and each user decides what that means for it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CACHE_ENV = "COGNITO_HARNESS_CACHE"
OFF = "off"


def cache_root(environ: Mapping[str, str] | None = None) -> Path | None:
    """The cache folder (not created here), or None when the cache is turned off."""
    env = os.environ if environ is None else environ
    explicit = env.get(CACHE_ENV, "")
    if explicit.lower() == OFF:
        return None
    if explicit:
        return Path(explicit)
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cognito-harness"


__all__ = ["CACHE_ENV", "cache_root"]
