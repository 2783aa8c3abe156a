# _native.py — checked calls into the library that need no handle: status -> exception, version, keep_count.
"""Handle-free helpers shared by :mod:`fastdrive_pruner.pruner`: turning a status into its exception
(with ``fastdrive_pruner_last_error``), the library's version and path, and ``keep_count``."""
from __future__ import annotations

import ctypes
import numbers
from typing import Any, Optional, Union

from . import _lib
from ._arrays import check_ratio
from ._lib import Policy, Status
from .errors import InvalidArgumentError, error_for_status

__all__ = ["raise_for", "library_version", "library_path", "keep_count", "parse_policy"]

_INT64_MAX = 2**63 - 1


def _text(ptr: Optional[bytes]) -> str:
    """C text (never NULL by contract, but be safe) as str."""
    return ptr.decode("utf-8", "replace") if ptr else ""


def raise_for(status: int, lib: Any, handle: Optional[int], what: str) -> None:
    """Raise the exception for a non-OK status, with the library's last_error detail."""
    if status == Status.OK:
        return
    detail = _text(lib.fastdrive_pruner_last_error(handle))
    if not detail:
        detail = f"{what}: {_text(lib.fastdrive_status_string(status))}"
    raise error_for_status(status, detail)


def library_version() -> str:
    """The loaded C library's version, ``"MAJOR.MINOR.PATCH"`` (``fastdrive_pruner_version``)."""
    return _text(_lib.load().fastdrive_pruner_version())


def library_path() -> str:
    """Path of the shared library this package loaded (see ``_lib`` for the search order)."""
    return str(_lib.library_path())


def keep_count(n: int, ratio: float) -> int:
    """K for a keep ratio: ``floor(ratio * n)`` clamped to [1, n] (``fastdrive_keep_count``).

    Args:
        n: number of tokens, >= 1.
        ratio: share of tokens to keep, in (0, 1] (pruning ratio p: ratio = 1 - p).

    Raises:
        InvalidArgumentError: n < 1 or ratio outside (0, 1].
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= _INT64_MAX:
        # (ctypes would wrap a bigger int silently: keep_count(2**64 + 10, 0.5) gave 5)
        raise InvalidArgumentError(f"n must be an int in 1..2**63-1, got {n!r}")
    r = check_ratio(ratio)
    lib = _lib.load()
    out = ctypes.c_int64(0)
    status = lib.fastdrive_keep_count(int(n), r, ctypes.byref(out))
    raise_for(status, lib, None, "fastdrive_keep_count")
    return int(out.value)


def parse_policy(policy: Union[str, int, Policy]) -> Policy:
    """A :class:`Policy` from its name (case-insensitive), value or member; InvalidArgumentError otherwise."""
    if isinstance(policy, str):
        try:
            return Policy[policy.strip().upper()]
        except KeyError:
            names = ", ".join(p.name.lower() for p in Policy)
            raise InvalidArgumentError(f"unknown policy {policy!r}; one of {names}") from None
    try:
        return Policy(int(policy))
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"unknown policy {policy!r}") from None
