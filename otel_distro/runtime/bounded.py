"""Caches kept in bounds: a dict or a set emptied when it reaches its limit.

Telemetry repeats itself (model names, routes, keys, a user's id): what a cache holds is asked
again soon, so emptying it when full costs a few recomputations and needs no bookkeeping. The
caches stay plain dicts and sets, so a lookup (the hot path) costs what a dict's does; only
adding goes through here.
"""

from __future__ import annotations

from collections.abc import Hashable, MutableMapping, MutableSet
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def bounded_put(cache: MutableMapping[K, V], key: K, value: V, limit: int) -> V:
    """Keep ``value`` under ``key``, emptying the cache first when it holds ``limit`` entries;
    returns ``value``."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value


def bounded_add(members: MutableSet[K], value: K, limit: int) -> None:
    """Add ``value``, emptying the set first when it holds ``limit`` members."""
    if len(members) >= limit:
        members.clear()
    members.add(value)
