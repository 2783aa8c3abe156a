# _lib.py — finds and loads libfastdrive_pruner with ctypes; mirrors every type and function of the C header.
"""Low-level binding of ``include/fastdrive_pruner.h``.

Nothing here is meant for direct use: :class:`fastdrive_pruner.Pruner` wraps it. The module
mirrors the header exactly: one ``IntEnum`` per C enum, one ``ctypes.Structure`` per C
struct (same fields, same order, same sizes), and ``argtypes``/``restype`` for every function,
declared in header order in :data:`FUNCTIONS`.

Where the library is looked for, in order (:func:`candidate_paths`):

1. ``$FASTDRIVE_PRUNER_LIB`` -- the path of the shared library (or a folder holding it). When it
   is set, it is the only place tried: a wrong override fails loudly instead of silently loading
   another build.
2. Next to the package: inside the ``fastdrive_pruner`` folder (where the wheel bundles the
   library), then the folder that contains it.
3. The repository's build folders, when the package sits inside a fastdrive-pruner checkout
   (editable install): ``.build-dist/release`` (the distributable build), ``.build/release``,
   ``.build/debug``. Of the two release builds the more recently built one goes first, so a
   stale build never shadows the one just made; the debug build (made by ``swift test``, several
   times slower) is only a fallback.
4. The system's library search (``dlopen`` of the bare name: ``LD_LIBRARY_PATH``, the ld.so cache,
   e.g. after a CMake install to /usr/local), for non-editable installs outside a checkout.

When nothing loads, :class:`~fastdrive_pruner.errors.LibraryNotFoundError` lists every place tried
and why each failed. Loading is lazy (first :func:`load` call), so ``import fastdrive_pruner``
works without the library.
"""
from __future__ import annotations

import ctypes
import enum
import os
import sys
import threading
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from .errors import LibraryNotFoundError

__all__ = [
    "ENV_VAR",
    "LIBRARY_NAME",
    "SUPPORTED_MAJOR",
    "Status",
    "DType",
    "Rope",
    "Attention",
    "Policy",
    "PrunerOptions",
    "Tokens",
    "PrunerInfo",
    "SelectParams",
    "FUNCTIONS",
    "OPTIONAL_FUNCTIONS",
    "candidate_paths",
    "find_repo_root",
    "load",
    "library_path",
    "has_function",
]

#: Environment variable naming the shared library to load (checked first, and alone when set).
ENV_VAR = "FASTDRIVE_PRUNER_LIB"
#: File name of the shared library on this platform.
LIBRARY_NAME = "libfastdrive_pruner.dylib" if sys.platform == "darwin" else "libfastdrive_pruner.so"
#: The C library's major version this binding speaks (FASTDRIVE_VERSION_MAJOR). It is a statement
#: about the ctypes mirror below, so it is written here, not derived: a new major version of the
#: header needs this file reviewed (the package's own version, from the header, must agree; tested).
SUPPORTED_MAJOR = 1

# ----------------------------------------------------------------------------- enums (header order)


class Status(enum.IntEnum):
    """``fastdrive_status``: result of every fallible call (new values may be added)."""

    OK = 0
    ERR_INVALID_ARGUMENT = 1
    ERR_IO = 2
    ERR_FORMAT = 3
    ERR_SHAPE = 4
    ERR_CAPACITY = 5
    ERR_NON_FINITE = 6
    ERR_OUT_OF_MEMORY = 7
    ERR_UNSUPPORTED = 8
    ERR_INTERNAL = 9
    ERR_ABORTED = 10


class DType(enum.IntEnum):
    """``fastdrive_dtype``: element type of a buffer."""

    F32 = 0
    F16 = 1
    BF16 = 2
    INT8 = 3  # a compute type only (since 1.1), never a token dtype


class Rope(enum.IntEnum):
    """``fastdrive_rope``: positions inside the pruner layer (weight-file key ``rope``)."""

    NONE = 0
    ROPE_1D = 1
    MROPE = 2


class Attention(enum.IntEnum):
    """``fastdrive_attention``: attention mask of the pruner layer (weight-file key ``attention``)."""

    BIDIRECTIONAL = 0
    CAUSAL = 1


class Policy(enum.IntEnum):
    """``fastdrive_policy``: token-selection policies of ``fastdrive_select``."""

    RECONPRUNER = 0
    DIVPRUNE = 1
    ATTENTION = 2
    VISPRUNER = 3
    NORM = 4
    UNIFORM = 5
    RANDOM = 6
    DART = 7  # since 1.1
    CDPRUNER = 8  # since 1.1


