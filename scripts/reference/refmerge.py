#!/usr/bin/env python3
"""The merge methods of docs/ALGORITHMS.md in float64 numpy: the reference the Swift engine is tested against.

Written for clarity, not speed: every method is a few lines that follow the contract's steps, and every
singular value decomposition goes through `svd_with_rank_rule`, the contract's deterministic treatment of
rank deficiency.

    python3 refmerge.py METHOD BASE FT1 FT2 ... -o OUT [--alpha A] [--fraction F] [--density D] [--f32]

writes the merged checkpoint θ₀ + α·τ_M (float tensors as F64, or F32 with --f32; integer tensors copied).
"""
import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

FLOAT32_EPSILON = float(np.finfo(np.float32).eps)  # 2^-23, the rank rule's ε in every precision


def takes_matrix_path(name, array):
    return array.ndim == 2 and "text_projection" not in name


def svd_with_rank_rule(a, reference=None):
    """Thin SVD with singular values ≤ √max(m, n)·ε₃₂·σ_ref set to zero and their vectors zeroed.
    σ_ref is σ₁(a) unless the step started from another matrix (Iso-CTS's projected task vectors)."""
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    if s.size:
        scale = s[0] if reference is None else reference
        dead = s <= math.sqrt(max(a.shape)) * FLOAT32_EPSILON * scale
        u[:, dead], vt[dead, :], s[dead] = 0.0, 0.0, 0.0
    return u, s, vt


def polar(a):
    """U·Vᵀ over the live directions: the closest partial isometry to a."""
    u, _, vt = svd_with_rank_rule(a)
    return u @ vt


def mean(task_vectors):
    return sum(task_vectors) / len(task_vectors)


def iso_c(task_vectors):
    u, s, vt = svd_with_rank_rule(sum(task_vectors))
    return s.mean() * (u @ vt)


def iso_cts_sizes(r, tasks, fraction):
    """(k, s): common directions and directions per task. Python's round() is half to even."""
    k0 = math.floor(r * fraction)
    s = round((r - k0) / tasks)
    if r - s * tasks < 0:
        s = r // tasks
    return r - s * tasks, s


def iso_cts(task_vectors, fraction):
    total = sum(task_vectors)
    m, n = total.shape
    r = min(m, n)
    k, s = iso_cts_sizes(r, len(task_vectors), fraction)
    u, sigma, vt = svd_with_rank_rule(total)
    u_common = u[:, :k]
    left, values, right = [], [], []
    for tau in task_vectors:
        projected = tau - u_common @ (u_common.T @ tau)
        ut, st, vtt = svd_with_rank_rule(projected, reference=np.linalg.norm(tau, 2))
        left.append(ut[:, :s])
        values.append(st[:s])
        right.append(vtt[:s])
    u_star = np.hstack(left + [u_common])
    sigma_star = np.concatenate(values + [sigma[:k]])
    vt_star = np.vstack(right + [vt[:k]])
    return sigma_star.mean() * (polar(u_star) @ polar(vt_star.T).T)


def tsv_m(task_vectors):
    m, n = task_vectors[0].shape
    r = min(m, n)
    s = r // len(task_vectors)
    u_cat, sigma_cat, vt_cat = np.zeros((m, r)), np.zeros(r), np.zeros((r, n))
    for t, tau in enumerate(task_vectors):
        u, sigma, vt = svd_with_rank_rule(tau)
        u_cat[:, t * s:(t + 1) * s], sigma_cat[t * s:(t + 1) * s], vt_cat[t * s:(t + 1) * s] = u[:, :s], sigma[:s], vt[:s]
    return (polar(u_cat) * sigma_cat) @ polar(vt_cat.T).T


