# qwen2_5_vl.py — ReconPruner inside transformers' Qwen2.5-VL: vision tower once, top-K per image, pruned LLM inputs.
"""Plug ReconPruner into a transformers ``Qwen2_5_VLForConditionalGeneration`` (e.g. Impromptu-VLA).

    from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration
    from fastdrive_pruner import Pruner
    from fastdrive_pruner.integrations import qwen2_5_vl as fdq

    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(path)
    inputs = processor(text=[prompt], images=cameras, return_tensors="pt")   # input_ids, attention_mask,
                                                                              # pixel_values, image_grid_thw
    with Pruner("pruner.safetensors") as pruner:
        pruned = fdq.prune_inputs(model, pruner, **inputs, ratio=0.5)       # keep 50 % of each image
    logits = fdq.prefill(model, pruned).logits                              # one prefill, fewer tokens
    out = fdq.generate(model, pruned, max_new_tokens=32, do_sample=False)   # or decode as usual
    new_tokens = out[:, pruned.input_ids.shape[1]:]

What :func:`prune_inputs` does (all checks first, then the model work):

1. Checks the inputs: ``image_grid_thw`` must match the image placeholders of ``input_ids`` (one
   contiguous run of ``image_token_id`` of ``t·h·w / merge²`` tokens per image, images in order,
   row by row, the order ``masked_scatter`` fills them in), ``pixel_values`` must hold ``t·h·w``
   patches per image, the keep ratio must be in (0, 1] (or K in 1..N), the pruner's hidden size
   must equal the vision tower's output size (``vision_config.out_hidden_size``), and each frame
   must fit the pruner's ``max_tokens``. Any violation raises before the vision tower runs.
2. Runs the vision tower once (``model.model.get_image_features``, the call the model's own
   forward makes), or takes precomputed ``image_embeds``.
3. Scores each image with the runtime: frame by frame with ``grid = (h/merge, w/merge)`` (so a
   ``rope = mrope`` pruner sees the token grid the LLM sees), then keeps the K highest scores of
   the image (``K = floor(ratio·N)`` clamped to [1, N], or the given K), indices ascending.
4. Rebuilds the LLM inputs: ``input_ids`` / ``attention_mask`` without the dropped placeholders,
   ``inputs_embeds`` = token embeddings with the kept image embeddings scattered in (original
   order), and 3-D M-RoPE ``position_ids`` gathered from the model's own ``get_rope_index`` on the
   unpruned input: every kept token keeps its (t, h, w) position and the text after an image
   keeps its original positions (the paper keeps positions; the sequence just has gaps).
   ``rope_deltas`` are recomputed for the shorter sequence, so decoding continues at the
   position the unpruned prompt would have.

Batches: rows may have different images; if images are pruned to different lengths the rows are
re-padded on the side the input was padded on (left if unpadded) with ``attention_mask = 0``.
Videos (``video_token_id`` placeholders) are not supported.

Images with ``t > 1`` temporal patches (not produced by Qwen2.5-VL's image processor, which uses
t = 1) are scored frame by frame and K is chosen over all of the image's tokens.
"""
from __future__ import annotations

import dataclasses
import inspect
import numbers
import os
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

try:
    import torch
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "fastdrive_pruner.integrations.qwen2_5_vl needs torch and transformers: "
        "pip install 'fastdrive-pruner[vla]' (on a CPU machine install the CPU-only torch first: "
        "pip install torch --index-url https://download.pytorch.org/whl/cpu)"
    ) from e

from ..errors import (
    CapacityError,
    InvalidArgumentError,
    ShapeError,
    UnsupportedError,
)
from ..pruner import Pruner, keep_count

__all__ = [
    "PrunedInputs",
    "ImageSpan",
    "prune_inputs",
    "rebuild_inputs",
    "plan_images",
    "full_position_ids",
    "prefill",
    "generate",
]

PathLike = Union[str, "os.PathLike[str]"]
PerImage = Union[None, float, int, Sequence[Any]]


