#!/usr/bin/env bash
# Builds the DocC documentation of every catalog Sources/<Module>/<Module>.docc with the toolchain's docc and
# fails on any warning (broken symbol links, unresolved topics, malformed articles).
#
#   scripts/build-docs.sh [OUTPUT_DIR]     (default: .build/docs; nothing there is committed)
#
# Symbol graphs come from `swift package dump-symbol-graph` (a debug build plus extraction of the public
# symbols); each catalog is converted with its own module's graphs, to OUTPUT_DIR/<Module>.doccarchive.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
if ! command -v swift >/dev/null 2>&1; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
docc=$(command -v docc || true)
if [ -z "$docc" ]; then
    docc="$(dirname "$(readlink -f "$(command -v swift)")")/docc"
fi
if [ ! -x "$docc" ]; then
    echo "build-docs: docc not found (on PATH or beside swift)" >&2
    exit 1
fi

shopt -s nullglob
catalogs=(Sources/*/*.docc)
if [ ${#catalogs[@]} -eq 0 ]; then
    echo "build-docs: no catalog under Sources/*/*.docc" >&2
    exit 1
fi

output=${1:-.build/docs}
rm -rf "$output"
mkdir -p "$output"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# dump-symbol-graph exits non-zero when it cannot load the test-discovery modules, whose graphs are not
# needed: success is judged per catalog below, by a graph written by this run.
marker="$output/.started"
touch "$marker"
swift package dump-symbol-graph >"$log" 2>&1 || true
graphs=$(sed -n 's/^.*Files written to //p' "$log" | tail -n 1)
if [ -z "$graphs" ] || [ ! -d "$graphs" ]; then
    cat "$log"
    echo "build-docs: swift package dump-symbol-graph wrote no symbol graphs" >&2
    exit 1
fi

for catalog in "${catalogs[@]}"; do
    module=$(basename "$(dirname "$catalog")")
    moduleGraphs="$output/symbol-graphs/$module"
    mkdir -p "$moduleGraphs"
    # The module's own graph and those of its extensions to other modules' types (Module@Other).
    if [ ! "$graphs/$module.symbols.json" -nt "$marker" ]; then
        cat "$log"
        echo "build-docs: no symbol graph for module $module (catalog $catalog)" >&2
        exit 1
    fi
    cp "$graphs/$module.symbols.json" "$moduleGraphs"/
    for extension in "$graphs/$module"@*.symbols.json; do cp "$extension" "$moduleGraphs"/; done
    echo "build-docs: $catalog"
    "$docc" convert "$catalog" \
        --additional-symbol-graph-dir "$moduleGraphs" \
        --output-path "$output/$module.doccarchive" \
        --fallback-display-name "$module" \
        --fallback-bundle-identifier "org.isomerge.$module" \
        --warnings-as-errors
done
rm -f "$marker"
echo "build-docs: ${#catalogs[@]} catalog(s) in $output, $((SECONDS - start)) s"
