#!/bin/sh
# REST front throughput and memory (prints figures, asserts nothing).
#
# wrk against `sis serve` (default 16 worker threads) backed by the fake Focus
# with no added latency: GET / (the front alone) and GET /api/v3/portal (front +
# session + upstream fetch + parse), at 1, 8 and 64 concurrent keep-alive
# clients (wrk -c N -t min(N,2) --latency). 64 Focus sessions are logged in
# first; the wrk script rotates their cookies so requests spread over them.
# Then the server's RSS (/proc/PID/status) after serving the 64 sessions.
# The Python fake Focus costs more CPU per page than sis: the same portal runs
# again with a fast upstream, a cassette of the fake's answers replayed
# (`sis --replay`: no upstream process, no connection: the front, the session
# and the parse), and against the fake Focus over HTTPS (a test CA appended to
# the system bundle, SIS_CA_FILE) for the RSS with TLS connections kept.
# The replayed server's workers let go of their states after 3 s idle
# (SIS_WORKER_IDLE): its RSS is printed again once they have.
# Last, the threads/keep-alive trade-off (docs/server.md): 64 clients against
# a fake Focus answering in 200 ms, with 16 and with 80 worker threads.
#   BENCH_SECONDS=5 sh bench/server_bench.sh
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SIS=${SIS_BIN:-$BUILD/sis}
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
SESSIONS=64

command -v wrk >/dev/null 2>&1 || { echo "server_bench: wrk is not installed (make deps)"; exit 0; }
[ -f tests/servers/fake_focus.py ] || { echo "server_bench: no tests/servers/fake_focus.py yet"; exit 0; }

tmp=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

wait_port() { # wait_port FILE
    i=0
    while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -s "$1" ] || { echo "server_bench: a server did not start"; cat "$tmp"/*.log; exit 1; }
    cat "$1"
}

python3 tests/servers/fake_focus.py --port-file "$tmp/focus.port" >"$tmp/focus.log" 2>&1 &
pids="$pids $!"
python3 tests/servers/fake_focus.py --latency 200 --port-file "$tmp/slow.port" >"$tmp/slow.log" 2>&1 &
pids="$pids $!"
sh tests/servers/make_test_ca.sh "$tmp/ca"
python3 tests/servers/fake_focus.py --tls "$tmp/ca/server.pem" --port-file "$tmp/tls.port" >"$tmp/tls.log" 2>&1 &
pids="$pids $!"
fast="http://127.0.0.1:$(wait_port "$tmp/focus.port")/"
slow="http://127.0.0.1:$(wait_port "$tmp/slow.port")/"
tls="https://127.0.0.1:$(wait_port "$tmp/tls.port")/"

start_sis() { # start_sis THREADS FOCUS_URL [GLOBAL OPTIONS]: sets $sis (pid) and $url
    rm -f "$tmp/sis.port"
    threads=$1 focus=$2
    shift 2
    SIS_LOG_LEVEL=warn "$SIS" "$@" serve --listen 127.0.0.1:0 \
        --threads "$threads" --focus-url "$focus" --port-file "$tmp/sis.port" >"$tmp/sis.log" 2>&1 &
    sis=$!
    pids="$pids $sis"
    url="http://127.0.0.1:$(wait_port "$tmp/sis.port")"
}

user=$(python3 -c 'import json; print(json.load(open("tests/fixtures/focus/pages/manifest.json"))["credentials"]["username"])')
pass=$(python3 -c 'import json; print(json.load(open("tests/fixtures/focus/pages/manifest.json"))["credentials"]["password"])')

# Logs in $SESSIONS sessions and writes the wrk script that rotates them.
login_all() {
    : >"$tmp/cookies"
    i=0
    while [ $i -lt $SESSIONS ]; do
        curl -s -o /dev/null -c "$tmp/jar" -H 'Content-Type: application/json' \
            -d "{\"username\": \"$user\", \"password\": \"$pass\"}" "$url/api/v3/session"
        awk '$6 == "sis_focus" { print $7 }' "$tmp/jar" >>"$tmp/cookies"
        rm -f "$tmp/jar"
        i=$((i + 1))
    done
    n=$(wc -l <"$tmp/cookies")
    [ "$n" -eq $SESSIONS ] || { echo "server_bench: only $n logins worked"; tail -5 "$tmp/sis.log"; exit 1; }
    {
        echo 'local ids, i = {'
        sed 's/.*/  "&",/' "$tmp/cookies"
        echo '}, 0'
        echo 'request = function()'
        echo '  i = i % #ids + 1'
        echo '  return wrk.format(nil, nil, { Cookie = "sis_focus=" .. ids[i] })'
        echo 'end'
    } >"$tmp/rotate.lua"
}

