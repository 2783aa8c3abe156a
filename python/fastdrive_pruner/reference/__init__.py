# reference/__init__.py — the two independent implementations of ReconPruner the runtime is checked against.
"""Reference implementations of what the runtime computes: test oracles, not fast.

Two are kept, on purpose, because each catches what the other cannot:

* :mod:`~fastdrive_pruner.reference.transformers_layer` runs transformers' own
  ``Qwen2_5_VLDecoderLayer`` (eager attention, float32) with its own rotary embedding, plus the
  query row, Hadamard fusion and scorer. It is the ground truth by definition: the runtime is
  specified as "exactly that layer", so a misreading of the model (a norm, a bias, the GQA
  grouping, M-RoPE's section layout) shows up against it.
* :mod:`~fastdrive_pruner.reference.numpy_float64` is a from-scratch NumPy transcription of the
  math in float64 that reads the weight file byte by byte, sharing no code with transformers,
  torch or the safetensors package. It shows mistakes in how we *drive* transformers (config,
  position ids, the mask: e.g. sdpa's silent causal default), in the writer, and in the file
  itself, none of which the transformers path can see about itself.

The fixture generator (``scripts/make_reference.py``) asserts that the two agree on every
committed case; the runtime's tests compare against the transformers scores, the trainer's
against both. :mod:`~fastdrive_pruner.reference.weights` writes, reads and draws random weight
files for tests, examples and benchmarks. The weight file's names, shapes and defaults come from
:mod:`fastdrive_pruner.schema`, the single definition.

``numpy_float64`` needs NumPy only; ``transformers_layer`` and ``weights`` need the ``reference``
extra (torch, transformers, safetensors).
"""

__all__ = ["score_tolerance"]


def score_tolerance(reference_scores) -> float:
    """The runtime's f32 tolerance on max |S - S_ref|: 1e-3 · max(1, max |S_ref|)."""
    import numpy as np

    ref = np.asarray(reference_scores)
    return 1e-3 * max(1.0, float(np.max(np.abs(ref))) if ref.size else 1.0)
