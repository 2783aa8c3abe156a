# __init__.py — public API of fastdrive_pruner, the Python (ctypes) binding of the fastdrive-pruner C library.
"""fastdrive_pruner: ReconPruner visual-token pruning (FastDriveVLA) from Python.

A thin ctypes binding of ``include/fastdrive_pruner.h``: no compiled extension, it loads
``libfastdrive_pruner.so`` (``$FASTDRIVE_PRUNER_LIB``, next to the package, or the repository's
build folders) on first use.

    import numpy as np
    from fastdrive_pruner import Pruner

    with Pruner("pruner.safetensors") as p:
        indices, kept = p.prune(tokens, ratio=0.5, grid=(57, 57))  # tokens: [3249, 2048] float32

See :class:`Pruner` and :mod:`fastdrive_pruner.errors`.
"""
from ._lib import Attention, DType, Policy, Rope, Status
from ._version import __version__
from .errors import (
    STATUS_ERRORS,
    CapacityError,
    FastdriveIOError,
    FastdrivePrunerError,
    FormatError,
    InternalError,
    AbortedError,
    DeadlineExceededError,
    InvalidArgumentError,
    LibraryNotFoundError,
    NonFiniteError,
    OutOfMemoryError,
    ShapeError,
    UnsupportedError,
)
from .pruner import Pruner, keep_count, library_path, library_version

__all__ = [
    "__version__",
    "Pruner",
    "keep_count",
    "library_version",
    "library_path",
    "Status",
    "DType",
    "Rope",
    "Attention",
    "Policy",
    "STATUS_ERRORS",
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
]
