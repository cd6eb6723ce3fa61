"""Reads and writes safetensors files with numpy alone (F64, F32, F16, BF16 and integer tensors).

BF16 has no numpy dtype: it is read by widening the 16 stored bits to the top half of a float32,
and written by rounding a float32 to its top 16 bits, to nearest with ties to even.
"""
import json
import struct

import numpy as np

NUMPY_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
                "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def bf16_bits_to_float32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def float32_to_bf16_bits(values):
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return np.where(np.isnan(values), 0x7FC0, rounded).astype(np.uint16)


def read(path):
    """Returns ({name: array}, {name: dtype string}, metadata); BF16 tensors come back as float32."""
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    metadata = header.pop("__metadata__", {})
    data = memoryview(blob)[8 + length:]
    tensors, dtypes = {}, {}
    for name, entry in header.items():
        start, end = entry["data_offsets"]
        dtype = entry["dtype"]
        raw = data[start:end]
        if dtype == "BF16":
            array = bf16_bits_to_float32(np.frombuffer(raw, dtype=np.uint16))
        else:
            array = np.frombuffer(raw, dtype=NUMPY_DTYPES[dtype]).copy()
        tensors[name] = array.reshape(entry["shape"])
        dtypes[name] = dtype
    return tensors, dtypes, metadata


def write(path, tensors, dtypes, metadata=None):
    """Writes tensors (sorted by name) with the given dtype strings, values rounded once to each."""
    header = {"__metadata__": metadata} if metadata else {}
    payload, offset = [], 0
    for name in sorted(tensors):
        dtype = dtypes[name]
        array = np.asarray(tensors[name])
        if dtype == "BF16":
            raw = float32_to_bf16_bits(array.astype(np.float32)).tobytes()
        else:
            raw = np.ascontiguousarray(array.astype(NUMPY_DTYPES[dtype])).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        payload.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(payload))
