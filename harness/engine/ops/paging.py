"""Opaque pagination tokens shared by the List* operations.

A token names the last item of the previous page (and its position, as a
fallback when that item has been deleted since), so pages stay correct while
items are added or removed between calls, as with Cognito's own tokens.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from harness.encoding import b64url, b64url_decode
from harness.errors import Err

T = TypeVar("T")


def encode_token(scope: str, key: str, index: int) -> str:
    raw = json.dumps({"s": scope, "k": key, "i": index}, separators=(",", ":")).encode()
    return b64url(raw)


def _decode_token(token: str, scope: str) -> tuple[str, int]:
    try:
        data = json.loads(b64url_decode(token).decode())
        if data["s"] != scope:
            raise ValueError("token of another listing")
        return str(data["k"]), int(data["i"])
    except (ValueError, KeyError, TypeError, RecursionError):  # a forged token may nest JSON deep
        raise Err.INVALID_PAGINATION.error() from None


def page(
    items: Sequence[T],
    key: Callable[[T], str],
    limit: int | None,
    token: str | None,
    *,
    scope: str,
    default_limit: int = 60,
) -> tuple[list[T], str | None]:
    """One page of ``items`` (already in their stable order) and the next token.

    ``scope`` ties a token to its listing (pool + operation), so a token from
    one listing is rejected by another. A limit of 0 or None means the default.
    """
    size = limit or default_limit
    start = 0
    if token:
        last_key, last_index = _decode_token(token, scope)
        keys = [key(item) for item in items]
        start = keys.index(last_key) + 1 if last_key in keys else min(last_index + 1, len(items))
    chunk = list(items[start : start + size])
    end = start + len(chunk)
    next_token = encode_token(scope, key(chunk[-1]), end - 1) if chunk and end < len(items) else None
    return chunk, next_token


def paged_answer(
    items: Sequence[T],
    key: Callable[[T], str],
    limit: int | None,
    token: str | None,
    *,
    scope: str,
    describe: Callable[[T], Any],
    items_member: str,
    token_member: str,
) -> dict[str, Any]:
    """A List* answer: one :func:`page` of ``items`` described under ``items_member``, and the next token
    under ``token_member`` when there is one."""
    chunk, next_token = page(items, key, limit, token, scope=scope)
    answer: dict[str, Any] = {items_member: [describe(item) for item in chunk]}
    if next_token:
        answer[token_member] = next_token
    return answer
