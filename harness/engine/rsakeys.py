"""Deterministic RSA key generation.

``cryptography`` cannot derive an RSA key from a seed, and the harness must be
reproducible per ``--seed`` (same kids, same tokens under a frozen clock). So
primes are drawn from a seeded stream and tested with Miller-Rabin; the key
object is then built by ``cryptography``. Results are memoised in the process
(a test suite that makes a fresh pool per test with the same seed pays for each
key once) and on disk, so a new process (a CLI run, a CI worker) does not pay
again: a seeded key is a public function of its seed, so keeping it in a file
under the user's cache folder gives nothing away. ``COGNITO_HARNESS_CACHE``
moves the folder; ``COGNITO_HARNESS_CACHE=off`` keeps keys in memory only.
"""

from __future__ import annotations

import functools
import hashlib
import os
import random
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.cachedir import cache_root

_SMALL_PRIMES = [p for p in range(3, 5000) if all(p % d for d in range(2, int(p**0.5) + 1))]
_E = 65537


def _is_probable_prime(n: int, rng: random.Random, rounds: int = 8) -> bool:
    if pow(2, n - 1, n) != 1:  # cheap Fermat filter before the full test
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        a = rng.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int, rng: random.Random) -> int:
    """Incremental search from a random odd start, sieving by small primes."""
    window = 4096
    while True:
        start = rng.getrandbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        composite = bytearray(window)  # composite[i] marks start + 2*i
        for sp in _SMALL_PRIMES:
            r = start % sp
            # first i with (start + 2i) % sp == 0
            i = ((sp - r) * pow(2, -1, sp)) % sp
            composite[i::sp] = b"\x01" * len(range(i, window, sp))
        for i in range(window):
            if composite[i]:
                continue
            candidate = start + 2 * i
            if candidate.bit_length() != bits:
                break
            if (candidate - 1) % _E and _is_probable_prime(candidate, rng):
                return candidate


def key_cache_dir() -> Path | None:
    """Where seeded keys are kept between processes, or None when the cache is off."""
    root = cache_root()
    return root / "seeded-keys" if root is not None else None


def _cached(path: Path) -> rsa.RSAPrivateKey | None:
    try:
        # written by _keep from a derived key: skip the slow consistency check of a key we made
        key = serialization.load_pem_private_key(path.read_bytes(), password=None,
                                                 unsafe_skip_rsa_key_validation=True)
    except (OSError, ValueError):  # absent, or unreadable: derive it again
        return None
    return key if isinstance(key, rsa.RSAPrivateKey) else None


def _keep(path: Path, key: rsa.RSAPrivateKey) -> None:
    """Write atomically (a concurrent reader never sees half a file); a read-only cache is no error."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        os.replace(tmp, path)
    except OSError:
        pass


@functools.lru_cache(maxsize=256)
def rsa_key_from_seed(material: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    """The RSA key determined by ``material`` (any string: seed + purpose + index)."""
    folder = key_cache_dir()
    path = folder / f"{hashlib.sha256(f'{bits}:{material}'.encode()).hexdigest()}.pem" if folder else None
    if path is not None and (key := _cached(path)) is not None:
        return key
    key = _derive(material, bits)
    if path is not None:
        _keep(path, key)
    return key


def _derive(material: str, bits: int) -> rsa.RSAPrivateKey:
    seed = int.from_bytes(hashlib.sha256(material.encode()).digest(), "big")
    rng = random.Random(seed)
    while True:
        p = _prime(bits // 2, rng)
        q = _prime(bits // 2, rng)
        if p != q and (p * q).bit_length() == bits:
            break
    if p < q:
        p, q = q, p
    n = p * q
    phi = (p - 1) * (q - 1)
    d = pow(_E, -1, phi)
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=d % (p - 1),
        dmq1=d % (q - 1),
        iqmp=pow(q, -1, p),
        public_numbers=rsa.RSAPublicNumbers(e=_E, n=n),
    )
    return numbers.private_key()
