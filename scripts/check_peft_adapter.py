#!/usr/bin/env python3
"""Checks with PEFT itself that `isomerge merge --adapters` writes adapters PEFT loads and that they, and
the merged checkpoint, hold the merge (torch, transformers, peft; no downloads).

    python3 scripts/check_peft_adapter.py ISOMERGE [--method iso_cts] [--work DIR]

Builds a random 2-layer Llama (hidden 64), three PEFT adapters on it (r = 4, 8 with rslora, 6 on fewer modules;
random B), runs `ISOMERGE merge --adapters … --output-adapter` and `--output`, loads the written adapter with
`PeftModel.from_pretrained`, and compares per module PEFT's delta weight with the merged checkpoint's θ − θ₀,
and the two models' logits. Exits 1 when a relative difference exceeds 1e-4.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("isomerge")
    parser.add_argument("--method", default="iso_cts")
    parser.add_argument("--work", default=None)
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="isomerge-peft-")
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=100, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=64)
    base = LlamaForCausalLM(config).eval()
    base.save_pretrained(os.path.join(work, "base"), safe_serialization=True)
    all_modules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    settings = [dict(r=4, lora_alpha=8, target_modules=all_modules),
                dict(r=8, lora_alpha=16, use_rslora=True, target_modules=all_modules),
                dict(r=6, lora_alpha=6, target_modules=["q_proj", "v_proj", "down_proj"])]
    adapters = []
    for t, setting in enumerate(settings):
        model = get_peft_model(LlamaForCausalLM.from_pretrained(os.path.join(work, "base")),
                               LoraConfig(task_type="CAUSAL_LM", init_lora_weights=False, **setting))
        path = os.path.join(work, f"adapter{t}")
        model.save_pretrained(path)
        adapters.append(path)
    out_adapter, out_model = os.path.join(work, "merged-adapter"), os.path.join(work, "merged")
    subprocess.run([args.isomerge, "merge", "--method", args.method, "--adapters", *adapters, "--base", os.path.join(work, "base"),
                    "--output-adapter", out_adapter, "--output", out_model, "--overwrite"], check=True)
    peft_model = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(os.path.join(work, "base")), out_adapter).eval()
    print("loaded with PeftModel.from_pretrained:", type(peft_model).__name__, "r =", peft_model.peft_config["default"].r)
    theta0 = load_file(os.path.join(work, "base", "model.safetensors"))
    theta = load_file(os.path.join(out_model, "model.safetensors"))
    worst = 0.0
    for name, module in peft_model.named_modules():
        if hasattr(module, "get_delta_weight") and "default" in getattr(module, "lora_A", {}):
            key = name.removeprefix("base_model.model.") + ".weight"
            delta = module.get_delta_weight("default").double()
            expected = theta[key].double() - theta0[key].double()
            worst = max(worst, ((delta - expected).norm() / expected.norm()).item())
    tokens = torch.randint(0, 100, (2, 16))
    merged_model = LlamaForCausalLM(config).eval()
    merged_model.load_state_dict(theta)
    with torch.no_grad():
        a, b = peft_model(tokens).logits, merged_model(tokens).logits
    logits = ((a - b).norm() / b.norm()).item()
    print(f"largest relative difference, PEFT delta weight vs merged checkpoint: {worst:.2e}; logits: {logits:.2e}")
    sys.exit(0 if worst <= 1e-4 and logits <= 1e-4 else 1)


if __name__ == "__main__":
    main()
