#!/bin/sh
# The bundled demo school (`make run`): the fake Focus (and the fake ScoDoc
# when present) on loopback, then `sis serve` against them on 127.0.0.1:5000.
#
#   SIS_LISTEN=127.0.0.1:8000 make run        another address
#   SIS_FOCUS_URL=https://focus.example.org/ make run    a real Focus, no fake
#   SIS_SCODOC_URL=https://scodoc.example.org/ make run  a real ScoDoc, no fake
#   DEMO_LATENCY=150 make run                 fake upstream latency per answer, ms
#
# A taken address is said before anything starts. Ctrl-C stops sis, then the fakes.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SIS="$BUILD/sis"
LISTEN=${SIS_LISTEN:-127.0.0.1:5000}
case $LISTEN in *:*) ;; *) LISTEN=127.0.0.1:$LISTEN ;; esac # a bare port: loopback
LATENCY=${DEMO_LATENCY:-0}
[ -x "$SIS" ] || { echo "demo-school: $SIS is not built (run make)" >&2; exit 1; }

# The address must be free: said now, before the banner and the fakes, not in
# a log line after them. (SO_REUSEADDR as civetweb: a port in TIME_WAIT is free.)
why=$(python3 - "${LISTEN%:*}" "${LISTEN##*:}" 2>&1 <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind((sys.argv[1], int(sys.argv[2])))
except (OSError, ValueError) as e:
    sys.exit(getattr(e, "strerror", None) or str(e))
PY
) || {
    port=${LISTEN##*:}
    case $port in ''|*[!0-9]*) port=5000 ;; esac
    echo "demo-school: cannot listen on $LISTEN: $why" >&2
    echo "demo-school: choose another address, e.g. SIS_LISTEN=127.0.0.1:$((port + 1)) make run" >&2
    exit 1
}

tmp=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts a fake upstream ($1 = name, then its command); sets $url to its base.
start_fake() {
    name=$1; shift
    "$@" --port-file "$tmp/$name.port" --latency "$LATENCY" >"$tmp/$name.log" 2>&1 &
    pids="$pids $!"
    i=0
    while [ ! -s "$tmp/$name.port" ]; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "demo-school: the fake $name did not start:" >&2
            cat "$tmp/$name.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    url="http://127.0.0.1:$(cat "$tmp/$name.port")/"
}

