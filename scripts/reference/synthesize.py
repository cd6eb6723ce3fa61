#!/usr/bin/env python3
"""Synthetic fine-tuned checkpoints with the tensor names and shapes of a CLIP visual encoder (or, with
--layout llama-layer, of one Llama-7B decoder layer: q/k/v/o 4096², gate/up 11008×4096, down 4096×11008).

    python3 synthesize.py OUTDIR [--layout vit-b32|mini|small|llama-layer] [--blocks N] [--tasks T] [--seed S]
                          [--dtype F32|F64|F16|BF16] [--lowrank R]

Writes OUTDIR/base.safetensors and OUTDIR/ft_00.safetensors … . Every 2-D task vector is a low-rank part
shared by all tasks (with task-specific signs and weights), a low-rank part of the task's own, and a little
dense noise, scaled to 2 % of the base weights; with --lowrank R it is instead a product of Gaussian
factors, exactly of rank R (LoRA-like). Other float tensors get dense noise. Needs numpy only.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

WIDTHS = {"vit-b32": (768, 12, 3072, 50, 512, 32), "mini": (96, 2, 384, 17, 64, 4), "small": (48, 1, 96, 9, 32, 2)}
LAYOUTS = sorted(WIDTHS) + ["llama-layer"]


def llama_layer_shapes(width=4096, hidden=11008):
    prefix = "model.layers.0."
    result = {prefix + "input_layernorm.weight": (width,), prefix + "post_attention_layernorm.weight": (width,)}
    for name in "qkvo":
        result[prefix + f"self_attn.{name}_proj.weight"] = (width, width)
    result.update({prefix + "mlp.gate_proj.weight": (hidden, width), prefix + "mlp.up_proj.weight": (hidden, width),
                   prefix + "mlp.down_proj.weight": (width, hidden)})
    return result


def shapes(layout, blocks):
    if layout == "llama-layer":
        return llama_layer_shapes()
    width, default_blocks, hidden, tokens, projection, patch = WIDTHS[layout]
    result = {"model.visual.class_embedding": (width,), "model.visual.positional_embedding": (tokens, width),
              "model.visual.proj": (width, projection), "model.visual.conv1.weight": (width, 3, patch, patch),
              "model.visual.ln_post.weight": (width,), "model.visual.ln_post.bias": (width,),
              "model.text_projection": (projection, projection)}
    for block in range(blocks or default_blocks):
        prefix = f"model.visual.transformer.resblocks.{block}."
        result.update({prefix + "ln_1.weight": (width,), prefix + "ln_1.bias": (width,),
                       prefix + "attn.in_proj_weight": (3 * width, width), prefix + "attn.in_proj_bias": (3 * width,),
                       prefix + "attn.out_proj.weight": (width, width), prefix + "attn.out_proj.bias": (width,),
                       prefix + "ln_2.weight": (width,), prefix + "ln_2.bias": (width,),
                       prefix + "mlp.c_fc.weight": (hidden, width), prefix + "mlp.c_fc.bias": (hidden,),
                       prefix + "mlp.c_proj.weight": (width, hidden), prefix + "mlp.c_proj.bias": (width,)})
    return result


def orthonormal(rng, n, k):
    return np.linalg.qr(rng.standard_normal((n, k)))[0]


def task_vectors(rng, shape, tasks, lowrank):
    """T task vectors for one tensor, before scaling."""
    if len(shape) != 2:
        return [rng.standard_normal(shape) for _ in range(tasks)]
    m, n = shape
    if lowrank:
        return [rng.standard_normal((m, lowrank)) @ rng.standard_normal((lowrank, n)) for _ in range(tasks)]
    r = min(m, n)
    shared_rank, own_rank = max(1, r // 6), max(1, r // 10)
    shared_u, shared_v = orthonormal(rng, m, shared_rank), orthonormal(rng, n, shared_rank)
    shared_sigma = np.arange(1, shared_rank + 1) ** -0.8
    result = []
    for _ in range(tasks):
        weights = rng.uniform(0.2, 1.0, shared_rank) * rng.choice([-1.0, 1.0], shared_rank)
        own_u, own_v = orthonormal(rng, m, own_rank), orthonormal(rng, n, own_rank)
        own_sigma = 1.5 * np.arange(1, own_rank + 1) ** -0.9
        noise = 0.02 * rng.standard_normal((m, n)) / np.sqrt(r)
        result.append((shared_u * (shared_sigma * weights)) @ shared_v.T + (own_u * own_sigma) @ own_v.T + noise)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir")
    parser.add_argument("--layout", default="mini", choices=LAYOUTS)
    parser.add_argument("--blocks", type=int)
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", default="F32", choices=["F32", "F64", "F16", "BF16"])
    parser.add_argument("--lowrank", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    base, finetuned = {}, [{} for _ in range(args.tasks)]
    for name, shape in shapes(args.layout, args.blocks).items():
        fan_in = shape[-1] if len(shape) > 1 else shape[0]
        weights = rng.standard_normal(shape) / np.sqrt(fan_in)
        base[name] = weights
        scale = 0.02 * np.abs(weights).mean()
        for model, tau in zip(finetuned, task_vectors(rng, shape, args.tasks, args.lowrank)):
            model[name] = weights + tau * scale * np.sqrt(tau.size) / np.linalg.norm(tau)
    os.makedirs(args.outdir, exist_ok=True)
    dtypes = {name: args.dtype for name in base}
    safetensors_io.write(os.path.join(args.outdir, "base.safetensors"), base, dtypes)
    for t, model in enumerate(finetuned):
        safetensors_io.write(os.path.join(args.outdir, f"ft_{t:02d}.safetensors"), model, dtypes)


if __name__ == "__main__":
    main()
