#!/usr/bin/env bash
# Builds the libFuzzer target over Sources/UCAN (Tests/Fuzz/UCANFuzz.swift) and runs it on Tests/Fuzz/corpus.
#
#   scripts/fuzz.sh [SECONDS]     fuzz for SECONDS (default 600); exits non-zero on a crash, leak or timeout
#   scripts/fuzz.sh --build       only build .build/fuzz/ucan-fuzz
#   scripts/fuzz.sh --merge       minimize Tests/Fuzz/corpus in place (libFuzzer -set_cover_merge=1), keeping the seeds
#   scripts/fuzz.sh --seeds       (re)write the seed inputs into Tests/Fuzz/corpus
#
# Environment: SWIFTC (default: swiftc on PATH, else /opt/swift/usr/bin/swiftc), FUZZ_SANITIZERS (default
# fuzzer,address; falls back to fuzzer alone when AddressSanitizer does not link), FUZZ_JOBS (parallel workers,
# default 1), FUZZ_ARGS (extra libFuzzer flags), FUZZ_MERGE (merge or set_cover_merge, the default).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
out=.build/fuzz
binary=$out/ucan-fuzz
corpus=Tests/Fuzz/corpus
artifacts=$out/artifacts
mkdir -p "$out" "$artifacts" "$corpus"

if [[ -z ${SWIFTC:-} ]]; then
    if command -v swiftc >/dev/null; then SWIFTC=swiftc; else SWIFTC=/opt/swift/usr/bin/swiftc; fi
fi

sources=()
while IFS= read -r -d '' file; do sources+=("$file"); done \
    < <(find Sources/UCAN -name '*.swift' -print0 | LC_ALL=C sort -z)
sources+=(Tests/Fuzz/UCANFuzz.swift Tests/Fuzz/UCAN1Fuzz.swift)

build() {
    # Rebuild only when a source, this script or the compiler changed.
    local stamp=$out/ucan-fuzz.inputs
    local inputs
    inputs=$({ cat "${sources[@]}" Sources/CSodium/module.modulemap Sources/CSodium/shim.h scripts/fuzz.sh
        "$SWIFTC" --version 2>&1; echo "${FUZZ_SANITIZERS:-}"; } | sha256sum | cut -d' ' -f1)
    if [[ -x $binary && -f $stamp && $(cat "$stamp") == "$inputs" ]]; then
        echo "fuzz: $binary is up to date"
        return
    fi
    local flags=(
        -parse-as-library -module-name UCANFuzz -package-name charter -swift-version 6
        -enable-upcoming-feature ExistentialAny -enable-upcoming-feature InternalImportsByDefault
        # -O for speed; -assert-config Debug keeps assert() as well as precondition() and overflow checks.
        -O -assert-config Debug -g
        -I Sources/CSodium -Xcc -I/usr/include -lsodium
        -module-cache-path "$out/module-cache"
    )
    local sanitizers=${FUZZ_SANITIZERS:-fuzzer,address}
    echo "fuzz: compiling ${#sources[@]} files with -sanitize=$sanitizers"
    rm -f "$stamp"
    if ! "$SWIFTC" "${flags[@]}" -sanitize="$sanitizers" "${sources[@]}" -o "$binary.tmp" 2>"$out/build.log"; then
        cat "$out/build.log" >&2
        # Fall back only when the sanitizer runtime, not the Swift code, is the problem.
        if [[ -n ${FUZZ_SANITIZERS:-} ]] || grep -qE '\.swift:[0-9]+:[0-9]+: error' "$out/build.log"; then exit 1; fi
        echo "fuzz: -sanitize=fuzzer,address failed, retrying with -sanitize=fuzzer alone" >&2
        "$SWIFTC" "${flags[@]}" -sanitize=fuzzer "${sources[@]}" -o "$binary.tmp"
    fi
    mv "$binary.tmp" "$binary"
    echo "$inputs" >"$stamp"
}

# Seeds are written by the fuzz binary itself (tokens signed with its fixed keys), so they stay in step with it.
write_seeds() {
    UCAN_FUZZ_WRITE_SEEDS="$root/$corpus" "$binary" </dev/null
}

