#!/usr/bin/env python3
"""Writes the PyTorch fixtures with real `torch.save` (pip install torch safetensors numpy; tested with
torch 2.13.0+cpu and safetensors 0.8.0).

Each torch file comes with the safetensors file holding the same tensors (contiguous, little-endian,
same names, written by the safetensors package), so that the Swift tests compare what
IsoMerge reads from the torch file with bytes torch itself produced. Hostile files are real torch
zip archives (torch's own writer) whose data.pkl is hand-written.

    python3 scripts/make_torch_fixtures.py

Outputs: Tests/IsoMergeTests/Fixtures/torch/ (reader cases) and
Tests/CommandLineTests/Fixtures/torch/ (the paper's checkpoint layout, for merges).
"""
import collections
import enum
import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile

import torch
from safetensors.torch import save_file

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
reader_dir = os.path.join(root, "Tests/IsoMergeTests/Fixtures/torch")
paper_dir = os.path.join(root, "Tests/CommandLineTests/Fixtures/torch")


def write_safetensors(path, tensors):
    """`tensors` ({name: tensor}) as a safetensors file written by the safetensors package, as
    contiguous little-endian copies; their order goes in the metadata as "order" (a JSON list)."""
    copies = {name: tensor.detach().clone(memory_format=torch.contiguous_format) for name, tensor in tensors.items()}
    save_file(copies, path, metadata={"order": json.dumps(list(copies))})


def save(obj, path, **options):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(obj, path, **options)


def raw_archive(path, pickle_bytes, records=None, byteorder=b"little"):
    """A torch zip archive written by torch's own writer, with a hand-written data.pkl."""
    writer = torch._C.PyTorchFileWriter(path)
    writer.write_record("data.pkl", pickle_bytes, len(pickle_bytes))
    writer.write_record("byteorder", byteorder, len(byteorder))
    for name, data in (records or {}).items():
        writer.write_record(name, data, len(data))
    writer.write_end_of_file()


def reader_state_dict():
    """Every tensor layout a state dict can hold: views, offsets, shared storages, all dtypes."""
    torch.manual_seed(26)
    matrix = torch.randn(4, 6)
    shared = torch.randn(10)
    sd = collections.OrderedDict()
    sd["matrix"] = matrix
    sd["transposed"] = matrix.t()                      # strides (1, 6): a non-contiguous view
    sd["stepped"] = matrix[1:, ::2]                    # storage offset 6, strides (6, 2)
    sd["row"] = matrix[2]                              # contiguous, storage offset 12
    sd["shared.head"] = shared[:4]                     # two tensors on one storage
    sd["shared.tail"] = shared[4:].view(2, 3)
    sd["expanded"] = torch.arange(3, dtype=torch.float32).expand(2, 3)   # stride 0
    sd["scalar"] = torch.tensor(2.5)                   # 0-d
    sd["empty"] = torch.zeros(0, 3)
    sd["f64"] = torch.randn(2, 3, dtype=torch.float64)
    sd["f16"] = torch.randn(3, 2).half()
    sd["bf16"] = torch.randn(5).bfloat16()
    sd["bf16.t"] = torch.randn(2, 3).bfloat16().t()
    sd["i64"] = torch.tensor([-3, 0, 7, 2 ** 40])
    sd["i32"] = torch.tensor([-5, 9], dtype=torch.int32)
    sd["i16"] = torch.tensor([-300, 301], dtype=torch.int16)
    sd["i8"] = torch.tensor([-7, 8], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 1, 255], dtype=torch.uint8)
    sd["mask"] = torch.tensor([True, False, True])
    sd["param"] = torch.nn.Parameter(torch.randn(3))
    return sd


def swapped_archive(source, destination):
    """`source` rewritten as a big-endian machine would write it: byteorder 'big', each storage's
    elements byte-reversed (torch.load swaps them back)."""
    archive = zipfile.ZipFile(source)
    prefix = archive.namelist()[0].split("/")[0] + "/"
    pickle_bytes = archive.read(prefix + "data.pkl")
    element_size = {}

    class StorageRecorder(pickle.Unpickler):
        def persistent_load(self, saved_id):
            _, storage_type, key, _, numel = saved_id
            element_size[key] = storage_type.dtype.itemsize
            return storage_type(numel)

    StorageRecorder(io.BytesIO(pickle_bytes)).load()
    records = {}
    for key, size in element_size.items():
        data = archive.read(prefix + "data/" + key)
        records["data/" + key] = b"".join(data[i:i + size][::-1] for i in range(0, len(data), size))
    raw_archive(destination, pickle_bytes, records, byteorder=b"big")


