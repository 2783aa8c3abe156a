# errors.py — one exception class per fastdrive_status, and the 1:1 table from C values to classes.
"""Exceptions of the fastdrive_pruner binding.

Every non-OK ``fastdrive_status`` raises the subclass of :class:`FastdrivePrunerError` named after
it; ``.status`` holds the C value and the message is ``fastdrive_pruner_last_error`` (the C
library's one-line detail naming the argument, key or tensor). The binding also raises these
classes itself for bad input it catches before calling C (wrong dtype, rank, dim, k, ratio, or a
closed handle), with the status the C library would have returned.

Each class also derives from the closest built-in exception, so ``except ValueError`` and
friends work as Python users expect.

==========================================  =====  ==========================
C status                                    value  class
==========================================  =====  ==========================
FASTDRIVE_ERR_INVALID_ARGUMENT              1      InvalidArgumentError
FASTDRIVE_ERR_IO                            2      FastdriveIOError
FASTDRIVE_ERR_FORMAT                        3      FormatError
FASTDRIVE_ERR_SHAPE                         4      ShapeError
FASTDRIVE_ERR_CAPACITY                      5      CapacityError
FASTDRIVE_ERR_NON_FINITE                    6      NonFiniteError
FASTDRIVE_ERR_OUT_OF_MEMORY                 7      OutOfMemoryError
FASTDRIVE_ERR_UNSUPPORTED                   8      UnsupportedError
FASTDRIVE_ERR_INTERNAL                      9      InternalError
FASTDRIVE_ERR_ABORTED                       10     AbortedError (DeadlineExceededError for ``deadline=``)
(any value this binding does not know)      *      FastdrivePrunerError
==========================================  =====  ==========================
"""
from __future__ import annotations

from typing import Dict, List, Optional, Type

__all__ = [
    "FastdrivePrunerError",
    "InvalidArgumentError",
    "FastdriveIOError",
    "FormatError",
    "ShapeError",
    "CapacityError",
    "NonFiniteError",
    "OutOfMemoryError",
    "UnsupportedError",
    "InternalError",
    "AbortedError",
    "DeadlineExceededError",
    "LibraryNotFoundError",
    "STATUS_ERRORS",
    "error_for_status",
]


class FastdrivePrunerError(Exception):
    """Base of every error a fastdrive_status reports.

    Attributes:
        status: the ``fastdrive_status`` value (int).
        message: the detail (``fastdrive_pruner_last_error``, or the binding's own check).
    """

    #: The C status this class stands for (None on the base class: any unknown status).
    STATUS: Optional[int] = None

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = int(status if status is not None else (self.STATUS if self.STATUS is not None else -1))

    def __reduce__(self):  # keep .status through pickling (e.g. across a ProcessPoolExecutor)
        return (type(self), (self.message, self.status))


class InvalidArgumentError(FastdrivePrunerError, ValueError):
    """FASTDRIVE_ERR_INVALID_ARGUMENT (1): NULL pointer, k out of range, bad option, closed handle, wrong dtype."""

    STATUS = 1


class FastdriveIOError(FastdrivePrunerError, OSError):
    """FASTDRIVE_ERR_IO (2): the weight file is missing or unreadable."""

    STATUS = 2


class FormatError(FastdrivePrunerError, ValueError):
    """FASTDRIVE_ERR_FORMAT (3): not a valid weight file, missing tensor, bad config."""

    STATUS = 3


class ShapeError(FastdrivePrunerError, ValueError):
    """FASTDRIVE_ERR_SHAPE (4): token dim != hidden size, wrong rank, or a grid that does not fit the tokens."""

    STATUS = 4


class CapacityError(FastdrivePrunerError, ValueError):
    """FASTDRIVE_ERR_CAPACITY (5): more tokens than the handle was created for (``max_tokens``)."""

    STATUS = 5


class NonFiniteError(FastdrivePrunerError, ValueError):
    """FASTDRIVE_ERR_NON_FINITE (6): NaN or Inf in the input tokens (NaN in scores given to topk)."""

    STATUS = 6


class OutOfMemoryError(FastdrivePrunerError, MemoryError):
    """FASTDRIVE_ERR_OUT_OF_MEMORY (7): the arena or weights could not be allocated."""

    STATUS = 7


class UnsupportedError(FastdrivePrunerError, NotImplementedError):
    """FASTDRIVE_ERR_UNSUPPORTED (8): e.g. a compute dtype this build lacks, or a function the loaded library lacks."""

    STATUS = 8


class InternalError(FastdrivePrunerError, RuntimeError):
    """FASTDRIVE_ERR_INTERNAL (9): a bug in the library; please report it with the message."""

    STATUS = 9


class AbortedError(FastdrivePrunerError, RuntimeError):
    """FASTDRIVE_ERR_ABORTED (10): the call was stopped by :meth:`Pruner.abort`; the Pruner stays usable."""

    STATUS = 10


class DeadlineExceededError(AbortedError, TimeoutError):
    """FASTDRIVE_ERR_ABORTED (10) because the call's ``deadline=`` passed."""


class LibraryNotFoundError(OSError):
    """The shared library could not be loaded; the message lists every place tried and why.

    Attributes:
        tried: the paths tried, in order.
    """

    def __init__(self, message: str, tried: Optional[List[str]] = None) -> None:
        super().__init__(message)
        self.tried = list(tried or [])

    def __str__(self) -> str:  # OSError's __str__ would be fine, but keep the message verbatim
        return str(self.args[0])


#: The 1:1 table: C status value -> exception class (FASTDRIVE_OK has none).
STATUS_ERRORS: Dict[int, Type[FastdrivePrunerError]] = {
    cls.STATUS: cls  # type: ignore[misc]
    for cls in (
        InvalidArgumentError,
        FastdriveIOError,
        FormatError,
        ShapeError,
        CapacityError,
        NonFiniteError,
        OutOfMemoryError,
        UnsupportedError,
        InternalError,
        AbortedError,
    )
}


def error_for_status(status: int, message: str) -> FastdrivePrunerError:
    """The exception for a non-OK status (the base class for a status this binding does not know)."""
    cls = STATUS_ERRORS.get(int(status), FastdrivePrunerError)
    return cls(message, status=int(status))