# ASan: leaks are reported by libFuzzer's own -detect_leaks; keep reports symbolized and stack traces whole.
# The Swift runtime's backtracer would catch traps before libFuzzer and trips ASan while doing so.
export SWIFT_BACKTRACE=enable=no
# Seeded hashing would change Dictionary iteration order, and so coverage, from one process to the next.
export SWIFT_DETERMINISTIC_HASHING=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:handle_abort=1:symbolize=1}

case ${1:-} in
--build)
    build
    exit 0
    ;;
--seeds)
    build
    write_seeds
    exit 0
    ;;
--merge)
    build
    before=$(find "$corpus" -type f | wc -l)
    merged=$out/corpus-merged
    rm -rf "$merged"
    mkdir -p "$merged"
    # -set_cover_merge=1 is -merge=1 choosing a near-minimal set of files that keeps every feature
    # (about 40% fewer files here); FUZZ_MERGE=merge selects the classic greedy -merge=1.
    "$binary" -"${FUZZ_MERGE:-set_cover_merge}"=1 -max_len=65536 -timeout=5 -rss_limit_mb=2048 "$merged" "$corpus" </dev/null 2>"$out/merge.log" \
        || { tail -20 "$out/merge.log"; exit 1; }
    rm -rf "$corpus"
    mv "$merged" "$corpus"
    # Keep the named, readable seeds alongside the minimized inputs.
    write_seeds
    after=$(find "$corpus" -type f | wc -l)
    grep -E 'MERGE-OUTER: [0-9]+ new files' "$out/merge.log" | tail -1 || true
    echo "fuzz: corpus minimized from $before to $after files ($(du -sh --apparent-size "$corpus" | cut -f1))"
    exit 0
    ;;
esac

seconds=${1:-600}
if ! [[ $seconds =~ ^[0-9]+$ ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS | --build | --seeds | --merge]" >&2
    exit 2
fi

build
if [[ -z $(find "$corpus" -type f -print -quit) ]]; then
    write_seeds
fi
corpus_before=$(find "$corpus" -type f | wc -l)
log=$out/fuzz.log
jobs=${FUZZ_JOBS:-1}
echo "fuzz: running $binary for ${seconds}s on $corpus ($corpus_before inputs), log in $log"

parallel=()
if ((jobs > 1)); then parallel=(-fork="$jobs" -ignore_crashes=0); fi
# shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
started=$SECONDS
set +e
"$binary" "$corpus" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=65536 \
    -dict=Tests/Fuzz/ucan.dict -artifact_prefix="$artifacts/" -print_final_stats=1 "${parallel[@]}" ${FUZZ_ARGS:-} </dev/null >"$log" 2>&1
status=$?
set -e

corpus_after=$(find "$corpus" -type f | wc -l)
last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
stat() { { grep -E "^stat::$1:" "$log" || true; } | tail -1 | awk '{print $2}'; }
found=$(grep -E '^(==[0-9]+==ERROR|ERROR: libFuzzer|SUMMARY: libFuzzer|Fatal error|.*UCAN fuzz property violated)' "$log" || true)

echo "---- fuzz summary ----"
echo "time:      $((SECONDS - started))s (${seconds}s requested)"
# Fork mode (FUZZ_JOBS > 1) prints no stat:: lines; fall back to the last status line.
runs=$(stat number_of_executed_units)
rate=$(stat average_exec_per_sec)
echo "runs:      ${runs:-$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")}"
echo "exec/s:    ${rate:-$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$last")}"
echo "last:      ${last:-n/a}"
echo "new units: $(stat new_units_added), slowest unit $(stat slowest_unit_time_sec)s, peak rss $(stat peak_rss_mb) MB"
echo "corpus:    $corpus_before -> $corpus_after files ($(du -sh --apparent-size "$corpus" | cut -f1))"
if ((status != 0)) || [[ -n $found ]]; then
    echo "result:    FAILED (libFuzzer exit status $status)"
    [[ -n $found ]] && echo "$found" | head -20
    grep -E 'Test unit written to' "$log" || true
    echo "see $log"
    exit 1
fi
echo "result:    no crash, leak or timeout"
