"""Scores the base, the experts and each method's chosen merged model on the test splits.

Writes WORK/results.md (the tables the README shows) and WORK/results.json, and prints the tables.
Normalized accuracy is, per task, the model's test accuracy divided by that task's expert's, averaged
over tasks. The α column is what `isomerge merge --alpha-grid … --evaluate …` chose on validation
(WORK/search/METHOD.json), with where it lies relative to the grid given; times come from
WORK/times.json, which run.sh writes and this step adds its own time to.

usage: python3 score.py WORK
"""

import json
import sys
import time
from pathlib import Path

from common import TASKS, accuracy, heads, load, task_data, tokenizer

METHODS = ["average", "task_arithmetic", "ties", "tsv_m", "iso_c", "iso_cts"]


def where(report, grid):
    """Where the chosen α lies against the grid the search was given, and whether the stop fired."""
    alpha, low, high = report["best_alpha"], grid[0], grid[1]
    if low == high:
        return "fixed"
    if report["extended_above"] and alpha > high + 1e-9:
        place = f"above the grid (+{report['extended_above']} tried)"
    elif report["extended_below"] and alpha < low - 1e-9:
        place = f"below the grid (+{report['extended_below']} tried)"
    else:
        place = "in the grid"
    stop = "stop fired" if report["early_stop_fired"] else "stop did not fire"
    return place + ", " + stop + (", may lie outside" if report["optimum_may_lie_outside"] else "")


def main():
    started = time.time()
    work = Path(sys.argv[1])
    times = json.loads((work / "times.json").read_text())
    grids = json.loads((work / "grids.json").read_text())
    tok, head = tokenizer(), heads(work)
    tests = {name: task_data(work, name)["test"] for name in TASKS}
    experts = {name: accuracy(load(work / "models" / f"expert_{name}.safetensors"), tok, head[name], tests[name])
               for name in TASKS}
    rows = []

    def row(label, model, alpha="-", place="", seconds=None):
        accuracies = {name: accuracy(model, tok, head[name], tests[name]) for name in TASKS}
        rows.append({"model": label, "alpha": alpha, "where": place, "seconds": seconds, "accuracy": accuracies,
                     "mean": sum(accuracies.values()) / len(TASKS),
                     "normalized": sum(accuracies[n] / experts[n] for n in TASKS) / len(TASKS)})

    row("zero-shot (base)", load(work / "models" / "base.safetensors"))
    rows.append({"model": "fine-tuned (each)", "alpha": "-", "where": "", "seconds": times.get("fine-tune"),
                 "accuracy": experts, "mean": sum(experts.values()) / len(TASKS), "normalized": 1.0})
    for method in METHODS:
        report = json.loads((work / "search" / f"{method}.json").read_text())
        row(method, load(work / "merged" / f"{method}.safetensors"), f"{report['best_alpha']:.3g}",
            where(report, grids[method]), times.get(f"merge {method}"))
        rows[-1]["candidates"] = len(report["scores"])
        rows[-1]["validation"] = report["best_score"]

    times["score on test"] = time.time() - started
    (work / "times.json").write_text(json.dumps(times, indent=1))
    short = {"wn_noun": "wn_n", "wn_verb": "wn_v", "gcide_field": "gcide", "foldoc_topic": "foldoc",
             "fortune_topic": "f_top", "fortune_lang": "f_lang", "emoji_group": "emoji", "debian_section": "deb"}
    lines = ["| model | α | α against its grid | candidates | val. score | test acc. | **normalized** | step time |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        seconds = f"{r['seconds']:.0f} s" if r["seconds"] is not None else ""
        validation = f"{100 * r['validation']:.1f}" if "validation" in r else ""
        lines.append(f"| {r['model']} | {r['alpha']} | {r['where']} | {r.get('candidates', '')} | {validation} | "
                     f"{100 * r['mean']:.1f} | **{100 * r['normalized']:.1f}** | {seconds} |")
    lines += ["", "| model | " + " | ".join(short[n] for n in TASKS) + " |", "|---" * (len(TASKS) + 1) + "|"]
    for r in rows:
        lines.append(f"| {r['model']} | " + " | ".join(f"{100 * r['accuracy'][n]:.1f}" for n in TASKS) + " |")
    lines += ["", "| step | seconds |", "|---|---|"] + [f"| {k} | {v:.0f} |" for k, v in times.items()]
    text = "\n".join(lines) + "\n"
    (work / "results.md").write_text(text)
    (work / "results.json").write_text(json.dumps(rows, indent=1))
    print(text)


if __name__ == "__main__":
    main()
