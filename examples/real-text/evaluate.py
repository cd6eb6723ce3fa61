"""The evaluator that `isomerge merge --evaluate` runs on each candidate checkpoint.

Prints each task's validation accuracy on stderr and, as its last line of stdout, the score: the
mean over tasks of the candidate's validation accuracy divided by that task's expert's (normalized
accuracy, higher is better), which is what the α search maximizes.

A search scores tens of candidates, and starting Python with torch and the model costs seconds
each time, so run.sh starts one resident evaluator (`serve`) that keeps the model, the heads and
the tokenized validation texts in memory and listens on WORK/evaluator.sock. The command that
isomerge runs is then a small client that imports no torch: it sends the checkpoint's path and
prints the reply. Without the socket the client evaluates in its own process, with the same result.

usage: python3 evaluate.py WORK CHECKPOINT     (what --evaluate runs)
       python3 evaluate.py serve WORK          (the resident evaluator; run.sh starts and stops it)
"""

import json
import os
import signal
import socket
import sys
from pathlib import Path


class Evaluator:
    """The model, heads and tokenized validation batches, loaded once."""

    def __init__(self, work):
        from common import TASKS, base_model, batches, heads, task_data, tokenizer
        self.tasks = TASKS
        self.experts = json.loads((work / "models" / "experts.json").read_text())
        self.model, self.heads = base_model(), heads(work)
        tok = tokenizer()
        self.validation = {}
        for name in TASKS:
            examples = task_data(work, name)["validation"]
            self.validation[name] = [([examples[i][1] for i in index], batch)
                                     for index, batch in batches(tok, [t for t, _ in examples], 128)]

    def score(self, checkpoint):
        """(per-task validation accuracies, mean normalized accuracy) of a checkpoint."""
        import torch
        from common import embed, load
        load(checkpoint, self.model)
        accuracies = {}
        with torch.no_grad():
            for name in self.tasks:
                correct = total = 0
                for labels, batch in self.validation[name]:
                    predictions = (embed(self.model, batch) @ self.heads[name].T).argmax(1)
                    correct += (predictions == torch.tensor(labels)).sum().item()
                    total += len(labels)
                accuracies[name] = correct / total
        normalized = sum(accuracies[n] / self.experts[n]["expert_validation"] for n in self.tasks) / len(self.tasks)
        return accuracies, normalized


def reply(evaluator, checkpoint):
    """The evaluator's output for one checkpoint: stderr lines and the score line."""
    accuracies, normalized = evaluator.score(checkpoint)
    return "".join(f"{name} {value:.4f}\n" for name, value in accuracies.items()), f"{normalized:.6f}\n"


def serve(work):
    evaluator = Evaluator(work)
    path = work / "evaluator.sock"
    if path.exists():
        path.unlink()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"evaluator: listening on {path}", file=sys.stderr, flush=True)
    try:
        while True:
            connection, _ = server.accept()
            with connection, connection.makefile("rw") as stream:
                checkpoint = stream.readline().strip()
                try:
                    log, score = reply(evaluator, checkpoint)
                    stream.write(json.dumps({"log": log, "score": score}) + "\n")
                except Exception as error:  # the client reports it and exits non-zero
                    stream.write(json.dumps({"error": f"{type(error).__name__}: {error}"}) + "\n")
    finally:
        path.unlink(missing_ok=True)


def ask(path, checkpoint):
    """The resident evaluator's answer, or None when none listens on `path`."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(path))
            with client.makefile("rw") as stream:
                stream.write(checkpoint + "\n")
                stream.flush()
                return json.loads(stream.readline())
    except (FileNotFoundError, ConnectionRefusedError):
        return None


def main():
    if sys.argv[1] == "serve":
        return serve(Path(sys.argv[2]))
    work, checkpoint = Path(sys.argv[1]), os.path.abspath(sys.argv[2])
    answer = ask(work / "evaluator.sock", checkpoint)
    if answer is None:
        log, score = reply(Evaluator(work), checkpoint)
    elif "error" in answer:
        sys.exit(f"evaluator: {answer['error']}")
    else:
        log, score = answer["log"], answer["score"]
    sys.stderr.write(log)
    sys.stdout.write(score)


if __name__ == "__main__":
    main()