class Load(enum.IntEnum):
    """``fastdrive_load``: how create reads the weight file (1.1)."""

    MMAP = 0
    READ = 1


class BLASThreads(enum.IntEnum):
    """``fastdrive_blas_threads``: what the runtime does with OpenBLAS's thread count (1.1)."""

    SET_ONE = 0
    RESTORE = 1
    LEAVE = 2


#: ``fastdrive_abort_callback``: ``bool (*)(void *user_data)``.
AbortCallback = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p)

# C enums are int-sized on every ABI this library targets.
_c_enum = ctypes.c_int

# ----------------------------------------------------------------------------- structs (header order)


class PrunerOptions(ctypes.Structure):
    """``fastdrive_pruner_options`` (16 bytes in 1.0, 40 in 1.1)."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("max_tokens", ctypes.c_uint32),
        ("num_threads", ctypes.c_uint32),
        ("compute", _c_enum),  # fastdrive_dtype
        ("abort_callback", AbortCallback),  # 1.1
        ("abort_user_data", ctypes.c_void_p),
        ("load", _c_enum),  # fastdrive_load
        ("blas_threads", _c_enum),  # fastdrive_blas_threads
    ]


class PrunerOptions_1_0(ctypes.Structure):
    """``fastdrive_pruner_options_1_0``: what the 1.0 symbol ``fastdrive_pruner_default_options`` returns."""

    _fields_ = PrunerOptions._fields_[:4]


class Tokens(ctypes.Structure):
    """``fastdrive_tokens``: a zero-copy view of the host's tokens (48 bytes)."""

    _fields_ = [
        ("data", ctypes.c_void_p),
        ("dtype", _c_enum),  # fastdrive_dtype
        ("n_tokens", ctypes.c_int64),
        ("dim", ctypes.c_int64),
        ("row_stride", ctypes.c_int64),
        ("grid_h", ctypes.c_int32),
        ("grid_w", ctypes.c_int32),
    ]


class PrunerInfo(ctypes.Structure):
    """``fastdrive_pruner_info``: what a handle was loaded with (112 bytes in 1.0)."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("max_tokens", ctypes.c_uint32),
        ("num_threads", ctypes.c_uint32),
        ("compute", _c_enum),  # fastdrive_dtype
        ("hidden_size", ctypes.c_int64),
        ("intermediate_size", ctypes.c_int64),
        ("num_attention_heads", ctypes.c_int64),
        ("num_key_value_heads", ctypes.c_int64),
        ("head_dim", ctypes.c_int64),
        ("parameter_count", ctypes.c_int64),
        ("rms_norm_eps", ctypes.c_double),
        ("rope_theta", ctypes.c_double),
        ("rope", _c_enum),  # fastdrive_rope
        ("attention", _c_enum),  # fastdrive_attention
        ("mrope_section", ctypes.c_int32 * 3),
        ("arena_bytes", ctypes.c_int64),
    ]


class SelectParams(ctypes.Structure):
    """``fastdrive_select_params``: parameters of ``fastdrive_select`` (48 bytes in 1.0, 80 since 1.1)."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("policy", _c_enum),  # fastdrive_policy
        ("k", ctypes.c_int64),
        ("aux", ctypes.POINTER(ctypes.c_float)),
        ("aux_count", ctypes.c_int64),
        ("important_ratio", ctypes.c_double),
        ("seed", ctypes.c_uint64),
        # since 1.1: a 1.0 library reads the first 48 bytes only
        ("image_pivots", ctypes.c_int64),
        ("text_pivots", ctypes.c_int64),
        ("pivot_rows", ctypes.POINTER(Tokens)),
        ("relevance_theta", ctypes.c_double),
    ]


# ----------------------------------------------------------------------------- functions (header order)

_status = _c_enum  # fastdrive_status, returned as a plain int and wrapped by the caller
_handle = ctypes.c_void_p  # fastdrive_pruner * (opaque)
_f32p = ctypes.POINTER(ctypes.c_float)
_i64p = ctypes.POINTER(ctypes.c_int64)

