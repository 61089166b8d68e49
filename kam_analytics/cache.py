"""Results of metrics functions memoised per data version, so a widget click repeats no query.

`db.data_version(con)` changes whenever an import, an undo or an audited edit changes data, so
a cached result can never outlive the data it was computed from. Usage (in a page or module):

    from kam_analytics.cache import memoised
    detail = memoised(rt.compute_retention)(con, year=2026, as_of=today, scope=scope)

Arguments must be hashable after normalising (lists/sets become tuples, dicts sorted items);
a call with an unhashable argument (e.g. a DataFrame) is simply not cached. DataFrames are
handed out as copies, so a caller that changes its result cannot change the cache.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps

from kam_analytics import db

MAX_ENTRIES = 256

_lock = threading.Lock()
_store: OrderedDict[tuple, object] = OrderedDict()
_wrappers: dict[Callable, Callable] = {}


def _freeze(value):
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, set | frozenset):
        return tuple(sorted((_freeze(v) for v in value), key=repr))
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    hash(value)  # raises TypeError for anything else that cannot be a key
    return value


_IMMUTABLE = (str, int, float, bool, bytes, type(None))


def _copy(value):
    """A copy the caller may change: containers are rebuilt, immutable leaves shared."""
    if isinstance(value, _IMMUTABLE):
        return value
    if hasattr(value, "copy") and hasattr(value, "columns"):  # a DataFrame
        return value.copy()
    if isinstance(value, tuple | list) and _hashable(value):
        # values all the way down (the account options: 50,000 tuples at 10x): shared, in C
        return value if isinstance(value, tuple) else list(value)
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return copy.deepcopy(value)


def _hashable(items) -> bool:
    """Whether every item is hashable, i.e. str, number, date or a tuple of them here."""
    try:
        hash(tuple(items))
    except TypeError:
        return False
    return True


def call_cached(fn: Callable, con, *args, **kwargs):
    """`fn(con, *args, **kwargs)`, reused while the data version and arguments are the same."""
    try:
        key = (
            f"{fn.__module__}.{fn.__qualname__}",
            db.data_version(con),
            _freeze(args),
            _freeze(kwargs),
        )
    except TypeError:
        return fn(con, *args, **kwargs)
    with _lock:
        if key in _store:
            _store.move_to_end(key)
            return _copy(_store[key])
    result = fn(con, *args, **kwargs)
    with _lock:
        _store[key] = result
        while len(_store) > MAX_ENTRIES:
            _store.popitem(last=False)
    return _copy(result)


def memoised(fn: Callable) -> Callable:
    """`fn` (whose first argument is the connection) memoised per data version and arguments."""
    wrapper = _wrappers.get(fn)
    if wrapper is None:

        @wraps(fn)
        def wrapper(con, *args, **kwargs):
            return call_cached(fn, con, *args, **kwargs)

        _wrappers[fn] = wrapper
    return wrapper


def clear() -> None:
    """Forget every cached result (tests; after writing outside the import/audit paths)."""
    with _lock:
        _store.clear()


def size() -> int:
    """Number of cached results."""
    return len(_store)