def ties(names, task_vectors, density):
    """Trim each task to its largest entries over the whole model (ties at the threshold kept), elect a
    sign per entry, average the entries that agree with it."""
    flat = np.stack([np.concatenate([tv[name].ravel() for name in names]) for tv in task_vectors])
    d = flat.shape[1]
    if density < 1:
        keep_from = d - math.floor(d * density)  # 1-based rank of the threshold among |x| ascending
        threshold = np.partition(np.abs(flat), keep_from - 1, axis=1)[:, keep_from - 1:keep_from]
        flat = np.where(np.abs(flat) >= threshold, flat, 0.0)
    sign = np.sign(flat.sum(axis=0))
    sign[sign == 0] = np.sign(sign.sum())
    agreeing = np.where(np.sign(flat) == sign, flat, 0.0) * (flat != 0)
    counts = (agreeing != 0).sum(axis=0)
    merged = agreeing.sum(axis=0) / np.maximum(counts, 1)
    result, offset = {}, 0
    for name in names:
        shape = task_vectors[0][name].shape
        size = int(np.prod(shape))
        result[name] = merged[offset:offset + size].reshape(shape)
        offset += size
    return result


def merged_task_vector(method, base, finetuned, fraction=0.8, density=0.2):
    """τ_M for every float tensor; τ_t = θ_t − θ₀ in float64 (exact for F32, F16 and BF16 inputs)."""
    names = [name for name, array in base.items() if np.issubdtype(array.dtype, np.floating)]
    task_vectors = [{name: ft[name].astype(np.float64) - base[name].astype(np.float64) for name in names}
                    for ft in finetuned]
    if method == "ties":
        return ties(names, task_vectors, density)
    result = {}
    for name in names:
        taus = [tv[name] for tv in task_vectors]
        if method == "task_arithmetic":
            result[name] = sum(taus)
        elif method == "average" or not takes_matrix_path(name, taus[0]):
            result[name] = mean(taus)
        elif method == "iso_c":
            result[name] = iso_c(taus)
        elif method == "iso_cts":
            result[name] = iso_cts(taus, fraction)
        elif method == "tsv_m":
            result[name] = tsv_m(taus)
        else:
            raise SystemExit(f"unknown method {method}")
    return result


def subspace_alignment(tau_t, tau_m, epsilon=0.05):
    """(SAR, k_M): the share of ‖τ_t‖_F inside the top-k_M left singular subspace of τ_M, k_M the fewest
    directions that hold all but ε² of ‖τ_M‖_F²."""
    u, s, _ = np.linalg.svd(tau_m, full_matrices=False)
    energy = s ** 2
    if energy.sum() == 0:
        return 0.0, 0
    tail = energy.sum() - np.cumsum(energy)  # tail[k − 1] = Σ_{i > k} σᵢ²
    k = int(np.argmax(tail <= epsilon ** 2 * energy.sum())) + 1
    norm = np.linalg.norm(tau_t)
    return (np.linalg.norm(u[:, :k].T @ tau_t) / norm if norm > 0 else 0.0), k


def merge(method, base, finetuned, alpha, **parameters):
    tau = merged_task_vector(method, base, finetuned, **parameters)
    return {name: base[name].astype(np.float64) + alpha * tau[name] if name in tau else base[name] for name in base}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("method")
    parser.add_argument("base")
    parser.add_argument("finetuned", nargs="+")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--fraction", type=float, default=0.8)
    parser.add_argument("--density", type=float, default=0.2)
    parser.add_argument("--f32", action="store_true", help="write float tensors as F32 instead of F64")
    args = parser.parse_args()
    base, dtypes, _ = safetensors_io.read(args.base)
    finetuned = [safetensors_io.read(path)[0] for path in args.finetuned]
    merged = merge(args.method, base, finetuned, args.alpha, fraction=args.fraction, density=args.density)
    float_dtype = "F32" if args.f32 else "F64"
    out_dtypes = {name: float_dtype if np.issubdtype(base[name].dtype, np.floating) else dtypes[name] for name in base}
    safetensors_io.write(args.output, merged, out_dtypes, {"format": "pt"})


if __name__ == "__main__":
    main()
