#!/bin/sh
# Runs every benchmark: bench/*_bench.lua with build/sis, then bench/*_bench.sh.
# Benchmarks print figures and assert nothing. BENCH_ONLY=substring selects some.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export SIS_BIN="$BUILD/sis" SIS_TEST_ROOT=$(pwd)
for b in bench/*_bench.lua bench/*_bench.sh; do
    [ -e "$b" ] || continue
    case "$b" in *"${BENCH_ONLY:-}"*) ;; *) continue ;; esac
    echo "== $b"
    case "$b" in
        *.lua) "$BUILD/sis" run "$b" ;;
        *.sh) sh "$b" ;;
    esac || echo "(benchmark $b failed)"
done