#: Every function of the header, in header order: name -> (restype, argtypes).
FUNCTIONS: Dict[str, Tuple[object, List[object]]] = {
    # The symbol of this name is the 1.0 one (the 1.1 header binds the name to ..._1_1).
    "fastdrive_pruner_default_options": (PrunerOptions_1_0, []),
    "fastdrive_pruner_create": (_status, [ctypes.c_char_p, ctypes.POINTER(PrunerOptions), ctypes.POINTER(_handle)]),
    "fastdrive_pruner_destroy": (None, [_handle]),
    "fastdrive_pruner_describe": (_status, [_handle, ctypes.POINTER(PrunerInfo)]),
    "fastdrive_pruner_score": (_status, [_handle, ctypes.POINTER(Tokens), _f32p]),
    "fastdrive_pruner_score_batch": (_status, [_handle, ctypes.POINTER(Tokens), ctypes.c_int64, _f32p]),
    "fastdrive_pruner_topk": (_status, [_handle, _f32p, ctypes.c_int64, ctypes.c_int64, _i64p]),
    "fastdrive_keep_count": (_status, [ctypes.c_int64, ctypes.c_double, _i64p]),
    "fastdrive_select": (_status, [_handle, ctypes.POINTER(Tokens), ctypes.POINTER(SelectParams), _i64p]),
    "fastdrive_pruner_select": (_status, [_handle, ctypes.POINTER(Tokens), ctypes.POINTER(SelectParams), _i64p]),
    "fastdrive_pruner_request_abort": (_status, [_handle]),
    "fastdrive_pruner_reset_abort": (_status, [_handle]),
    "fastdrive_status_string": (ctypes.c_char_p, [_status]),
    "fastdrive_pruner_last_error": (ctypes.c_char_p, [_handle]),
    "fastdrive_pruner_version": (ctypes.c_char_p, []),
    "fastdrive_version_number": (ctypes.c_int32, []),
}

#: Functions a library may lack (added to the header after the first 1.0 builds); calling one that
#: is missing raises UnsupportedError at call time, never at load.
OPTIONAL_FUNCTIONS = frozenset({"fastdrive_pruner_score_batch", "fastdrive_select", "fastdrive_pruner_select",
                                "fastdrive_pruner_request_abort", "fastdrive_pruner_reset_abort"})

# ----------------------------------------------------------------------------- locating the library


def find_repo_root(start: Optional[Path] = None) -> Optional[Path]:
    """The fastdrive-pruner checkout that contains ``start`` (default: this package), or None.

    A checkout is recognised by ``Package.swift`` next to ``include/fastdrive_pruner.h``.
    """
    here = (start or Path(__file__)).resolve()
    for folder in [here, *here.parents]:
        if (folder / "Package.swift").is_file() and (folder / "include" / "fastdrive_pruner.h").is_file():
            return folder
    return None


REPO_BUILDS = (".build-dist/release", ".build/release", ".build/debug")


def repo_build_paths(root: Path) -> List[Tuple[Path, str]]:
    """The checkout's build folders' libraries: the release builds, newest first, then debug."""
    def age(place: Tuple[Path, str]) -> float:
        try:
            return -place[0].stat().st_mtime
        except OSError:
            return float("inf")  # not built: after the built ones

    places = [(root / build / LIBRARY_NAME, f"repo build folder {build}") for build in REPO_BUILDS]
    return sorted(places[:2], key=age) + places[2:]  # stable: equal ages keep REPO_BUILDS order


def candidate_paths() -> List[Tuple[Path, str]]:
    """Places to load the library from, in search order, as (path, where-it-came-from) pairs.

    The last entry is the bare file name, which ``dlopen`` resolves through the system search.
    """
    override = os.environ.get(ENV_VAR, "")
    if override:
        path = Path(override).expanduser()
        if path.is_dir():
            path = path / LIBRARY_NAME
        return [(path, f"${ENV_VAR}")]
    package_dir = Path(__file__).resolve().parent
    places = [
        (package_dir / LIBRARY_NAME, "inside the package"),
        (package_dir.parent / LIBRARY_NAME, "next to the package"),
    ]
    root = find_repo_root(package_dir)
    if root is not None:
        places += repo_build_paths(root)
    places.append((Path(LIBRARY_NAME), "system library search: LD_LIBRARY_PATH, ld.so cache"))
    return places


def _declare(cdll: ctypes.CDLL) -> Dict[str, object]:
    """Set restype/argtypes on every header function the library exports; raise if a required one is missing."""
    declared: Dict[str, object] = {}
    for name, (restype, argtypes) in FUNCTIONS.items():
        try:
            fn = getattr(cdll, name)
        except AttributeError:
            if name in OPTIONAL_FUNCTIONS:
                continue
            raise OSError(f"does not export {name}") from None
        fn.restype = restype
        fn.argtypes = argtypes
        declared[name] = fn
    return declared


