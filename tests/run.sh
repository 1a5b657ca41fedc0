#!/bin/sh
# Runs every test suite: the C unit tests and the Lua tests, first on the
# release build, then on the ASan+UBSan build (unless SIS_SKIP_ASAN=1).
# Ends with one "N passed, N failed" line; exit status 1 if anything failed.
# SIS_TEST_ONLY=substring limits the Lua tests run; extra args = Lua test files.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export SIS_TEST_ROOT=$(pwd)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# LeakSanitizer: libcurl's and gumbo's process-wide caches are released at exit;
# anything reported here is ours.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0}

passed=0 failed=0 broken=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Runs one suite (the command in "$@"), shows its output and adds its
# "N passed, N failed" line to the totals.
suite() {
    name=$1; shift
    echo "# $name"
    "$@" >"$log" 2>&1
    cat "$log"
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        failed=$((failed + 1)); broken="$broken $name"
        echo "not ok - $name ended without a result line"
        return
    fi
    p=$(echo "$line" | sed -E 's/^(.*[^0-9])?([0-9]+) passed, ([0-9]+) failed.*/\2/')
    f=$(echo "$line" | sed -E 's/^(.*[^0-9])?([0-9]+) passed, ([0-9]+) failed.*/\3/')
    passed=$((passed + p)); failed=$((failed + f))
    [ "$f" = 0 ] || broken="$broken $name"
}

flavours="$BUILD:release"
[ "${SIS_SKIP_ASAN:-0}" = 1 ] || flavours="$flavours $BUILD/asan:asan"
for fl in $flavours; do
    dir=${fl%:*} label=${fl#*:}
    for t in "$dir"/test_*; do
        [ -x "$t" ] && suite "$label/$(basename "$t")" "$t"
    done
    SIS_BIN="$dir/sis" suite "$label/lua" "$dir/sis" run tests/lua/runner.lua "$@"
done
[ -z "$broken" ] || echo "# failing suites:$broken"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