# --------------------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True)
class ImageSpan:
    """Where one image's placeholders sit and how its tokens are laid out.

    Attributes:
        index: image number (row of ``image_grid_thw``).
        row: batch row of ``input_ids`` holding its placeholders.
        start: sequence position of its first placeholder.
        t, h, w: LLM token grid (``image_grid_thw`` row with h and w divided by the merge size).
        offset: first row of this image in the concatenated vision output.
    """

    index: int
    row: int
    start: int
    t: int
    h: int
    w: int
    offset: int

    @property
    def n_tokens(self) -> int:
        """Visual tokens of the image after the spatial merge, ``t·h·w``."""
        return self.t * self.h * self.w

    @property
    def frame_tokens(self) -> int:
        """Tokens per temporal frame, ``h·w`` (what one pruner call scores)."""
        return self.h * self.w


@dataclasses.dataclass
class PrunedInputs:
    """The LLM inputs after pruning, plus what was kept and what it cost.

    Attributes:
        input_ids: [B, L'] ids without the dropped image placeholders (re-padded if needed).
        attention_mask: [B, L'] 1 = real token.
        inputs_embeds: [B, L', D] token embeddings with the kept image embeddings scattered in.
        position_ids: [3, B, L'] M-RoPE (t, h, w) positions: the unpruned ones of the kept tokens.
        rope_deltas: [B, 1] ``max position + 1 - real tokens`` of the pruned rows (for decoding).
        image_embeds: [sum K, D] kept vision tokens, images in order, tokens in original order.
        kept: per image, int64 indices (ascending) of the kept tokens within the image.
        scores: per image, float32 ReconPruner scores of all its tokens (None when not scored).
        images: per image, its :class:`ImageSpan`.
        source_positions: [B, L'] int64, for each pruned position the position it had in the
            unpruned ``input_ids`` (-1 for padding added by the rebuild).
        timings: seconds spent in ``vision`` (tower), ``score`` (runtime score + top-K) and
            ``rebuild`` (position ids, gathers, embedding).
    """

    input_ids: "torch.Tensor"
    attention_mask: "torch.Tensor"
    inputs_embeds: "torch.Tensor"
    position_ids: "torch.Tensor"
    rope_deltas: "torch.Tensor"
    image_embeds: "torch.Tensor"
    kept: List[np.ndarray]
    scores: List[Optional[np.ndarray]]
    images: List[ImageSpan]
    source_positions: "torch.Tensor"
    timings: Dict[str, float]

    @property
    def keep_counts(self) -> List[int]:
        """K of each image."""
        return [int(k.size) for k in self.kept]

    @property
    def token_counts(self) -> List[int]:
        """N of each image (before pruning)."""
        return [img.n_tokens for img in self.images]

    def model_inputs(self) -> Dict[str, "torch.Tensor"]:
        """Keyword arguments for ``model(...)``: inputs_embeds, attention_mask, position_ids."""
        return {
            "inputs_embeds": self.inputs_embeds,
            "attention_mask": self.attention_mask,
            "position_ids": self.position_ids,
        }


# --------------------------------------------------------------------------- helpers


def _base(model: Any) -> Any:
    """The ``Qwen2_5_VLModel`` inside a ``...ForConditionalGeneration`` (or the model itself)."""
    inner = getattr(model, "model", None)
    if inner is not None and hasattr(inner, "get_rope_index") and hasattr(inner, "visual"):
        return inner
    if hasattr(model, "get_rope_index") and hasattr(model, "visual"):
        return model
    raise InvalidArgumentError(
        f"expected a transformers Qwen2_5_VLForConditionalGeneration or Qwen2_5_VLModel, got {type(model).__name__}"
    )


def _per_image(value: Any, n_images: int, name: str) -> List[Any]:
    """A scalar broadcast to every image, or a per-image sequence of the right length."""
    if isinstance(value, (list, tuple, np.ndarray)) or (isinstance(value, torch.Tensor) and value.ndim > 0):
        values = list(value.tolist() if hasattr(value, "tolist") else value)
        if len(values) != n_images:
            raise InvalidArgumentError(f"{name} has {len(values)} entries for {n_images} images")
        return values
    return [value] * n_images


def _as_2d_long(x: Any, name: str) -> "torch.Tensor":
    t = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if t.ndim == 1:
        t = t.unsqueeze(0)
    if t.ndim != 2:
        raise ShapeError(f"{name} must be [batch, seq_len], got shape {tuple(t.shape)}")
    if t.dtype.is_floating_point or t.is_complex():
        raise InvalidArgumentError(f"{name} must hold integers, got {t.dtype}")
    return t.long()