class _Loaded:
    """A loaded library: the CDLL, where it came from, and its declared functions."""

    def __init__(self, cdll: ctypes.CDLL, path: Path, functions: Dict[str, object]) -> None:
        self.cdll = cdll
        self.path = path
        self.functions = functions

    def __getattr__(self, name: str) -> object:
        try:
            return self.functions[name]
        except KeyError:
            raise AttributeError(name) from None


_lock = threading.Lock()
_loaded: Optional[_Loaded] = None


def _renew_lock_after_fork() -> None:  # another thread may have held it at the fork
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renew_lock_after_fork)


class _DlInfo(ctypes.Structure):
    """``Dl_info`` of <dlfcn.h>, for dladdr."""

    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


def _loaded_from(cdll: ctypes.CDLL) -> Optional[Path]:
    """The file a library was loaded from (dladdr on one of its functions), or None if unknown."""
    try:
        dladdr = ctypes.CDLL(None).dladdr
    except (AttributeError, OSError):
        return None
    dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
    dladdr.restype = ctypes.c_int
    info = _DlInfo()
    address = ctypes.cast(cdll.fastdrive_pruner_version, ctypes.c_void_p).value
    if not dladdr(address, ctypes.byref(info)) or not info.dli_fname:
        return None
    return Path(os.fsdecode(info.dli_fname))


class _IncompatibleVersion(OSError):
    """A library that loads but has a major version this binding does not speak."""


def _try_load(path: Path) -> _Loaded:
    """Load one candidate and check it speaks this binding's ABI; raise OSError with the reason."""
    bare = len(path.parts) == 1  # resolved by dlopen's own search
    if not bare and not path.exists():
        raise OSError("file does not exist")
    cdll = ctypes.CDLL(str(path))
    if bare:  # report where dlopen found it
        path = _loaded_from(cdll) or path
    functions = _declare(cdll)
    number = int(functions["fastdrive_version_number"]())
    if number // 1_000_000 != SUPPORTED_MAJOR:
        version = functions["fastdrive_pruner_version"]().decode()
        raise _IncompatibleVersion(f"library version {version}: this binding supports {SUPPORTED_MAJOR}.x only")
    return _Loaded(cdll, path, functions)


def load() -> _Loaded:
    """The loaded library (loaded on first call, then cached); raises LibraryNotFoundError."""
    global _loaded
    if _loaded is not None:
        return _loaded
    with _lock:
        if _loaded is not None:
            return _loaded
        places = candidate_paths()
        failures: List[str] = []
        incompatible = False
        for path, origin in places:
            try:
                _loaded = _try_load(path)
                return _loaded
            except OSError as e:
                incompatible |= isinstance(e, _IncompatibleVersion)
                failures.append(f"  {len(failures) + 1}. {path} ({origin}): {e}")
        lines = [f"fastdrive_pruner: cannot load {LIBRARY_NAME}; places tried, in order:", *failures]
        if incompatible:
            from ._version import __version__

            lines.insert(0, f"fastdrive_pruner {__version__} needs libfastdrive_pruner {SUPPORTED_MAJOR}.x "
                            "(the same major version); a library of another major version was refused.")
            lines.append(f"Install the fastdrive-pruner wheel that matches that library, or point {ENV_VAR} "
                         f"at a {SUPPORTED_MAJOR}.x build.")
        if os.environ.get(ENV_VAR):
            lines.append(f"{ENV_VAR} is set, so no other place was searched; fix or unset it.")
        elif find_repo_root(Path(__file__).parent) is not None:
            lines.append(
                f"Build it (`swift build -c release` in the repository root) or set {ENV_VAR} to the library's path."
            )
        else:
            lines.append(f"Install a fastdrive-pruner wheel (it bundles the library) or set {ENV_VAR} to the library's path.")
        raise LibraryNotFoundError("\n".join(lines), tried=[str(p) for p, _ in places])


def library_path() -> Path:
    """Path of the shared library in use (loads it if needed)."""
    return load().path


def has_function(name: str) -> bool:
    """Whether the loaded library exports ``name`` (e.g. the optional ``fastdrive_select``)."""
    return name in load().functions
