# quickstart.py — the README's "Use from Python" example: score and prune one 6×6 frame (run next to pruner.safetensors).
import numpy as np
from fastdrive_pruner import Pruner

tokens = np.random.default_rng(0).standard_normal((36, 128), dtype=np.float32)  # one 6×6 frame, D = 128
with Pruner("pruner.safetensors", max_tokens=4096) as p:
    scores = p.score(tokens, grid=(6, 6))                 # float32 [36], higher = more foreground
    keep, kept = p.prune(tokens, ratio=0.5, grid=(6, 6))  # 18 ascending indices, kept = tokens[keep]
print(keep, kept.shape)
