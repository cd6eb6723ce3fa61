"""Builds the frozen heads and fine-tunes one expert per task from the shared base.

Writes WORK/models/: base.safetensors, expert_TASK.safetensors (the whole encoder fine-tuned on TASK
with its head frozen), heads.safetensors (one head per task: the base's normalized embeddings of the
class descriptions, the zero-shot head) and experts.json (per task: the expert's and the base's
validation accuracy, ||tau_t|| / ||theta_0||, training seconds).

Fine-tuning: one epoch over the task's training split (at most 1000 texts, 64 tokens), batch 16,
AdamW at 1e-4 without weight decay, 10 % linear warm-up then linear decay, dropout as in the model.

usage: python3 finetune.py WORK
"""

import json
import random
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

from common import SCALE, TASKS, accuracy, base_model, batches, embed, embeddings, save, task_data, tokenizer

BATCH, LEARNING_RATE, WARMUP = 16, 1e-4, 0.1


def fine_tune(model, tok, head, examples, seed):
    """One epoch of cross-entropy on SCALE x cos(embedding, head), head frozen."""
    rng = random.Random(seed)
    examples = examples[:]
    rng.shuffle(examples)
    steps = (len(examples) + BATCH - 1) // BATCH
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.0)
    warmup = max(1, int(WARMUP * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warmup if s < warmup else max(0.0, (steps - s) / (steps - warmup)))
    torch.manual_seed(seed)
    model.train()
    for step in range(steps):
        chunk = examples[step * BATCH:(step + 1) * BATCH]
        (_, batch), = batches(tok, [t for t, _ in chunk], len(chunk))
        # batches() sorts by length: the labels follow the same order.
        order = sorted(range(len(chunk)), key=lambda i: len(chunk[i][0]))
        labels = torch.tensor([chunk[i][1] for i in order])
        loss = torch.nn.functional.cross_entropy(SCALE * embed(model, batch) @ head.T, labels)
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
    return model.eval()


def norm(state):
    return torch.sqrt(sum((v.double() ** 2).sum() for v in state.values())).item()


def main():
    work = Path(sys.argv[1])
    out = work / "models"
    out.mkdir(parents=True, exist_ok=True)
    tok = tokenizer()
    base = base_model().eval()
    save(base, out / "base.safetensors")
    base_state = {k: v.clone() for k, v in base.state_dict().items()}
    data = {name: task_data(work, name) for name in TASKS}
    heads = {name: embeddings(base, tok, data[name]["classes"]).contiguous() for name in TASKS}
    save_file(heads, str(out / "heads.safetensors"))
    report = {}
    for index, name in enumerate(TASKS):
        started = time.time()
        model = base_model()
        fine_tune(model, tok, heads[name], data[name]["train"], seed=index)
        save(model, out / f"expert_{name}.safetensors")
        seconds = time.time() - started
        state = model.state_dict()
        tau = {k: state[k] - base_state[k] for k in state}
        report[name] = {
            "expert_validation": accuracy(model, tok, heads[name], data[name]["validation"]),
            "base_validation": accuracy(base, tok, heads[name], data[name]["validation"]),
            "relative_task_vector_norm": norm(tau) / norm(base_state),
            "train_examples": len(data[name]["train"]),
            "seconds": seconds,
        }
        r = report[name]
        print(f"{name:15s} validation: base {100 * r['base_validation']:5.1f}  expert {100 * r['expert_validation']:5.1f}"
              f"   |tau|/|theta0| {r['relative_task_vector_norm']:.4f}   {seconds:.0f} s", flush=True)
    (out / "experts.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