field() { # field FILE EXPR: a value from a JSON file (python3 stdlib)
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

if [ -z "${SIS_FOCUS_URL:-}" ]; then
    if [ ! -f tests/servers/fake_focus.py ]; then
        echo "demo-school: tests/servers/fake_focus.py is missing; set SIS_FOCUS_URL" >&2
        exit 1
    fi
    start_fake focus python3 tests/servers/fake_focus.py
    SIS_FOCUS_URL=$url
    focus_user=$(field tests/fixtures/focus/pages/manifest.json 'd["credentials"]["username"]')
    focus_pass=$(field tests/fixtures/focus/pages/manifest.json 'd["credentials"]["password"]')
    fake_focus=1
fi
if [ -z "${SIS_SCODOC_URL:-}" ] && [ -f tests/servers/fake_scodoc.py ]; then
    start_fake scodoc python3 tests/servers/fake_scodoc.py
    SIS_SCODOC_URL=$url
    scodoc_user=$(field tests/fixtures/scodoc/server.json 'd["users"][0]["user_name"]')
    scodoc_pass=$(field tests/fixtures/scodoc/server.json 'd["users"][0]["password"]')
fi

# The ids the fake ScoDoc knows: it replays recorded exchanges only, so these
# are the ones that answer (from tests/fixtures/scodoc/responses/manifest.json).
scodoc_ids() {
    python3 - tests/fixtures/scodoc/responses/manifest.json <<'PY'
import collections, json, sys
bulletins, students, groups = collections.defaultdict(set), set(), set()
for e in json.load(open(sys.argv[1]))["exchanges"]:
    r = e["request"]
    q, fn = dict(r["query"]), r["path"].rsplit("/", 1)[-1]
    if e["response"]["status"] != 200 or "/INFO/" not in r["path"]:
        continue
    if fn == "formsemestre_bulletinetud" and "etudid" in q and "formsemestre_id" in q:
        bulletins[q["formsemestre_id"]].add(q["etudid"])
    elif fn == "etud_info" and q.get("etudid", "").startswith("EID31"):
        students.add(q["etudid"])
    elif fn == "groups_view" and "group_ids" in q:
        groups.add(q["group_ids"])
print("    students     " + " ".join(sorted(students)))
print("    groups       " + " ".join(sorted(groups)))
for sem in sorted(bulletins):
    print("    bulletins    %s: %s" % (sem, " ".join(sorted(bulletins[sem]))))
PY
}
export SIS_FOCUS_URL
[ -z "${SIS_SCODOC_URL:-}" ] || export SIS_SCODOC_URL

api="http://$LISTEN/api"
cat <<EOF
sis demo school
  REST API    http://$LISTEN/   (index of the endpoints)
  Focus       $SIS_FOCUS_URL${fake_focus:+  (fake, tests/fixtures/focus)}
  ScoDoc      ${SIS_SCODOC_URL:-(none: set SIS_SCODOC_URL)}${scodoc_user:+  (fake, tests/fixtures/scodoc)}
EOF
if [ -n "${fake_focus:-}" ]; then
    cat <<EOF

Focus demo student: $focus_user / $focus_pass
  curl -s -c jar -H 'Content-Type: application/json' \\
       -d '{"username": "$focus_user", "password": "$focus_pass"}' $api/v3/session
  curl -s -b jar $api/v3/portal
  curl -s -b jar --compressed $api/v3/courses
  curl -s -b jar -X PUT -H 'Content-Type: application/json' -d '{"year": 2015, "mp_id": 315}' $api/v3/session
  curl -s -b jar -X DELETE $api/v3/session
 the same from the command line (no server needed):
  export SIS_FOCUS_URL=$SIS_FOCUS_URL SIS_FOCUS_USER=$focus_user SIS_FOCUS_PASSWORD=$focus_pass
  $SIS focus portal
  $SIS focus courses 24101
  $SIS focus --year 2015 --mp 315 schedule
EOF
fi
if [ -n "${scodoc_user:-}" ]; then
    cat <<EOF

ScoDoc demo reader: $scodoc_user / $scodoc_pass, department INFO. The fake answers the
recorded requests only; the ids they use:
$(scodoc_ids)
  curl -s -c jar2 -H 'Content-Type: application/json' \\
       -d '{"username": "$scodoc_user", "password": "$scodoc_pass"}' $api/scodoc/session
  curl -s -b jar2 $api/scodoc/depts
  curl -s -b jar2 $api/scodoc/INFO/students/EID3101/bulletins/SEM3190
 the same from the command line (no server needed):
  export SIS_SCODOC_URL=$SIS_SCODOC_URL SIS_SCODOC_USER=$scodoc_user SIS_SCODOC_PASSWORD=$scodoc_pass
  $SIS scodoc list_depts
  $SIS scodoc formsemestre_bulletinetud dept=INFO formsemestre_id=SEM3190 etudid=EID3101
  $SIS run examples/bulletin.lua INFO EID3101 SEM3190
EOF
fi
echo
echo "Ctrl-C to stop."
echo

# Not exec: the fakes are stopped once sis has stopped. Ctrl-C reaches sis
# directly too; the extra SIGTERM is harmless (only a second SIGINT forces).
"$SIS" serve --listen "$LISTEN" &
sis=$!
trap 'kill -TERM $sis 2>/dev/null || true' INT TERM
status=0
wait "$sis" || status=$?
if kill -0 "$sis" 2>/dev/null; then # the wait was cut short by a signal
    status=0
    wait "$sis" || status=$?
fi
exit "$status"