def _runs(mask_row: "torch.Tensor") -> List[Tuple[int, int]]:
    """(start, length) of each maximal run of True in a 1-D bool tensor."""
    m = mask_row.to(torch.int8)
    if not bool(m.any()):
        return []
    d = torch.diff(torch.cat([m.new_zeros(1), m, m.new_zeros(1)]))
    starts = torch.nonzero(d == 1).flatten().tolist()
    ends = torch.nonzero(d == -1).flatten().tolist()
    return [(s, e - s) for s, e in zip(starts, ends)]


def plan_images(
    model: Any,
    input_ids: Any,
    image_grid_thw: Any,
    attention_mask: Any = None,
) -> List[ImageSpan]:
    """Match ``image_grid_thw`` to the image placeholders of ``input_ids`` (no model work).

    Each image needs its own contiguous run of ``image_token_id`` placeholders of length
    ``t·h·w / merge²``; runs are taken row by row, left to right, in ``image_grid_thw`` order.

    Raises:
        ShapeError: a grid that does not fit its placeholders (message names the image), or h / w
            not divisible by the spatial merge size.
        InvalidArgumentError: malformed arguments, or video placeholders (unsupported).
    """
    base = _base(model)
    cfg = base.config
    merge = int(cfg.vision_config.spatial_merge_size)
    ids = _as_2d_long(input_ids, "input_ids")
    if image_grid_thw is None:
        raise InvalidArgumentError("image_grid_thw is required (the processor's output for the images)")
    grid = image_grid_thw if isinstance(image_grid_thw, torch.Tensor) else torch.as_tensor(np.asarray(image_grid_thw))
    if grid.ndim != 2 or grid.shape[1] != 3 or grid.shape[0] < 1 or grid.dtype.is_floating_point:
        raise ShapeError(f"image_grid_thw must be an integer tensor [n_images, 3], got {tuple(grid.shape)} {grid.dtype}")
    grid = grid.long().cpu()
    if attention_mask is not None:
        am = _as_2d_long(attention_mask, "attention_mask")
        if am.shape != ids.shape:
            raise ShapeError(f"attention_mask shape {tuple(am.shape)} != input_ids shape {tuple(ids.shape)}")
    video_id = getattr(cfg, "video_token_id", None)
    if video_id is not None and bool((ids == int(video_id)).any()):
        raise InvalidArgumentError("input_ids hold video placeholders (video_token_id): videos are not supported")

    counts = []
    for i, (t, h, w) in enumerate(grid.tolist()):
        if t < 1 or h < 1 or w < 1:
            raise ShapeError(f"image {i}: image_grid_thw {[t, h, w]} must be positive")
        if h % merge or w % merge:
            raise ShapeError(
                f"image {i}: image_grid_thw {[t, h, w]}: h and w must be multiples of the spatial merge size {merge}"
            )
        counts.append(t * (h // merge) * (w // merge))

    image_mask = ids.cpu() == int(cfg.image_token_id)
    runs = [(b, s, n) for b in range(ids.shape[0]) for s, n in _runs(image_mask[b])]
    n_placeholders = int(image_mask.sum())
    per_image = ", ".join(str(c) for c in counts)
    if len(runs) != len(counts) or n_placeholders != sum(counts):
        raise ShapeError(
            f"image_grid_thw describes {len(counts)} image(s) with {sum(counts)} tokens after the "
            f"{merge}x{merge} merge ({per_image}), but input_ids hold {n_placeholders} image placeholder tokens "
            f"(image_token_id={int(cfg.image_token_id)}) in {len(runs)} run(s)"
            + (f" of {', '.join(str(r[2]) for r in runs)}" if runs else "")
        )
    spans = []
    offset = 0
    for i, ((b, s, n), c, (t, h, w)) in enumerate(zip(runs, counts, grid.tolist())):
        if n != c:
            raise ShapeError(
                f"image {i}: image_grid_thw {[t, h, w]} gives {c} tokens after the {merge}x{merge} merge, but its "
                f"placeholder run (row {b}, position {s}) has {n} tokens"
            )
        if attention_mask is not None and not bool(am[b, s : s + n].all()):
            raise ShapeError(f"image {i}: attention_mask masks out some of its placeholders (row {b}, position {s})")
        spans.append(ImageSpan(i, b, s, t, h // merge, w // merge, offset))
        offset += c
    return spans


def _keep_counts(spans: Sequence[ImageSpan], ratio: PerImage, k: PerImage) -> List[int]:
    if (ratio is None) == (k is None):
        raise InvalidArgumentError("give exactly one of ratio (keep share in (0, 1]) or k (tokens kept per image)")
    out = []
    if ratio is not None:
        for img, r in zip(spans, _per_image(ratio, len(spans), "ratio")):
            try:
                out.append(keep_count(img.n_tokens, r))  # validates r in (0, 1]
            except InvalidArgumentError as e:
                raise InvalidArgumentError(f"image {img.index}: {e.message}") from None
    else:
        for img, kk in zip(spans, _per_image(k, len(spans), "k")):
            if isinstance(kk, bool) or not isinstance(kk, numbers.Integral) or not 1 <= int(kk) <= img.n_tokens:
                raise InvalidArgumentError(f"image {img.index}: k = {kk!r} is out of range 1..{img.n_tokens} (its tokens)")
            out.append(int(kk))
    return out


def full_position_ids(
    model: Any,
    input_ids: "torch.Tensor",
    image_grid_thw: "torch.Tensor",
    attention_mask: Optional["torch.Tensor"] = None,
    mm_token_type_ids: Optional["torch.Tensor"] = None,
) -> Tuple["torch.Tensor", "torch.Tensor"]:
    """The model's own 3-D M-RoPE positions and rope deltas of the unpruned input (``get_rope_index``)."""
    base = _base(model)
    ids = _as_2d_long(input_ids, "input_ids")
    if mm_token_type_ids is None:
        mm_token_type_ids = (ids == int(base.config.image_token_id)).to(torch.int32)
        video_id = getattr(base.config, "video_token_id", None)
        if video_id is not None:
            mm_token_type_ids = torch.where(ids == int(video_id), 2, mm_token_type_ids).to(torch.int32)
    kwargs = dict(image_grid_thw=image_grid_thw, attention_mask=attention_mask)
    if "mm_token_type_ids" in inspect.signature(base.get_rope_index).parameters:  # transformers >= 5
        kwargs["mm_token_type_ids"] = mm_token_type_ids
    return base.get_rope_index(ids, **kwargs)


def _to_cpu_tokens(x: "torch.Tensor") -> "torch.Tensor":
    """Vision tokens as a CPU tensor the runtime reads (f32 / f16 / bf16), without copying when possible."""
    x = x.detach()
    if x.device.type != "cpu":
        x = x.to("cpu")
    if x.dtype not in (torch.float32, torch.float16, torch.bfloat16):
        x = x.to(torch.float32)
    return x


def _score_images(pruner: Pruner, embeds: "torch.Tensor", spans: Sequence[ImageSpan], batch: bool) -> List[np.ndarray]:
    """Score every image frame by frame (grid = h×w), batching frames into score_batch calls when they fit."""
    frames: List[Tuple[int, "torch.Tensor", Tuple[int, int]]] = []
    for img in spans:
        tokens = _to_cpu_tokens(embeds[img.offset : img.offset + img.n_tokens])
        for f in range(img.t):
            frames.append((img.index, tokens[f * img.frame_tokens : (f + 1) * img.frame_tokens], (img.h, img.w)))
    per_image: Dict[int, List[np.ndarray]] = {img.index: [] for img in spans}
    cap = pruner.max_tokens
    i = 0
    while i < len(frames):
        # greedy chunk: score_batch needs sum(n) + n_frames - 1 <= max_tokens and <= 64 frames
        j, used = i, 0
        while j < len(frames) and j - i < 64:
            need = used + frames[j][1].shape[0] + (1 if j > i else 0)
            if need > cap:
                break
            used, j = need, j + 1
        if batch and j - i > 1:
            try:
                outs = pruner.score_batch([fr[1] for fr in frames[i:j]], grids=[fr[2] for fr in frames[i:j]])
            except UnsupportedError:  # library without score_batch: one call per frame
                batch = False
                continue
            for fr, s in zip(frames[i:j], outs):
                per_image[fr[0]].append(s)
            i = j
        else:
            per_image[frames[i][0]].append(pruner.score(frames[i][1], grid=frames[i][2]))
            i += 1
    return [np.concatenate(per_image[img.index]) for img in spans]


# --------------------------------------------------------------------------- main entry points


def rebuild_inputs(
    model: Any,
    input_ids: Any,
    image_grid_thw: Any,
    image_embeds: "torch.Tensor",
    kept: Sequence[Any],
    attention_mask: Any = None,
    mm_token_type_ids: Any = None,
    spans: Optional[Sequence[ImageSpan]] = None,
) -> Dict[str, Any]:
    """The pruned LLM inputs for given kept indices (no scoring): the rebuild step of :func:`prune_inputs`.

    Args:
        image_embeds: [sum N, D] vision output of all images (``get_image_features``, concatenated).
        kept: per image, ascending indices into that image's tokens.

    Returns:
        dict with input_ids, attention_mask, inputs_embeds, position_ids, rope_deltas,
        image_embeds (kept), source_positions.
    """
    base = _base(model)
    cfg = base.config
    ids = _as_2d_long(input_ids, "input_ids")
    device = ids.device
    am = (
        torch.ones_like(ids)
        if attention_mask is None
        else _as_2d_long(attention_mask, "attention_mask").to(device)
    )
    if spans is None:
        spans = plan_images(model, ids, image_grid_thw, am)
    if len(kept) != len(spans):
        raise InvalidArgumentError(f"kept has {len(kept)} entries for {len(spans)} images")
    kept_t = []
    for img, k in zip(spans, kept):
        k = torch.as_tensor(np.asarray(k), dtype=torch.long)
        if k.ndim != 1 or k.numel() < 1 or int(k.min()) < 0 or int(k.max()) >= img.n_tokens or (
            k.numel() > 1 and not bool((k[1:] > k[:-1]).all())
        ):
            raise InvalidArgumentError(f"image {img.index}: kept must be ascending indices in 0..{img.n_tokens - 1}")
        kept_t.append(k)

    grid = image_grid_thw if isinstance(image_grid_thw, torch.Tensor) else torch.as_tensor(np.asarray(image_grid_thw))
    grid = grid.long().to(device)
    pos_full, _ = full_position_ids(model, ids, grid, am, mm_token_type_ids)

    # which sequence positions survive: everything but the dropped placeholders
    keep_pos = torch.ones(ids.shape, dtype=torch.bool)
    for img, k in zip(spans, kept_t):
        drop = torch.ones(img.n_tokens, dtype=torch.bool)
        drop[k] = False
        keep_pos[img.row, img.start : img.start + img.n_tokens] = ~drop
    keep_pos = keep_pos.to(device)
    lengths = keep_pos.sum(1)
    new_len = int(lengths.max())
    B = ids.shape[0]
    # pad on the side the input was padded on (right if any row ends in padding, else left)
    right = bool((am[:, -1] == 0).any()) and not bool((am[:, 0] == 0).any())

    src = torch.full((B, new_len), -1, dtype=torch.long, device=device)
    for b in range(B):
        cols = torch.nonzero(keep_pos[b]).flatten()
        if right:
            src[b, : cols.numel()] = cols
        else:
            src[b, new_len - cols.numel() :] = cols
    valid = src >= 0
    safe = src.clamp(min=0)
    pad_id = cfg.text_config.pad_token_id if getattr(cfg.text_config, "pad_token_id", None) is not None else 0
    new_ids = torch.where(valid, torch.gather(ids, 1, safe), torch.full_like(safe, int(pad_id)))
    new_am = torch.where(valid, torch.gather(am, 1, safe), torch.zeros_like(safe))
    new_pos = torch.where(
        valid.unsqueeze(0), torch.gather(pos_full, 2, safe.unsqueeze(0).expand(3, -1, -1)), torch.zeros_like(safe)
    )
    real = new_am.bool()
    max_pos = torch.where(real.unsqueeze(0), new_pos, torch.zeros_like(new_pos)).amax(dim=(0, 2))
    rope_deltas = (max_pos + 1 - real.sum(1)).unsqueeze(1)

    image_mask = valid & (new_ids == int(cfg.image_token_id))
    kept_embeds = torch.cat(
        [image_embeds[img.offset + k.to(image_embeds.device)] for img, k in zip(spans, kept_t)], dim=0
    )
    embed = model.get_input_embeddings()
    inputs_embeds = embed(new_ids)
    inputs_embeds = inputs_embeds.masked_scatter(
        image_mask.unsqueeze(-1).to(inputs_embeds.device), kept_embeds.to(inputs_embeds.device, inputs_embeds.dtype)
    )
    return {
        "input_ids": new_ids,
        "attention_mask": new_am,
        "inputs_embeds": inputs_embeds,
        "position_ids": new_pos,
        "rope_deltas": rope_deltas,
        "image_embeds": kept_embeds,
        "source_positions": src,
    }


def prune_inputs(
    model: Any,
    pruner: Union[Pruner, PathLike],
    input_ids: Any,
    attention_mask: Any = None,
    pixel_values: Optional["torch.Tensor"] = None,
    image_grid_thw: Any = None,
    *,
    ratio: PerImage = None,
    k: PerImage = None,
    mm_token_type_ids: Any = None,
    image_embeds: Optional["torch.Tensor"] = None,
    batch_frames: bool = True,
    **unused: Any,
) -> PrunedInputs:
    """Run the vision tower once, keep the top-K tokens of each image, rebuild the LLM inputs.

    Args:
        model: a ``Qwen2_5_VLForConditionalGeneration`` (or ``Qwen2_5_VLModel``).
        pruner: a :class:`~fastdrive_pruner.Pruner`, or a weight-file path (opened with
            ``max_tokens`` = the largest frame, closed after).
        input_ids, attention_mask, pixel_values, image_grid_thw, mm_token_type_ids: the processor's
            outputs (pass ``**processor(...)``); ``mm_token_type_ids`` is derived from input_ids
            if absent. Other processor keys (e.g. ``token_type_ids``) are ignored.
        ratio: keep share in (0, 1] (``K = floor(ratio·N)`` clamped to [1, N]), one for all images
            or one per image. ``ratio = 1`` keeps everything.
        k: tokens to keep per image (int, or one per image), instead of ratio.
        image_embeds: precomputed vision output [sum N, D] (what ``get_image_features`` returns,
            concatenated) instead of ``pixel_values``; the vision tower is then skipped.
        batch_frames: score several frames per runtime call (``score_batch``) when they fit.

    Returns:
        :class:`PrunedInputs`; feed ``.model_inputs()`` to the model, or use :func:`prefill` /
        :func:`generate`.

    Raises (all before any model work):
        ShapeError: ``image_grid_thw`` does not match the placeholders, ``pixel_values`` /
            ``image_embeds`` do not match the grids, or the pruner's hidden size differs from
            the vision tower's output size.
        InvalidArgumentError: ratio outside (0, 1], k out of range, both or neither given,
            videos, neither pixel_values nor image_embeds.
        CapacityError: a frame has more tokens than the pruner's ``max_tokens``.
    """
    unknown = sorted(set(unused) - {"token_type_ids", "second_per_grid_ts"})
    if unknown:
        raise TypeError(f"prune_inputs got unexpected argument(s): {', '.join(unknown)}")
    if unused.get("second_per_grid_ts") is not None:
        raise InvalidArgumentError("second_per_grid_ts is for videos, which are not supported")
    base = _base(model)
    vcfg = base.config.vision_config
    out_dim = int(vcfg.out_hidden_size)
    text_dim = int(base.config.text_config.hidden_size)
    if out_dim != text_dim:  # pragma: no cover - every Qwen2.5-VL has them equal
        raise ShapeError(f"vision out_hidden_size {out_dim} != text hidden_size {text_dim}")

    # ---- checks, before any model work
    ids = _as_2d_long(input_ids, "input_ids")
    spans = plan_images(model, ids, image_grid_thw, attention_mask)
    ks = _keep_counts(spans, ratio, k)
    merge = int(vcfg.spatial_merge_size)
    n_patches = sum(img.n_tokens * merge * merge for img in spans)
    n_tokens = sum(img.n_tokens for img in spans)
    if image_embeds is None:
        if pixel_values is None:
            raise InvalidArgumentError("give pixel_values (or precomputed image_embeds)")
        if pixel_values.ndim != 2 or pixel_values.shape[0] != n_patches:
            raise ShapeError(
                f"pixel_values has shape {tuple(pixel_values.shape)} but image_grid_thw needs "
                f"[{n_patches}, patch_dim] (sum of t·h·w over the images)"
            )
    else:
        if pixel_values is not None:
            raise InvalidArgumentError("give pixel_values or image_embeds, not both")
        if image_embeds.ndim != 2 or image_embeds.shape[0] != n_tokens or image_embeds.shape[1] != out_dim:
            raise ShapeError(
                f"image_embeds has shape {tuple(image_embeds.shape)}, expected [{n_tokens}, {out_dim}] for these images"
            )
    own = not isinstance(pruner, Pruner)
    if own:
        pruner = Pruner(pruner, max_tokens=max(img.frame_tokens for img in spans))
    try:
        if pruner.hidden_size != out_dim:
            raise ShapeError(
                f"the pruner's hidden size {pruner.hidden_size} ({pruner.path}) != the vision tower's output size "
                f"{out_dim} (vision_config.out_hidden_size): this pruner was trained for another model"
            )
        big = max(spans, key=lambda s: s.frame_tokens)
        if big.frame_tokens > pruner.max_tokens:
            raise CapacityError(
                f"image {big.index} has {big.frame_tokens} tokens per frame ({big.h}x{big.w}) but the pruner was "
                f"created with max_tokens={pruner.max_tokens}; create it with max_tokens >= {big.frame_tokens}"
            )

        # ---- vision tower, once
        timings = {"vision": 0.0, "score": 0.0, "rebuild": 0.0}
        t0 = time.perf_counter()
        if image_embeds is None:
            with torch.no_grad():
                feats = base.get_image_features(pixel_values, image_grid_thw)
            feats = getattr(feats, "pooler_output", feats)  # transformers 5: an output object; 4: the split tensors
            image_embeds = feats if isinstance(feats, torch.Tensor) else torch.cat(list(feats), dim=0)
        image_embeds = image_embeds.detach()
        timings["vision"] = time.perf_counter() - t0

        # ---- score + top-K per image
        t0 = time.perf_counter()
        need_scores = [kk < img.n_tokens for img, kk in zip(spans, ks)]
        scores: List[Optional[np.ndarray]] = [None] * len(spans)
        to_score = [img for img, need in zip(spans, need_scores) if need]
        if to_score:
            for img, s in zip(to_score, _score_images(pruner, image_embeds, to_score, batch_frames)):
                scores[img.index] = s
        kept = []
        for img, kk in zip(spans, ks):
            if kk == img.n_tokens:
                kept.append(np.arange(img.n_tokens, dtype=np.int64))
            else:
                s = scores[img.index]
                kept.append(pruner.topk(s, kk))
        timings["score"] = time.perf_counter() - t0
    finally:
        if own:
            pruner.close()

    # ---- rebuild the LLM inputs
    t0 = time.perf_counter()
    with torch.no_grad():
        rebuilt = rebuild_inputs(
            model, ids, image_grid_thw, image_embeds, kept, attention_mask, mm_token_type_ids, spans=spans
        )
    timings["rebuild"] = time.perf_counter() - t0
    return PrunedInputs(
        kept=kept,
        scores=scores,
        images=list(spans),
        timings=timings,
        **rebuilt,
    )


def prefill(model: Any, pruned: PrunedInputs, **kwargs: Any) -> Any:
    """One forward pass over the pruned prompt: ``model(**pruned.model_inputs(), **kwargs)``.

    Sets ``model.model.rope_deltas`` to the pruned rows' deltas, so a manual decode loop that feeds
    ``cache`` without ``position_ids`` continues at the right positions.
    """
    base = _base(model)
    base.rope_deltas = pruned.rope_deltas
    with torch.no_grad():
        return model(**pruned.model_inputs(), **kwargs)


def generate(model: Any, pruned: PrunedInputs, **kwargs: Any) -> "torch.Tensor":
    """``model.generate`` over the pruned prompt (inputs_embeds + explicit 3-D position_ids).

    transformers 5 extends explicit ``position_ids`` by +1 per generated token from the last prompt
    position, which is the position the unpruned prompt would continue at. Returns the usual
    output of ``generate``; sequences start with ``pruned.input_ids`` (new tokens:
    ``out[:, pruned.input_ids.shape[1]:]``).
    """
    base = _base(model)
    base.rope_deltas = pruned.rope_deltas
    with torch.no_grad():
        return model.generate(
            input_ids=pruned.input_ids,
            inputs_embeds=pruned.inputs_embeds,
            attention_mask=pruned.attention_mask,
            position_ids=pruned.position_ids,
            **kwargs,
        )
