# pruner.py — the Pruner class: one fastdrive_pruner handle with score / score_batch / topk / prune / select.
"""Pythonic wrapper of one ``fastdrive_pruner`` handle.

    >>> from fastdrive_pruner import Pruner
    >>> with Pruner("pruner.safetensors", max_tokens=4096) as p:           # doctest: +SKIP
    ...     indices, kept = p.prune(tokens, ratio=0.5, grid=(57, 57))

Every call validates its arguments in Python first (dtype, rank, dim, k, ratio, closed handle:
the exception classes of :mod:`fastdrive_pruner.errors`), then calls C; any non-OK status from C
raises the class named after it with ``fastdrive_pruner_last_error`` as the message.

Threads: the C library allows one thread at a time per handle, so each Pruner holds a lock and
calls on one Pruner from several threads run one after another. ctypes releases the GIL during
the C call, so separate Pruner objects (one per thread) do run in parallel. :meth:`Pruner.abort`
is the exception: any thread may call it while another is inside a call, which then raises
:class:`AbortedError`; ``deadline=`` does the same when a time passes.

Processes: a Pruner inherited through ``fork`` (``multiprocessing`` with the fork start method,
``torch.utils.data.DataLoader(num_workers > 0)`` on Linux) keeps working in the child, computing
on the calling thread only (fork copies none of the worker threads); its lock is renewed in the
child, so a call that was running in another parent thread at the fork cannot block it. Pickling
(the spawn start method), :func:`copy.copy` and :func:`copy.deepcopy` never share a handle: they
create a new Pruner that loads the same path with the same options (the file must still be
there; a file replaced since is the new file).

Exit: at interpreter exit a Pruner still open is destroyed, unless a thread (e.g. a daemon
thread) is inside a call on it at that moment: then it is left alone for the process to end,
because destroying a handle under a running call is a use after free. Outputs are new arrays,
so no output ever overlaps an input.
"""
from __future__ import annotations

import ctypes
import math
import numbers
import os
import threading
import time
import warnings
import weakref
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _lib
from ._arrays import (
    TokenView,
    as_float32_values,
    as_ranked_scores,
    as_token_view,
    check_grid,
    check_k,
    is_torch_tensor,
)
from ._describe import Described
from ._lib import BLASThreads, DType, Load, Policy, PrunerInfo, PrunerOptions, Rope, SelectParams, Status, Tokens
from ._native import keep_count, library_path, library_version, parse_policy, raise_for
from .errors import (
    DeadlineExceededError,
    FastdrivePrunerError,
    InvalidArgumentError,
    UnsupportedError,
    error_for_status,
)

__all__ = ["Pruner", "keep_count", "library_version", "library_path"]

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
Grid = Optional[Tuple[int, int]]

_UINT32_MAX = 2**32 - 1
_UINT64_MAX = 2**64 - 1
_MAX_FRAMES = 64  # fastdrive_pruner_score_batch: n_frames 1 .. 64
_COMPUTE = {"f32": DType.F32, "bf16": DType.BF16, "int8": DType.INT8}
_BLAS_THREADS = {"set_one": BLASThreads.SET_ONE, "restore": BLASThreads.RESTORE, "leave": BLASThreads.LEAVE}
_f32p = ctypes.POINTER(ctypes.c_float)
_i64p = ctypes.POINTER(ctypes.c_int64)


class _Handle:
    """The C handle and the lock every call on it holds, apart from the Pruner so that the
    finalizer can use them without keeping the Pruner alive."""

    __slots__ = ("value", "lock", "abort_lock", "lib", "__weakref__")

    def __init__(self, lib: Any, value: int) -> None:
        self.lib = lib
        self.value: Optional[int] = value
        self.lock = threading.Lock()
        # Held around fastdrive_pruner_request_abort (any thread) and destroy: an abort never
        # reaches a destroyed handle, and never waits for the running call.
        self.abort_lock = threading.Lock()


