#!/bin/sh
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for a while.
#   tests/fuzz/run.sh [SECONDS [TARGET...]]     default: 60 s each, every target
# Not part of `make test`. Findings are left as crash-* files in build/fuzz/.
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-json xml date codec redact css prescan}
out=build/fuzz
mkdir -p "$out"
pkgs="lua5.4 expat libcrypto"
srcs="engine/json.c engine/options.c engine/text.c engine/log.c engine/codec.c engine/xml.c engine/date.c"
for t in $targets; do
    # css and prescan are plain C over gumbo (tests/fuzz/fuzz_<target>.c)
    case $t in
    css) main=tests/fuzz/fuzz_css.c deps="engine/css.c" libs=gumbo ;;
    prescan) main=tests/fuzz/fuzz_prescan.c deps="engine/html_prescan.c engine/html_arena.c" libs=gumbo ;;
    *) main=tests/fuzz/fuzz.c deps=$srcs libs=$pkgs ;;
    esac
    clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -DTARGET="$t" -Iinclude -Iengine $(pkg-config --cflags $libs) \
        -o "$out/fuzz_$t" $main $deps $(pkg-config --libs $libs) -lm -lpthread
    corpus="$out/corpus_$t"
    mkdir -p "$corpus"
    case $t in
    json) find tests/fixtures -name '*.json' -size -64k -exec cp {} "$corpus/" \; ;;
    xml) find tests/fixtures -name '*.xml' -size -64k -exec cp {} "$corpus/" \; ;;
    prescan) find tests/fixtures -name '*.html' -size -64k -exec cp {} "$corpus/" \; ;;
    esac
    [ -f tests/fuzz/seeds_$t.txt ] && (cd "$corpus" && split -l 1 -a 3 "../../../tests/fuzz/seeds_$t.txt" seed_)
    (cd "$out" && ./"fuzz_$t" -max_total_time="$secs" -max_len=65536 -timeout=10 "corpus_$t") 2>&1 |
        grep -E 'DONE|^==|SUMMARY|^fuzz:|artifact' || true
done
