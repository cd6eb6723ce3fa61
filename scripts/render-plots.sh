#!/bin/sh
# Renders the figures of `isomerge analyze` to PNG for a look.
#
#   scripts/render-plots.sh [OUT_DIR] [DATA_DIR]
#
# DATA_DIR holds base.safetensors and ft_*.safetensors (default: the 4-task fixture
# Tests/IsoMergeTests/Fixtures/merge/small-t4-bf16). The α reports come from `isomerge demo --tasks 4`
# (its α searches on validation data). Writes OUT_DIR (default /tmp/isomerge-plots): the SVGs, a PNG
# beside each, the analysis table and JSON, and the demo's files. Needs rsvg-convert (Debian: librsvg2-bin).
set -eu
cd "$(dirname "$0")/.."
out=${1:-/tmp/isomerge-plots}
data=${2:-Tests/IsoMergeTests/Fixtures/merge/small-t4-bf16}
command -v rsvg-convert >/dev/null || { echo "rsvg-convert not found (apt-get install librsvg2-bin)" >&2; exit 1; }
swift build -c release -Xswiftc -target-cpu -Xswiftc native >/dev/null
tool=.build/release/isomerge
mkdir -p "$out"
"$tool" demo --tasks 4 --out "$out/demo" --quiet >/dev/null
"$tool" analyze --base "$data/base.safetensors" --models "$data"/ft_*.safetensors \
    --methods task_arithmetic,tsv_m,iso_c,iso_cts --json "$out/sar.json" --svg "$out" \
    --alpha-report "$out/demo/alpha-task_arithmetic.json" "$out/demo/alpha-tsv_m.json" \
                   "$out/demo/alpha-iso_c.json" "$out/demo/alpha-iso_cts.json" --quiet >"$out/table.txt"
for svg in "$out"/*.svg; do
    rsvg-convert --background-color=white -o "${svg%.svg}.png" "$svg"
    echo "${svg%.svg}.png"
done