class _Deadline:
    """A ``deadline=`` of one call: a timer that requests an abort of the handle at that time,
    if the call is still running. Entered with the handle's call lock held."""

    __slots__ = ("state", "deadline", "timer", "active", "fired")

    def __init__(self, state: _Handle, deadline: Optional[float]) -> None:
        self.state, self.deadline = state, deadline
        self.timer: Optional[threading.Timer] = None
        self.active = self.fired = False

    def __enter__(self) -> "_Deadline":
        if self.deadline is not None:
            self.active = True
            delay = self.deadline - time.monotonic()
            if delay <= 0:
                self._fire()
            else:
                self.timer = threading.Timer(delay, self._fire)
                self.timer.daemon = True
                self.timer.start()
        return self

    def _fire(self) -> None:
        with self.state.abort_lock:
            if self.active and self.state.value:
                self.fired = True
                self.state.lib.fastdrive_pruner_request_abort(self.state.value)

    def __exit__(self, *exc: object) -> None:
        if self.deadline is None:
            return
        with self.state.abort_lock:
            self.active = False  # from here the timer cannot request
        if self.timer is not None:
            self.timer.cancel()


def _finalize(state: _Handle) -> None:
    """weakref.finalize's callback: garbage collection, or interpreter exit for a Pruner still open.

    After garbage collection no thread can be inside a call (a call keeps its Pruner alive). At
    interpreter exit a daemon thread may be: its lock is then held, and the handle is left alone.
    The lock is never released afterwards, so no call can start on a destroyed handle.
    """
    if not state.lock.acquire(blocking=False):
        return
    with state.abort_lock:
        handle, state.value = state.value, None
    if handle:
        state.lib.fastdrive_pruner_destroy(handle)


