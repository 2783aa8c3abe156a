# integrations/__init__.py — optional adapters that plug the pruner into model frameworks (torch + transformers).
"""Optional integrations of :mod:`fastdrive_pruner` with model frameworks.

Each submodule imports its framework lazily, so ``import fastdrive_pruner.integrations`` costs
nothing; importing a submodule needs the framework (install the ``vla`` extra):

- :mod:`fastdrive_pruner.integrations.qwen2_5_vl`: Qwen2.5-VL in transformers (e.g. Impromptu-VLA)
  with ReconPruner-pruned visual tokens: run the vision tower once, keep the top-K tokens per image,
  rebuild ``inputs_embeds`` / ``attention_mask`` / 3-D M-RoPE ``position_ids``, prefill or generate.
"""

__all__ = ["qwen2_5_vl"]