# ---- whole-module pickles (Ilharco et al. / TALL-masks style) -------------------------------------

modeling = types.ModuleType("src.modeling")
sys.modules["src"] = types.ModuleType("src")
sys.modules["src.modeling"] = modeling


class InterpolationMode(enum.Enum):
    """Stands in for torchvision's enum: pickled as a call of the class (REDUCE)."""
    BICUBIC = "bicubic"


def convert_to_rgb(image):
    return image


class Preprocess:
    """Stands in for a torchvision Compose: a plain object with a list, an enum and a function."""

    def __init__(self):
        self.transforms = [("resize", 224, InterpolationMode.BICUBIC), convert_to_rgb]


class ResidualBlock(torch.nn.Module):
    def __init__(self, width):
        super().__init__()
        self.ln_1 = torch.nn.LayerNorm(width)
        self.attn = torch.nn.MultiheadAttention(width, 2)
        self.mlp = torch.nn.Sequential(collections.OrderedDict(
            c_fc=torch.nn.Linear(width, 2 * width), gelu=torch.nn.GELU(), c_proj=torch.nn.Linear(2 * width, width)))


class VisualTransformer(torch.nn.Module):
    def __init__(self, width, layers):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, width, kernel_size=2, stride=2, bias=False)
        self.class_embedding = torch.nn.Parameter(torch.randn(width))
        self.positional_embedding = torch.nn.Parameter(torch.randn(5, width))
        self.transformer = torch.nn.Module()
        self.transformer.resblocks = torch.nn.ModuleList([ResidualBlock(width) for _ in range(layers)])
        self.ln_post = torch.nn.LayerNorm(width)
        self.proj = torch.nn.Parameter(torch.randn(width, 4))
        self.register_parameter("unused_bias", None)            # None: not in the state dict
        self.register_buffer("attn_mask", torch.ones(5, 5), persistent=False)   # not in the state dict
        self.norm = torch.nn.BatchNorm1d(4)                     # buffers, an I64 counter among them


class CLIPLike(torch.nn.Module):
    def __init__(self, width, layers):
        super().__init__()
        self.visual = VisualTransformer(width, layers)
        self.logit_scale = torch.nn.Parameter(torch.tensor(4.6052))     # 0-d parameter


class ImageEncoder(torch.nn.Module):
    def __init__(self, width=8, layers=2):
        super().__init__()
        self.model = CLIPLike(width, layers)
        self.train_preprocess = Preprocess()
        self.cache_dir = "/tmp/openclip"


for cls in (InterpolationMode, Preprocess, ResidualBlock, VisualTransformer, CLIPLike, ImageEncoder):
    cls.__module__ = "src.modeling"
    setattr(modeling, cls.__name__, cls)
convert_to_rgb.__module__ = "src.modeling"
modeling.convert_to_rgb = convert_to_rgb


def fine_tuned(encoder, seed):
    """A copy of `encoder` with every float parameter moved a little."""
    import copy
    torch.manual_seed(seed)
    tuned = copy.deepcopy(encoder)
    with torch.no_grad():
        for parameter in tuned.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
        tuned.model.visual.norm.running_mean.add_(0.1 * seed)
    return tuned


# ---- hostile pickles ------------------------------------------------------------------------------

def tensor_pickle(key, offset, shape, stride, numel):
    """Protocol-2 pickle of {'w': tensor} whose FloatStorage `key` holds `numel` elements."""
    def small_tuple(values):
        return b"(" + b"".join(b"J" + struct.pack("<i", v) for v in values) + b"t"
    return (b"\x80\x02}(X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n("
            b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX" + struct.pack("<I", len(key)) + key.encode()
            + b"X\x03\x00\x00\x00cpuJ" + struct.pack("<i", numel) + b"tQJ" + struct.pack("<i", offset)
            + small_tuple(shape) + small_tuple(stride) + b"\x89ccollections\nOrderedDict\n)RtRu.")