# Every open handle, to renew its lock in a forked child: the child has only the forking thread,
# and a lock that another parent thread held at the fork would stay locked there for ever.
_open_handles: "weakref.WeakSet[_Handle]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for state in list(_open_handles):
        state.lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class Pruner(Described):
    """A loaded ReconPruner (one ``fastdrive_pruner`` handle).

    Args:
        path: the ``.safetensors`` weight file (docs/weight-file.md; str, bytes or os.PathLike; any bytes, UTF-8 or not).
        max_tokens: capacity: the most tokens one call may score (the arena is planned for it).
        num_threads: worker threads, 0 = the CPUs this process may use (its affinity mask, capped
            by its cgroup CPU quota; the :attr:`num_threads` attribute then says how many).
            ``threads=`` is the deprecated spelling.
        compute: ``"f32"`` (default, the reference precision), ``"bf16"`` (needs AVX512_BF16) or
            ``"int8"`` (linear layers in int8, needs AVX512-VNNI; library 1.1 or later).
        mmap: True (default) maps the file and reads F32 weights in place (the file must not be
            rewritten while the Pruner lives); False reads it whole into memory at create, after
            which the file may change or vanish. Same scores either way.
        blas_threads: what the library does with OpenBLAS's process-wide thread count, which
            numpy may share: ``"set_one"`` (default: set to 1 and left there), ``"restore"``
            (1 during each call, then put back) or ``"leave"`` (never touched).

    Raises:
        FastdriveIOError: the file is missing or unreadable.
        FormatError: not a valid weight file (the message names the key or tensor).
        InvalidArgumentError: a bad option.
        UnsupportedError: a compute precision this build lacks.
        LibraryNotFoundError: the shared library could not be loaded.

    Use it as a context manager, or call :meth:`close` (idempotent); it is also closed when
    garbage-collected. Any use after close raises InvalidArgumentError. fork, pickling, copies
    and interpreter exit: see the module documentation.
    """

    def __init__(
        self,
        path: PathLike,
        max_tokens: int = 4096,
        num_threads: int = 0,
        compute: str = "f32",
        *,
        mmap: bool = True,
        blas_threads: str = "set_one",
        threads: Optional[int] = None,
    ) -> None:
        self._state: Optional[_Handle] = None
        if threads is not None:
            warnings.warn(
                "Pruner(threads=...) is deprecated: use num_threads=... (the name of the attribute that reports it)",
                DeprecationWarning,
                stacklevel=2,
            )
            if num_threads != 0:
                raise InvalidArgumentError("give num_threads only (threads is its deprecated spelling)")
            num_threads = threads
        try:
            raw_path = os.fsencode(os.fspath(path))
        except TypeError:
            raise InvalidArgumentError(f"path must be a str, bytes or os.PathLike, got {type(path).__name__}") from None
        if b"\0" in raw_path:
            raise InvalidArgumentError("path contains a NUL byte")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, numbers.Integral) or not 1 <= max_tokens <= _UINT32_MAX:
            raise InvalidArgumentError(f"max_tokens must be an int in 1..{_UINT32_MAX}, got {max_tokens!r}")
        if isinstance(num_threads, bool) or not isinstance(num_threads, numbers.Integral) or not 0 <= num_threads <= _UINT32_MAX:
            raise InvalidArgumentError(f"num_threads must be an int >= 0 (0 = the CPUs this process may use), got {num_threads!r}")
        if compute not in _COMPUTE:
            raise InvalidArgumentError(f"compute must be 'f32', 'bf16' or 'int8', got {compute!r}")
        if not isinstance(mmap, bool):
            raise InvalidArgumentError(f"mmap must be True or False, got {mmap!r}")
        if blas_threads not in _BLAS_THREADS:
            raise InvalidArgumentError(f"blas_threads must be 'set_one', 'restore' or 'leave', got {blas_threads!r}")

        lib = _lib.load()
        self._lib = lib
        self._path = os.fsdecode(raw_path)
        # What a copy or an unpickled Pruner is created from (the path's bytes, as given).
        self._arguments = (raw_path, int(max_tokens), int(num_threads), compute)
        self._keywords = {"mmap": mmap, "blas_threads": blas_threads}
        if (not mmap or blas_threads != "set_one") and lib.fastdrive_version_number() < 1_001_000:
            raise UnsupportedError(f"mmap=False and blas_threads need libfastdrive_pruner >= 1.1 ({lib.path} is {library_version()})")
        options = PrunerOptions()  # zero = defaults; a 1.0 library reads the first 16 bytes
        options.struct_size = ctypes.sizeof(PrunerOptions)
        options.max_tokens = int(max_tokens)
        options.num_threads = int(num_threads)
        options.compute = int(_COMPUTE[compute])
        options.load = int(Load.MMAP if mmap else Load.READ)
        options.blas_threads = int(_BLAS_THREADS[blas_threads])
        handle = ctypes.c_void_p(None)
        status = lib.fastdrive_pruner_create(raw_path, ctypes.byref(options), ctypes.byref(handle))
        raise_for(status, lib, None, "fastdrive_pruner_create")
        if not handle.value:
            raise error_for_status(Status.ERR_INTERNAL, "fastdrive_pruner_create returned OK but no handle")
        self._state = _Handle(lib, handle.value)
        _open_handles.add(self._state)
        # Destroy on GC / interpreter exit too; the finalizer holds no reference to self.
        self._finalizer = weakref.finalize(self, _finalize, self._state)
        info = PrunerInfo()
        info.struct_size = ctypes.sizeof(PrunerInfo)
        status = lib.fastdrive_pruner_describe(handle.value, ctypes.byref(info))
        if status != Status.OK:
            try:
                raise_for(status, lib, handle.value, "fastdrive_pruner_describe")
            finally:
                self.close()
        self._info = info

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Destroy the handle (``fastdrive_pruner_destroy``); calling it again is a no-op.

        Waits for a call that another thread is making on this Pruner to finish first.
        """
        state = self._state
        if state is None:
            return
        with state.lock:
            with state.abort_lock:
                handle, state.value = state.value, None
            if handle:
                self._finalizer.detach()
                _open_handles.discard(state)
                state.lib.fastdrive_pruner_destroy(handle)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._state is None or self._state.value is None

    @property
    def _lock(self) -> threading.Lock:
        """The lock every C call on this handle holds (renewed in a forked child)."""
        assert self._state is not None
        return self._state.lock

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        """Pickling, copy.copy and copy.deepcopy: a new Pruner loading the same path with the same
        options, never a second owner of this handle (closing one would kill the other, and in C a
        destroyed handle's address is reused by the next create)."""
        self._live()
        return (_reconstruct, (self._arguments, self._keywords))

    def __enter__(self) -> "Pruner":
        self._live()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return f"<Pruner {self._path!r} closed>" if hasattr(self, "_path") else "<Pruner closed>"
        return (
            f"<Pruner {self._path!r} hidden_size={self.hidden_size} rope={self.rope} attention={self.attention} "
            f"max_tokens={self.max_tokens} num_threads={self.num_threads} compute={self.compute}>"
        )

    def _live(self) -> int:
        """The raw handle, or InvalidArgumentError after close (call with the lock held for C calls)."""
        handle = self._state.value if self._state is not None else None
        if handle is None:
            raise InvalidArgumentError("this Pruner is closed")
        return handle

    # ------------------------------------------------------------------ aborting

    def abort(self) -> None:
        """Stop the call running on this Pruner in another thread (``fastdrive_pruner_request_abort``).

        Safe from any thread, and returns at once. The running call raises :class:`AbortedError`
        within a few milliseconds; if no call is running, the next one does. Either way the
        request is used up by the call it stops, and the Pruner then gives exactly the results
        of a new one. After :meth:`close` it does nothing.
        """
        state = self._state
        if state is None:
            return
        fn = self._optional("fastdrive_pruner_request_abort", "abort")
        with state.abort_lock:
            if state.value:
                fn(state.value)

    def _call(self, name: str, deadline: Optional[float], call: Any) -> None:
        """Runs ``call(handle)`` (a C call returning a status) under the handle's lock with an
        optional deadline, and raises for its status. An aborted call uses up the request that
        stopped it (fastdrive_pruner_reset_abort), so the next call runs."""
        if deadline is not None:
            if isinstance(deadline, bool) or not isinstance(deadline, numbers.Real) or math.isnan(deadline):
                raise InvalidArgumentError(f"deadline must be a time.monotonic() value in seconds, got {deadline!r}")
            self._optional("fastdrive_pruner_request_abort", "deadline")
        with self._lock:
            handle = self._live()
            with _Deadline(self._state, deadline) as timer:  # type: ignore[arg-type]
                status = call(handle)
            if status == Status.ERR_ABORTED or timer.fired:
                # Used up by this call, or it came too late to stop it: not left for the next.
                self._lib.fastdrive_pruner_reset_abort(handle)
                if timer.fired and status == Status.ERR_ABORTED:
                    raise DeadlineExceededError(
                        f"{name}: the deadline passed ({time.monotonic() - float(deadline):.3f} s ago); stopped",  # type: ignore[arg-type]
                        status=int(status),
                    )
            raise_for(status, self._lib, handle, name)

    # ------------------------------------------------------------------ compute

    def _view(self, tokens: Any) -> TokenView:
        return as_token_view(tokens, int(self._described().hidden_size))

    def _c_tokens(self, view: TokenView, grid: Grid, scored: bool = True) -> Tokens:
        """The C view; the grid is required when the tokens are scored under rope = mrope."""
        gh, gw = check_grid(grid, view.n_tokens, scored and self._info.rope == Rope.MROPE)
        return Tokens(view.data, int(view.dtype), view.n_tokens, view.dim, view.row_stride, gh, gw)

    def _score_view(self, view: TokenView, grid: Grid, deadline: Optional[float] = None) -> np.ndarray:
        c_tokens = self._c_tokens(view, grid)
        out = np.empty(view.n_tokens, dtype=np.float32)
        score = self._lib.fastdrive_pruner_score
        self._call("fastdrive_pruner_score", deadline,
                   lambda handle: score(handle, ctypes.byref(c_tokens), out.ctypes.data_as(_f32p)))
        return out

    def _topk_array(self, scores: np.ndarray, k: int) -> np.ndarray:
        out = np.empty(k, dtype=np.int64)
        with self._lock:
            handle = self._live()
            status = self._lib.fastdrive_pruner_topk(
                handle, scores.ctypes.data_as(_f32p), scores.size, k, out.ctypes.data_as(_i64p)
            )
            raise_for(status, self._lib, handle, "fastdrive_pruner_topk")
        return out

    def score(self, tokens: Any, grid: Grid = None, *, deadline: Optional[float] = None) -> np.ndarray:
        """Score every token (``fastdrive_pruner_score``): higher = more foreground.

        Args:
            tokens: [n_tokens, hidden_size] float32 / float16 / bfloat16 numpy array or CPU torch
                tensor. C-contiguous and row-strided layouts (e.g. ``big[:, :D]``, ``big[::2]``)
                are read in place; other layouts (e.g. a transposed view) are copied once.
            grid: ``(grid_h, grid_w)`` of the frame: required under rope = mrope, where the
                positions depend on it (a 16:9 camera's 36 × 64 = 2304 tokens are also 48 × 48:
                nothing is guessed; only n_tokens = 1 needs no grid). Optional otherwise, but
                must match n_tokens if given. For Qwen2.5-VL it is the LLM's merged grid
                (``image_grid_thw`` h and w divided by 2).
            deadline: a :func:`time.monotonic` time by which the call must return: past it, the
                call stops within a few milliseconds and raises :class:`DeadlineExceededError`.
                None (default) = no deadline. Also on :meth:`score_batch`, :meth:`prune` and
                :meth:`select`.

        Returns:
            float32 numpy array [n_tokens].

        Raises:
            InvalidArgumentError, ShapeError, CapacityError (n_tokens > max_tokens),
            NonFiniteError (NaN/Inf in the tokens), AbortedError (:meth:`abort`),
            DeadlineExceededError.
        """
        return self._score_view(self._view(tokens), grid, deadline)

    def _optional(self, name: str, what: str) -> Any:
        """A function the loaded library may lack, or UnsupportedError naming the library."""
        fn = self._lib.functions.get(name)
        if fn is None:
            raise UnsupportedError(
                f"{name} is not exported by {self._lib.path} (library {library_version()}): "
                f"this build has no {what}; use a newer library"
            )
        return fn

    def score_batch(
        self, frames: Sequence[Any], grids: Optional[Sequence[Grid]] = None, *, deadline: Optional[float] = None
    ) -> List[np.ndarray]:
        """Score several frames in one call (``fastdrive_pruner_score_batch``), e.g. the cameras of a rig.

        Rows of all frames share the projections and the MLP (bigger GEMMs); attention, positions
        and the query token stay per frame, so each frame's scores equal :meth:`score` on it alone
        (up to float rounding).

        Args:
            frames: 1..64 token arrays, each as for :meth:`score` (sizes, dtypes and layouts may
                differ), or one 3-D array / tensor [n_frames, n_tokens, D].
            grids: one grid per frame (each ``(grid_h, grid_w)`` or None, as for :meth:`score`),
                or None for all-default grids.

        Returns:
            one float32 array [n_tokens] per frame.

        Raises:
            UnsupportedError: the loaded library does not implement ``fastdrive_pruner_score_batch``.
            InvalidArgumentError, ShapeError, CapacityError (sum of n_tokens + n_frames - 1 >
            max_tokens), NonFiniteError: the message names the frame.
        """
        self._live()
        fn = self._optional("fastdrive_pruner_score_batch", "batched scoring")
        frames = list(frames)  # a 3-D array / tensor [n_frames, n, D] becomes per-frame views (no copy)
        if not 1 <= len(frames) <= _MAX_FRAMES:
            raise InvalidArgumentError(f"score_batch takes 1..{_MAX_FRAMES} frames, got {len(frames)}")
        if grids is None:
            grids = [None] * len(frames)
        grids = list(grids)
        if len(grids) != len(frames):
            raise InvalidArgumentError(f"{len(grids)} grids for {len(frames)} frames")
        views, c_views = [], []
        for i, (frame, grid) in enumerate(zip(frames, grids)):
            try:
                views.append(self._view(frame))
                c_views.append(self._c_tokens(views[-1], grid))
            except FastdrivePrunerError as e:
                raise type(e)(f"frame {i}: {e.message}", status=e.status) from None
        c_frames = (Tokens * len(views))(*c_views)
        counts = [v.n_tokens for v in views]
        out = np.empty(sum(counts), dtype=np.float32)
        self._call("fastdrive_pruner_score_batch", deadline,
                   lambda handle: fn(handle, c_frames, len(views), out.ctypes.data_as(_f32p)))
        return np.split(out, np.cumsum(counts)[:-1])

    def topk(self, scores: Any, k: int) -> np.ndarray:
        """The k highest scores' indices, ascending; ties go to the lower index (``fastdrive_pruner_topk``).

        Args:
            scores: 1-D float scores, n <= max_tokens (numpy or torch). float64 (or wider) scores
                rank exactly as given: values that float32 would round together, or overflow,
                are never silently tied.
            k: 1..n.

        Returns:
            int64 numpy array [k], ascending.

        Raises:
            InvalidArgumentError (k out of range), CapacityError, NonFiniteError (a NaN score).
        """
        arr = as_ranked_scores(scores, "scores")
        return self._topk_array(arr, check_k(k, arr.size))

    def keep_count(self, n: int, ratio: float) -> int:
        """K for a keep ratio, ``floor(ratio * n)`` clamped to [1, n] (see module-level :func:`keep_count`)."""
        self._live()
        return keep_count(n, ratio)

    def prune(
        self, tokens: Any, k: Optional[int] = None, ratio: Optional[float] = None, grid: Grid = None,
        *, deadline: Optional[float] = None,
    ) -> Tuple[np.ndarray, Any]:
        """Score, keep the top-K, and gather the kept tokens.

        Give exactly one of ``k`` (1..n_tokens) or ``ratio`` (keep share in (0, 1]; K = floor(ratio*n)
        clamped to [1, n]).

        Returns:
            ``(indices, kept_tokens)``: int64 indices ascending, and ``tokens[indices]``: the
            original rows in the original dtype. Both are torch tensors for torch input, else
            both numpy arrays.
        """
        if (k is None) == (ratio is None):
            raise InvalidArgumentError("give exactly one of k or ratio")
        view = self._view(tokens)
        n = view.n_tokens
        kk = check_k(k, n) if k is not None else keep_count(n, ratio)  # type: ignore[arg-type]
        indices = self._topk_array(self._score_view(view, grid, deadline), kk)
        if is_torch_tensor(tokens):
            import torch

            index = torch.from_numpy(indices)
            return index.to(tokens.device), tokens[index.to(tokens.device)]
        source = tokens if isinstance(tokens, np.ndarray) else np.asarray(tokens)
        return indices, source[indices]

    def select(
        self,
        tokens: Any,
        k: int,
        policy: Union[str, int, Policy] = "reconpruner",
        aux: Optional[Any] = None,
        important_ratio: float = 0.0,
        seed: int = 0,
        grid: Grid = None,
        *,
        relevance: Optional[Any] = None,
        relevance_theta: float = 0.0,
        image_pivots: int = 0,
        text_pivots: int = 0,
        pivot_rows: Optional[Any] = None,
        deadline: Optional[float] = None,
    ) -> np.ndarray:
        """Select k tokens with a policy (``fastdrive_select``); indices come out ascending.

        Args:
            tokens: as for :meth:`score`.
            k: 1..n_tokens.
            policy: ``"reconpruner"`` (scores from this pruner, or ``aux``), ``"divprune"``,
                ``"attention"`` (top-K of ``aux``), ``"vispruner"``, ``"norm"``, ``"uniform"``,
                ``"random"``, ``"dart"`` (TensorRT-Edge-LLM's pruner), ``"cdpruner"`` (OpenVINO
                GenAI's; needs ``relevance``); or a :class:`Policy` value.
            aux: per-token importance [n_tokens] (required by attention and vispruner); only
                its order matters, and float64 values rank exactly as given (as for :meth:`topk`).
            important_ratio: vispruner's share of k taken by importance (0 = library default).
            seed: seed of the reproducible random draw.
            grid: as for :meth:`score`.
            relevance: cdpruner's per-token relevance to the instruction [n_tokens] (e.g. each
                token's cosine to the mean text embedding; higher = more relevant; finite). Its
                values matter, not only its order: it is passed as float32 (``aux`` is accepted
                in its place).
            relevance_theta: cdpruner's θ in (0, 1] weighting relevance against diversity
                (0 = library default 1: the min-max normalised relevance as it is, so the least
                relevant token weighs 0 and equal relevance everywhere weighs every token 0;
                θ < 1 weighs by exp(θ/(2(1-θ))·r) instead, e.g. for diversity alone).
            image_pivots, text_pivots: dart's pivot counts (0 = library default 4 each; text
                pivots only with ``pivot_rows``; 64 in all at most).
            pivot_rows: dart's optional host pivot rows [m, hidden_size] (e.g. the instruction's
                text embeddings), any dtype :meth:`score` accepts.

        Raises:
            UnsupportedError: the loaded library does not implement ``fastdrive_select``.
            InvalidArgumentError, ShapeError, CapacityError, NonFiniteError.
        """
        self._live()
        fn = self._optional("fastdrive_select", "token-selection policies (use prune())")
        pol = parse_policy(policy)
        view = self._view(tokens)
        kk = check_k(k, view.n_tokens)
        aux_arr: Optional[np.ndarray] = None
        if pol == Policy.CDPRUNER:
            if relevance is not None and aux is not None:
                raise InvalidArgumentError("give cdpruner's relevance once: relevance= or aux=, not both")
            rel = relevance if relevance is not None else aux
            if rel is None:
                raise InvalidArgumentError("policy cdpruner needs relevance (per-token relevance to the instruction)")
            aux_arr = as_float32_values(rel, "relevance")  # its values matter, not only its order
            if aux_arr.size != view.n_tokens:
                raise InvalidArgumentError(f"relevance has {aux_arr.size} entries, tokens have {view.n_tokens}")
        elif relevance is not None:
            raise InvalidArgumentError(f"relevance is read by policy cdpruner only, not {pol.name.lower()}")
        elif aux is not None:
            aux_arr = as_ranked_scores(aux, "aux")
            if aux_arr.size != view.n_tokens:
                raise InvalidArgumentError(f"aux has {aux_arr.size} entries, tokens have {view.n_tokens}")
        elif pol in (Policy.ATTENTION, Policy.VISPRUNER):
            raise InvalidArgumentError(f"policy {pol.name.lower()} needs aux (per-token importance)")
        if isinstance(relevance_theta, bool) or not isinstance(relevance_theta, numbers.Real) or not (
            math.isfinite(relevance_theta) and 0.0 <= relevance_theta <= 1.0
        ):
            raise InvalidArgumentError(f"relevance_theta must be in [0, 1] (0 = default 1), got {relevance_theta!r}")
        for name, count in (("image_pivots", image_pivots), ("text_pivots", text_pivots)):
            if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
                raise InvalidArgumentError(f"{name} must be an int >= 0 (0 = default), got {count!r}")
        rows_view = self._view(pivot_rows) if pivot_rows is not None else None
        c_rows = (
            Tokens(rows_view.data, int(rows_view.dtype), rows_view.n_tokens, rows_view.dim, rows_view.row_stride, 0, 0)
            if rows_view is not None
            else None
        )
        if isinstance(important_ratio, bool) or not isinstance(important_ratio, numbers.Real) or not (
            math.isfinite(important_ratio) and 0.0 <= important_ratio <= 1.0
        ):
            raise InvalidArgumentError(f"important_ratio must be in [0, 1] (0 = default), got {important_ratio!r}")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed <= _UINT64_MAX:
            raise InvalidArgumentError(f"seed must be an int in 0..2**64-1, got {seed!r}")
        params = SelectParams(
            ctypes.sizeof(SelectParams),
            int(pol),
            kk,
            aux_arr.ctypes.data_as(_f32p) if aux_arr is not None else None,
            aux_arr.size if aux_arr is not None else 0,
            float(important_ratio),
            int(seed),
            int(image_pivots),
            int(text_pivots),
            ctypes.pointer(c_rows) if c_rows is not None else None,
            float(relevance_theta),
        )
        c_tokens = self._c_tokens(view, grid, scored=pol == Policy.RECONPRUNER and aux_arr is None)
        out = np.empty(kk, dtype=np.int64)
        self._call("fastdrive_select", deadline,
                   lambda handle: fn(handle, ctypes.byref(c_tokens), ctypes.byref(params), out.ctypes.data_as(_i64p)))
        return out


def _reconstruct(arguments: Tuple[Any, ...], keywords: dict) -> Pruner:
    """Unpickling and copies: a new Pruner from the same path and options."""
    return Pruner(*arguments, **keywords)
