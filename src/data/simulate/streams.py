"""Per-block random streams and stable integer hashing, independent of chunk size and workers."""

from __future__ import annotations

import numpy as np

# One child stream per generator stage: adding a stage never shifts another stage's draws.
STAGES: tuple[str, ...] = (
    "population",
    "calls",
    "sms",
    "data_sessions",
    "web_visits",
    "sp_orders",
    "channel_contacts",
    "bills",
    "labels",
    "mess",
    "ceiling",
)


def block_streams(seed: int, block: int) -> dict[str, np.random.Generator]:
    """Independent generators for every stage of one user block, derived from (seed, block)."""
    children = np.random.SeedSequence(entropy=seed, spawn_key=(block,)).spawn(len(STAGES))
    return {name: np.random.default_rng(child) for name, child in zip(STAGES, children, strict=True)}


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a fixed, fast bijective hash of uint64 values."""
    z = x.astype(np.uint64) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def hash_pair(a: np.ndarray, b: np.ndarray, salt: int) -> np.ndarray:
    """Stable uint64 hash of (a, b, salt)."""
    x = splitmix64(np.asarray(a, dtype=np.uint64) * np.uint64(1_000_003) + np.uint64(salt))
    return splitmix64(x ^ np.asarray(b, dtype=np.uint64))


def hash_unit(a: np.ndarray, b: np.ndarray, salt: int) -> np.ndarray:
    """Stable uniform in [0, 1) from (a, b, salt)."""
    return (hash_pair(a, b, salt) >> np.uint64(11)).astype(np.float64) / float(1 << 53)