def hostile():
    out = os.path.join(reader_dir, "hostile")
    os.makedirs(out, exist_ok=True)
    four_floats = struct.pack("<4f", 1, 2, 3, 4)
    # The classic: os.system('echo pwned') as the whole pickle.
    raw_archive(os.path.join(out, "os_system.pt"), b"\x80\x02cos\nsystem\nX\n\x00\x00\x00echo pwned\x85R.")
    # A call hidden among the tensors of a state dict (protocol 4, STACK_GLOBAL).
    raw_archive(os.path.join(out, "eval_in_state_dict.pt"),
                tensor_pickle("0", 0, [4], [1], 4)[:-2]
                + b"\x8c\x04evil\x8c\x08builtins\x8c\x04eval\x93\x8c\x0a__import__\x85Ru.",
                {"data/0": four_floats})
    # A call of a harmless but unknown callable where a tensor is looked for.
    raw_archive(os.path.join(out, "call_in_state_dict.pt"),
                tensor_pickle("0", 0, [4], [1], 4)[:-2] + b"X\x05\x00\x00\x00extraccollections\nCounter\n)Ru.",
                {"data/0": four_floats})
    # A call injected before a real state dict and its result discarded (as fickling injects).
    with zipfile.ZipFile(os.path.join(reader_dir, "state_dict.pt")) as source:
        real = source.read("state_dict/data.pkl")
        records = {name[len("state_dict/"):]: source.read(name) for name in source.namelist() if "/data/" in name}
    injected = b"\x80\x02ctorch.hub\nload\nX\x04\x00\x00\x00evilX\x05\x00\x00\x00model\x86R0" + real[2:]
    raw_archive(os.path.join(out, "injected_call.pt"), injected, records)
    # A tensor reaching past the end of its storage (offset 2 + 4 elements > 4).
    raw_archive(os.path.join(out, "offset_past_storage.pt"), tensor_pickle("0", 2, [4], [1], 4), {"data/0": four_floats})
    # A stride reaching past the end of its storage.
    raw_archive(os.path.join(out, "stride_past_storage.pt"), tensor_pickle("0", 0, [2, 2], [3, 1], 4),
                {"data/0": four_floats})
    # A storage the archive does not hold.
    raw_archive(os.path.join(out, "missing_storage.pt"), tensor_pickle("7", 0, [4], [1], 4), {"data/0": four_floats})
    # A storage record shorter than its declared element count.
    raw_archive(os.path.join(out, "short_storage.pt"), tensor_pickle("0", 0, [4], [1], 4), {"data/0": four_floats[:8]})
    # Recursion bomb: 5000 nested lists (each EMPTY_LIST APPENDed into the one below).
    raw_archive(os.path.join(out, "recursion_bomb.pt"), b"\x80\x02" + b"]" * 5000 + b"a" * 4999 + b".")
    # A memo index of 2^32 − 1.
    raw_archive(os.path.join(out, "memo_index.pt"), b"\x80\x02}r\xff\xff\xff\xff0j\xff\xff\xff\xff.")
    # Billion laughs: a list of two references to the previous list, 64 times over, as the
    # value of a state-dict key (2^64 paths to walk).
    laughs = b"\x80\x02}X\x01\x00\x00\x00w]q\x000"
    for level in range(64):
        laughs += b"h" + bytes([level]) + b"h" + bytes([level]) + b"\x86q" + bytes([level + 1]) + b"0"
    raw_archive(os.path.join(out, "billion_laughs.pt"), laughs + b"h\x40s.")
    # A shape whose element count overflows 64 bits.
    raw_archive(os.path.join(out, "shape_overflow.pt"), tensor_pickle("0", 0, [2 ** 31 - 1] * 3, [0, 0, 0], 4),
                {"data/0": four_floats})
    # The first half of a real checkpoint.
    with open(os.path.join(reader_dir, "state_dict.pt"), "rb") as f:
        whole = f.read()
    with open(os.path.join(out, "truncated.pt"), "wb") as f:
        f.write(whole[: len(whole) // 2])
    # A deflate-compressed archive (torch writes stored entries only).
    with zipfile.ZipFile(os.path.join(reader_dir, "state_dict.pt")) as source, \
            zipfile.ZipFile(os.path.join(out, "compressed.pt"), "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            target.writestr(name, source.read(name))


def main():
    os.makedirs(reader_dir, exist_ok=True)
    sd = reader_state_dict()
    save(sd, os.path.join(reader_dir, "state_dict.pt"))
    write_safetensors(os.path.join(reader_dir, "state_dict.safetensors"), sd)
    save(sd, os.path.join(reader_dir, "protocol4.pt"), pickle_protocol=4)
    save(sd, os.path.join(reader_dir, "protocol5.pt"), pickle_protocol=5)
    swapped_archive(os.path.join(reader_dir, "state_dict.pt"), os.path.join(reader_dir, "big_endian.pt"))
    assert all(torch.equal(a, b) for a, b in
               zip(torch.load(os.path.join(reader_dir, "big_endian.pt")).values(), sd.values()))
    # The dtypes torch pickles with an untyped storage and an explicit dtype (_rebuild_tensor_v3).
    v3 = collections.OrderedDict(
        u16=torch.tensor([1, 65535], dtype=torch.uint16), u32=torch.tensor([7, 2 ** 32 - 1], dtype=torch.uint32),
        u64=torch.tensor([9, 2 ** 63], dtype=torch.uint64),
        f8=torch.tensor([0.5, -2.0], dtype=torch.float8_e4m3fn))
    save(v3, os.path.join(reader_dir, "untyped_storage.pt"))
    write_safetensors(os.path.join(reader_dir, "untyped_storage.safetensors"), v3)
    # Training checkpoints: the state dict nested under a key.
    small = collections.OrderedDict(weight=torch.randn(3, 2), bias=torch.randn(3))
    ema = collections.OrderedDict(weight=torch.randn(3, 2), bias=torch.randn(3))
    save({"epoch": 3, "state_dict": small, "optimizer": {"state": {0: {"exp_avg": torch.zeros(3)}}, "param_groups": []}},
         os.path.join(reader_dir, "nested_state_dict.pt"))
    save({"model": small, "ema": ema, "step": 10}, os.path.join(reader_dir, "nested_model.pt"))
    save({"encoder": {"weight": small["weight"]}, "head": [small["bias"]]}, os.path.join(reader_dir, "nested_plain.pt"))
    write_safetensors(os.path.join(reader_dir, "small.safetensors"), small)
    write_safetensors(os.path.join(reader_dir, "ema.safetensors"), ema)
    # The legacy (pre-1.6) format.
    save(small, os.path.join(reader_dir, "legacy.pt"), _use_new_zipfile_serialization=False)
    # A whole pickled module and its state dict.
    torch.manual_seed(1)
    encoder = ImageEncoder(width=4, layers=1)
    save(encoder, os.path.join(reader_dir, "module.pt"))
    write_safetensors(os.path.join(reader_dir, "module.safetensors"), encoder.state_dict())
    # A sharded pytorch_model.bin with its index.
    shard_dir = os.path.join(reader_dir, "sharded")
    first, second = collections.OrderedDict(a=torch.randn(2)), collections.OrderedDict(b=torch.randn(3), c=torch.randn(2, 2))
    save(first, os.path.join(shard_dir, "pytorch_model-00001-of-00002.bin"))
    save(second, os.path.join(shard_dir, "pytorch_model-00002-of-00002.bin"))
    with open(os.path.join(shard_dir, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 28}, "weight_map": {"a": "pytorch_model-00001-of-00002.bin",
                   "b": "pytorch_model-00002-of-00002.bin", "c": "pytorch_model-00002-of-00002.bin"}}, f)
    write_safetensors(os.path.join(reader_dir, "sharded.safetensors"), {**first, **second})
    hostile()

    # The paper's layout: <model>/<Task>Val/nonlinear_finetuned.pt and <model>/nonlinear_zeroshot.pt,
    # whole pickled ImageEncoders; the same checkpoints as safetensors beside them.
    torch.manual_seed(2)
    base = ImageEncoder(width=8, layers=1)
    checkpoints = {"nonlinear_zeroshot": base}
    for seed, task in enumerate(["MNIST", "SVHN", "EuroSAT"], start=1):
        checkpoints[f"{task}Val/nonlinear_finetuned"] = fine_tuned(base, seed)
    for name, model in checkpoints.items():
        save(model, os.path.join(paper_dir, "ViT-T", name + ".pt"))
        os.makedirs(os.path.dirname(os.path.join(paper_dir, "safetensors", name)), exist_ok=True)
        write_safetensors(os.path.join(paper_dir, "safetensors", name + ".safetensors"), model.state_dict())
    for directory, _, files in sorted(os.walk(os.path.join(root, "Tests"))):
        for name in sorted(files):
            if "/torch" in directory:
                print(f"{os.path.getsize(os.path.join(directory, name)):8d}  {os.path.relpath(os.path.join(directory, name), root)}")


if __name__ == "__main__":
    main()
