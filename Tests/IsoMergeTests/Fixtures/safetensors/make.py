#!/usr/bin/env python3
"""Writes the safetensors fixtures with the reference `safetensors` package (pip install safetensors
ml_dtypes numpy). The Swift tests recompute the same values, so only the files are committed."""
import json
import os

import ml_dtypes
import numpy as np
from safetensors.numpy import save_file

here = os.path.dirname(os.path.abspath(__file__))


def ramp(shape, scale, offset, dtype):
    n = int(np.prod(shape)) if shape else 1
    return (np.arange(n, dtype=np.float64) * scale + offset).reshape(shape).astype(dtype)


# Every dtype IsoMerge converts or carries, plus a scalar, an empty tensor and metadata.
tensors = {
    "f64": ramp((2, 3), 0.1, -0.25, np.float64),
    "f32": ramp((3, 2), 0.5, -1.0, np.float32),
    "f16": ramp((4,), 0.3, -0.6, np.float16),
    "bf16": ramp((2, 2), 0.7, -1.1, ml_dtypes.bfloat16),
    "i64": np.array([-3, 0, 7, 2**40], dtype=np.int64),
    "u8": np.array([0, 1, 255], dtype=np.uint8),
    "mask": np.array([True, False, True], dtype=np.bool_),
    "scalar": np.array(2.5, dtype=np.float32),
    "empty": np.zeros((0, 3), dtype=np.float32),
}
save_file(tensors, os.path.join(here, "dtypes.safetensors"), metadata={"format": "pt", "note": "fixture"})

# What our writer must reproduce byte for byte: float tensors given as exactly representable values.
exact = {
    "layer.weight": ramp((3, 4), 0.25, -1.0, np.float32),
    "layer.bias": ramp((4,), 0.5, 0.0, np.float16),
    "embed": ramp((2, 3), 0.125, -0.5, ml_dtypes.bfloat16),
    "double": ramp((2,), 1.5, 1.0, np.float64),
}
save_file(exact, os.path.join(here, "reference-writer.safetensors"), metadata={"format": "pt", "method": "iso_c"})

# A sharded checkpoint in the Hugging Face layout.
sharded = os.path.join(here, "sharded")
os.makedirs(sharded, exist_ok=True)
shard_tensors = [
    {"a.weight": ramp((2, 2), 1.0, 0.0, np.float32), "b.weight": ramp((3,), 1.0, 10.0, np.float32)},
    {"c.weight": ramp((2, 3), 1.0, 20.0, np.float32)},
]
weight_map, total = {}, 0
for i, group in enumerate(shard_tensors):
    name = f"model-{i + 1:05d}-of-{len(shard_tensors):05d}.safetensors"
    save_file(group, os.path.join(sharded, name), metadata={"format": "pt"})
    for key, value in group.items():
        weight_map[key] = name
        total += value.nbytes
with open(os.path.join(sharded, "model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
    f.write("\n")