# run LABEL PATH CLIENTS [wrk args]: one line of figures
# CPU ticks (user + system) used by process $1 so far
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run LABEL PATH CLIENTS [wrk args]: one line of figures, with the server's
# CPU per request (independent of what else the machine runs, unlike req/s)
run() {
    label=$1 path=$2 c=$3
    shift 3
    t=$((c < 2 ? c : 2))
    before=$(ticks "$sis")
    wrk -c "$c" -t "$t" -d "${SECONDS_PER_RUN}s" --latency "$@" "$url$path" >"$tmp/wrk.out" 2>&1
    awk -v label="$label" -v c="$c" -v ticks=$(($(ticks "$sis") - before)) -v hz="$(getconf CLK_TCK)" '
        / requests in / { n = $1 }
        /Requests\/sec/ { rps = $2 }
        /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
        /Non-2xx/ { bad = $NF }
        /Socket errors/ { errs = $0; sub(/^ *Socket errors: */, "", errs) }
        END { printf "%-28s %3d clients  %9.0f req/s  p50 %8s  p99 %8s  sis CPU %5.2f ms/req%s%s\n", label, c,
              rps, p50, p99, n ? ticks * 1000 / hz / n : 0,
              bad ? "  (" bad " non-2xx!)" : "", errs ? "  (socket errors: " errs ")" : "" }' "$tmp/wrk.out"
}

rss() { awk '/^VmRSS|^VmHWM/ { printf "%s %.1f MB  ", $1, $2 / 1024 }' "/proc/$1/status"; echo; }

stop_sis() { kill "$sis"; wait "$sis" 2>/dev/null; }

echo "sis serve, fake Focus without latency, ${SECONDS_PER_RUN} s per run, $(nproc) cores"
start_sis 16 "$fast"
login_all
for c in 1 8 64; do run "GET / (front only)" / "$c"; done
for c in 1 8 64; do run "GET /api/v3/portal" /api/v3/portal "$c" -s "$tmp/rotate.lua"; done
printf "RSS after serving %d sessions (16 threads): " "$SESSIONS"
rss "$sis"
stop_sis

echo "replayed upstream (a cassette of the fake Focus's answers: front, sessions and parse only)"
start_sis 16 "$fast" --record "$tmp/cassette"
curl -s -o /dev/null -c "$tmp/jar" -H 'Content-Type: application/json' \
    -d "{\"username\": \"$user\", \"password\": \"$pass\"}" "$url/api/v3/session"
curl -s -o /dev/null -b "$tmp/jar" "$url/api/v3/portal"
rm -f "$tmp/jar"
stop_sis
export SIS_WORKER_IDLE=3
start_sis 16 "$fast" --replay "$tmp/cassette"
unset SIS_WORKER_IDLE
login_all
for c in 1 8 64; do run "GET /api/v3/portal, replayed" /api/v3/portal "$c" -s "$tmp/rotate.lua"; done
printf "RSS after serving %d sessions (16 threads): " "$SESSIONS"
rss "$sis"
sleep 4
printf "RSS 4 s later (SIS_WORKER_IDLE=3: idle workers let go of their Lua states): "
rss "$sis"
stop_sis

echo "fake Focus over HTTPS (connections kept by the workers)"
start_sis 16 "$tls" --ca-file "$tmp/ca/bundle.pem"
login_all
run "GET /api/v3/portal, HTTPS" /api/v3/portal 64 -s "$tmp/rotate.lua"
printf "RSS after serving %d sessions (16 threads): " "$SESSIONS"
rss "$sis"
stop_sis

echo "fake Focus answering in 200 ms, 64 clients"
for threads in 16 80; do
    start_sis "$threads" "$slow"
    login_all
    run "GET /api/v3/portal, $threads threads" /api/v3/portal 64 -s "$tmp/rotate.lua"
    printf "RSS (%d threads): " "$threads"
    rss "$sis"
    stop_sis
done
