#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/Targets and runs them.
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]     (defaults: all, 60 seconds per target)
#
# Each target is Fuzz/Targets/<name>.swift plus Fuzz/FuzzSupport.swift, linked against the
# Linalg and IsoMerge sources compiled here (not by SwiftPM: Package.swift stays free of unsafe
# flags and `swift build` / `swift test` never see the fuzzers) with AddressSanitizer and, for
# IsoMerge and the target, libFuzzer's coverage instrumentation. Everything built or found lives
# in .build/fuzz: the growing corpus in corpus/<name> (seeded from Fuzz/Seeds/<name> and the
# regression inputs in Tests/IsoMergeTests/Fixtures/fuzz/<name>), findings in artifacts/<name>.
# Exits non-zero on any crash, invariant violation, leak, timeout (INPUT_TIMEOUT seconds for
# one input) or allocation above MALLOC_LIMIT_MB. Extra libFuzzer flags: FUZZ_FLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v swiftc >/dev/null 2>&1; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

# One line per target: name, then the largest input libFuzzer generates (bytes).
targets=(
    "json              8192"
    "safetensors       16384"
    "shard-index       8192"
    "zip               16384"
    "pickle            8192"
    "torch-checkpoint  16384"
    "adapter-config    4096"
)

# The stated allocation bound: no single allocation above this for inputs of the sizes above.
MALLOC_LIMIT_MB=${MALLOC_LIMIT_MB:-1}
INPUT_TIMEOUT=${INPUT_TIMEOUT:-10}

which=${1:-all}
seconds=${2:-60}
build=.build/fuzz
mkdir -p "$build"
flags=(-O -g -parse-as-library -sanitize=address)

# The libraries, rebuilt when any of their sources is newer than the last build.
newer() { [ ! -e "$1" ] || [ -n "$(find "${@:2}" -name '*.swift' -newer "$1" | head -n 1)" ]; }
if newer "$build/Linalg.o" Sources/Linalg; then
    echo "fuzz.sh: compiling Linalg" >&2
    swiftc "${flags[@]}" -wmo -c -module-name Linalg -emit-module -emit-module-path "$build/Linalg.swiftmodule" \
        -o "$build/Linalg.o" $(find Sources/Linalg -name '*.swift' | sort)
fi
if newer "$build/IsoMerge.o" Sources/IsoMerge Sources/Linalg; then
    echo "fuzz.sh: compiling IsoMerge" >&2
    swiftc "${flags[@]}" -sanitize=fuzzer -enable-testing -wmo -c -module-name IsoMerge -I "$build" -emit-module \
        -emit-module-path "$build/IsoMerge.swiftmodule" -o "$build/IsoMerge.o" $(find Sources/IsoMerge -name '*.swift' | sort)
fi

run_target() {
    local name=$1 max_len=$2
    local binary="$build/fuzz-$name" corpus="$build/corpus/$name" artifacts="$build/artifacts/$name/"
    if newer "$binary" Sources Fuzz/FuzzSupport.swift "Fuzz/Targets/$name.swift"; then
        echo "fuzz.sh: linking $name" >&2
        swiftc "${flags[@]}" -sanitize=fuzzer -module-name "Fuzz_${name//-/_}" -I "$build" -o "$binary" \
            Fuzz/FuzzSupport.swift "Fuzz/Targets/$name.swift" "$build/IsoMerge.o" "$build/Linalg.o"
    fi
    mkdir -p "$corpus" "$artifacts"
    local seeds=("Fuzz/Seeds/$name")
    [ -d "Tests/IsoMergeTests/Fixtures/fuzz/$name" ] && seeds+=("Tests/IsoMergeTests/Fixtures/fuzz/$name")
    local dictionary=()
    [ -f "Fuzz/Dictionaries/$name.dict" ] && dictionary=("-dict=Fuzz/Dictionaries/$name.dict")
    echo "fuzz.sh: $name for ${seconds}s" >&2
    "$binary" -max_total_time="$seconds" -max_len="$max_len" -timeout="$INPUT_TIMEOUT" \
        -malloc_limit_mb="$MALLOC_LIMIT_MB" -rss_limit_mb=2048 -detect_leaks=1 -print_final_stats=1 \
        -artifact_prefix="$artifacts" "${dictionary[@]}" ${FUZZ_FLAGS:-} "$corpus" "${seeds[@]}"
}

found=0
for line in "${targets[@]}"; do
    read -r name max_len <<<"$line"
    if [ "$which" = all ] || [ "$which" = "$name" ]; then
        run_target "$name" "$max_len"
        found=1
    fi
done
if [ "$found" = 0 ]; then
    echo "fuzz.sh: no target '$which' (targets: $(printf '%s\n' "${targets[@]}" | awk '{print $1}' | xargs))" >&2
    exit 2
fi
