#!/usr/bin/env python3
"""Fake ScoDoc 7 server for tests: replays the recorded exchanges of
tests/fixtures/scodoc/responses (see docs/scodoc.md, "The fake ScoDoc").

  fake_scodoc.py --port-file FILE [--latency MS] [--fixtures DIR] [--tls PEM]

Python standard library only; binds 127.0.0.1 on an ephemeral port.

A request is answered in three steps, like ScoDoc 7 under Zope:
1. traversal: the path is resolved with Zope acquisition (a method of an
   enclosing object is reachable through any deeper path); unknown
   department, container or function -> 404 "Resource not found";
2. authentication, as exUserFolder does it: `Authorization: Basic` first,
   else the `__ac_name`/`__ac_password` parameters, else the `__ac` cookie;
   a wrong password -> 401 "Login failed", no user on a protected method ->
   401 "Identifiez-vous", a user without the needed role -> 401 "droits
   suffisants" (all with `WWW-Authenticate: basic realm="Zope"`);
3. replay: the recorded exchange with the same function and the same
   multiset of parameters (query and form merged, credentials left out)
   recorded for the same user (or one with the same rights) is sent back
   with its status, Content-Type and body file unchanged.  Successful
   answers to a parameter or basic login carry `Set-Cookie: __ac=...`.

Absences are state: the writes of scenario-absences.json move the server
along the scenario, and the reads of the scenario are answered from the
step recorded in the current state.  Anything that was not recorded gets
a 500 page saying so (and a line on stderr), never a guess.

Test-only URLs: POST /__fake__/reset (back to the initial data),
GET /__fake__/requests (JSON log of the requests received, passwords
masked), GET /__fake__/state (applied scenario writes), POST /__fake__/next
with {"status", "content_type", "body" [, "headers"]}: the next request gets
that answer instead (unreadable answers, redirects, for the client's tests).
"""
import argparse
import base64
import collections
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True  # no __pycache__ in the tree for the helper below
from fakeserver_common import add_tls_option, serve  # noqa: E402 (tests/servers/, next to this file)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FIXTURES = os.path.join(HERE, "..", "fixtures", "scodoc")

# Zope objects: which methods each one holds, and its children.
FUNCTIONS = {
    "root": {"list_depts", "get_etud_dept"},
    "Scolarite": {"etud_info", "XMLgetEtudInfos", "groups_view", "formsemestre_partition_list"},
    "Notes": {"formation_list", "formation_export", "formsemestre_list",
              "formsemestre_bulletinetud", "do_moduleimpl_list",
              "do_moduleimpl_withmodule_list"},
    "Absences": {"ListeAbsEtud", "doSignaleAbsence", "doJustifAbsence", "doAnnuleAbsence",
                 "doAnnuleJustif", "EtatAbsencesGr"},
}
CHILDREN = {"dept": {"Scolarite"}, "Scolarite": {"Notes", "Absences"}}
ALIASES = {"XMLgetEtudInfos": "etud_info"}
PUBLIC = {"list_depts"}
WRITES = {"doSignaleAbsence", "doJustifAbsence", "doAnnuleAbsence", "doAnnuleJustif"}
CREDENTIALS = {"__ac_name", "__ac_password"}

LOGIN_PAGE = """<html><head><title>ScoDoc: identification</title></head><body>
<h2>Identification</h2>
<p>%s</p>
<form action="%s" method="POST">
<table><tr><td>Nom d'utilisateur:</td><td><input type="TEXT" name="__ac_name" size="20"></td></tr>
<tr><td>Mot de passe:</td><td><input type="PASSWORD" name="__ac_password" size="20"></td></tr></table>
<input type="submit" value="Ok">
</form>
</body></html>
"""
LOGIN_MESSAGES = {
    "failed": "Login failed",
    "anonymous": "Identifiez-vous",
    "forbidden": "Vous n'avez pas les droits suffisants pour cette op&eacute;ration",
}
NOT_FOUND_PAGE = """<html><head><title>Site Error</title></head><body>
<h2>Site Error</h2>
<p>An error was encountered while publishing this resource.</p>
<p><strong>Resource not found</strong></p>
Sorry, the requested resource does not exist.<p>Check the URL and try again.</p>
<p><b>Resource:</b> %s</p>
</body></html>
"""
MISS_PAGE = """<html><head><title>fake_scodoc: not recorded</title></head><body>
<h2>fake_scodoc</h2><p>%s</p></body></html>
"""


def resolve(path, depts):
    """Zope traversal with acquisition. Returns (dept or None, canonical
    path, function name) or None when nothing is found."""
    segs = [s for s in path.split("/") if s]
    if not segs or segs[0] != "ScoDoc":
        return None
    # chain: list of (kind, canonical path) from the root down
    chain = [("root", "/ScoDoc")]
    dept = None
    for i, name in enumerate(segs[1:]):
        last = i == len(segs) - 2
        found = None
        for kind, where in reversed(chain):  # the object itself, then its containers
            if last and name in FUNCTIONS.get(kind, ()):
                return dept, where + "/" + ALIASES.get(name, name), ALIASES.get(name, name)
            if kind == "root" and name in depts and not last:
                found = ("dept", "/ScoDoc/" + name)
                dept = name
            elif name in CHILDREN.get(kind, ()) and not last:
                found = (name, where + "/" + name)
            if found:
                break
        if not found:
            return None
        chain.append(found)
    return None


def basic_credentials(header):
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        name, _, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return name, password


def cookie_value(name, header):
    for part in (header or "").split(";"):
        k, _, v = part.strip().partition("=")
        if k == name:
            return v
    return None


def ac_cookie(name, password):
    raw = base64.b64encode(("%s:%s" % (name, password)).encode("utf-8")).decode("ascii")
    return urllib.parse.quote(raw, safe="")


class Auth:
    """Who a request is: method (basic|params|cookie|none), user (None for
    anonymous) and failed (a known user with a wrong password)."""

    def __init__(self, users, params, headers):
        self.method, self.user, self.failed, self.password = "none", None, False, None
        creds = basic_credentials(headers.get("Authorization"))
        if creds:
            self.method = "basic"
        elif "__ac_name" in params:
            self.method = "params"
            creds = (params["__ac_name"][-1], (params.get("__ac_password") or [""])[-1])
        else:
            raw = cookie_value("__ac", headers.get("Cookie"))
            if raw:
                self.method = "cookie"
                try:
                    decoded = base64.b64decode(urllib.parse.unquote(raw)).decode("utf-8")
                    creds = tuple(decoded.partition(":")[::2])
                except (ValueError, UnicodeDecodeError):
                    creds = None
                    self.failed = True
        if creds and creds[0] in users:  # an unknown user name is anonymous
            if users[creds[0]]["password"] == creds[1]:
                self.user, self.password = creds
            else:
                self.failed = True


def param_multiset(pairs):
    """The parameters that select an answer: all but credentials; Zope's
    `name:list` suffix is dropped."""
    out = []
    for k, v in pairs:
        k = k.split(":", 1)[0]
        if k not in CREDENTIALS:
            out.append((k, v))
    return tuple(sorted(out))


def load_json(*path):
    with open(os.path.join(*path), encoding="utf-8") as f:
        return json.load(f)


class Corpus:
    def __init__(self, fixtures):
        self.dir = os.path.join(fixtures, "responses")
        server = load_json(fixtures, "server.json")
        self.depts = set(server["depts"])
        self.users = {u["user_name"]: u for u in server["users"]}
        manifest = load_json(self.dir, "manifest.json")
        scenario = load_json(self.dir, manifest["scenario"])
        self.student = scenario["student"]
        self.index = collections.defaultdict(list)  # key -> [exchange]
        for ex in manifest["exchanges"]:
            self.index[self.key_of(ex)].append(ex)
        # scenario: writes move the state; reads are indexed by the state
        # (the sorted tuple of write steps applied before them)
        self.scenario_writes = {}  # key -> step
        self.scenario_reads = collections.defaultdict(dict)  # key -> {state: exchange}
        applied = []
        for step in scenario["steps"]:
            key = self.key_of(step)
            if key[1] in WRITES:
                self.scenario_writes[key] = step
                applied.append(step["step"])
            else:
                self.scenario_reads[key][tuple(sorted(applied))] = step

    def roles(self, user, dept):
        return set(self.users[user]["roles"].get(dept, ())) if user else set()

    def outcome(self, auth, dept, function):
        """None when allowed, else the kind of 401 page."""
        if auth.failed:
            return "failed"
        if function in PUBLIC:
            return None
        if not auth.user:
            return "anonymous"
        if dept is None:
            return None  # root functions: any known user
        need = "ScoAbsChange" if function in WRITES else "ScoView"
        return None if need in self.roles(auth.user, dept) else "forbidden"

    def key_of(self, ex):
        req = ex["request"]
        res = resolve(req["path"], self.depts)
        if not res:
            return ("404", req["path"])
        dept, canonical, function = res
        pairs = req["query"] + req.get("form", [])
        params = collections.defaultdict(list)
        for k, v in pairs:
            params[k].append(v)
        auth = Auth(self.users, params, req.get("headers", {}))
        ex["_auth"] = auth
        ex["_outcome"] = self.outcome(auth, dept, function)
        return (canonical, function, param_multiset(pairs))

    def body(self, ex):
        with open(os.path.join(self.dir, ex["response"]["body_file"]), "rb") as f:
            return f.read()

    def rights(self, user):
        """What a user may see: used to answer a user with the recording of
        another one with the same rights (e.g. secr_info reads)."""
        return tuple(sorted(d for d, r in self.users[user]["roles"].items()
                            if "ScoView" in r)) if user else ()

    def pick(self, candidates, auth, outcome, raw_path):
        """The best recorded exchange among candidates for this request."""
        if outcome:
            fitting = [ex for ex in candidates if ex["_outcome"] == outcome]
        else:
            fitting = [ex for ex in candidates if ex["_outcome"] is None and
                       ex["_auth"].user == auth.user]
            if not fitting:
                fitting = [ex for ex in candidates if ex["_outcome"] is None and
                           self.rights(ex["_auth"].user) == self.rights(auth.user)]
        # the path as sent first (acquisition answers were recorded too)
        fitting.sort(key=lambda ex: ex["request"]["path"] != raw_path)
        return fitting[0] if fitting else None


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.applied = []
        self.requests = []
        self.canned = []


def make_handler(corpus, state, latency):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes
        server_version = "Zope/(2.13.22, python 2.7.13, linux2) ZServer/1.1"
        sys_version = ""

        def log_message(self, fmt, *args):  # quiet: tests read stderr only on failure
            pass

        def send(self, status, ctype, body, extra=None):
            if latency:
                time.sleep(latency / 1000.0)
            if isinstance(body, str):
                body = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def miss(self, why):
            sys.stderr.write("fake_scodoc: %s\n" % why)
            self.send(500, "text/html", MISS_PAGE % why)

        def do_GET(self):
            self.handle_request()

        def do_POST(self):
            self.handle_request()

        def handle_request(self):
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            pairs = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
            if body and "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                pairs += urllib.parse.parse_qsl(body, keep_blank_values=True)
            path = urllib.parse.unquote(url.path)
            if path.startswith("/__fake__/"):
                return self.test_url(path, body)
            with state.lock:
                canned = state.canned.pop(0) if state.canned else None
            if canned:
                return self.send(canned.get("status", 200), canned.get("content_type", "text/html"),
                                 canned.get("body", ""), canned.get("headers"))
            params = collections.defaultdict(list)
            for k, v in pairs:
                params[k.split(":", 1)[0]].append(v)
            auth = Auth(corpus.users, params, self.headers)
            with state.lock:
                state.requests.append({
                    "method": self.command, "path": path, "auth": auth.method, "user": auth.user,
                    "params": [[k, "***" if k == "__ac_password" else v] for k, v in pairs],
                    "authorization": bool(self.headers.get("Authorization")),
                    "cookie": self.headers.get("Cookie") is not None,
                })
            res = resolve(path, corpus.depts)
            if not res:  # logout (recorded) or 404
                ex = (corpus.index.get(("404", path)) or [None])[0]
                if ex:
                    r = ex["response"]
                    extra = {k: v for k, v in r["headers"].items() if k == "Set-Cookie"}
                    return self.send(r["status"], r["headers"]["Content-Type"], corpus.body(ex), extra)
                return self.send(404, "text/html", NOT_FOUND_PAGE % path)
            dept, canonical, function = res
            outcome = corpus.outcome(auth, dept, function)
            key = (canonical, function, param_multiset(pairs))
            if outcome:
                ex = corpus.pick(corpus.index.get(key, []), auth, outcome, path)
                body = corpus.body(ex) if ex else LOGIN_PAGE % (LOGIN_MESSAGES[outcome], path)
                return self.send(401, "text/html", body, {"WWW-Authenticate": 'basic realm="Zope"'})
            ex = self.stateful(key, dict(key[2]))
            if ex is False:
                return
            if ex is None:
                ex = corpus.pick(corpus.index.get(key, []), auth, None, path)
            if ex is None:
                return self.miss("no recorded answer for %s %s" % (canonical, list(key[2])))
            status = ex["response"]["status"]
            extra = {}
            if status == 200 and auth.method in ("params", "basic") and auth.user:
                extra["Set-Cookie"] = "__ac=%s; Path=/" % ac_cookie(auth.user, auth.password)
            self.send(status, ex["response"]["headers"]["Content-Type"], corpus.body(ex), extra)

        def stateful(self, key, params):
            """The scenario answer for this request in the current state:
            an exchange, None (not a scenario request: use the manifest), or
            False (answered here already: a state that was not recorded)."""
            with state.lock:
                if key in corpus.scenario_writes:
                    step = corpus.scenario_writes[key]
                    state.applied.append(step["step"])
                    return step
                current = tuple(sorted(state.applied))
            recorded = corpus.scenario_reads.get(key)
            if recorded is not None:
                if current in recorded:
                    return recorded[current]
                if not current:
                    return None
            if current and params.get("etudid") == corpus.student and key[1] not in WRITES:
                self.miss("no answer recorded for %s %s after scenario writes %s"
                          % (key[0], list(key[2]), list(current)))
                return False
            if recorded is not None:
                self.miss("scenario state %s was not recorded for %s" % (list(current), key[0]))
                return False
            return None

        def test_url(self, path, body):
            if path == "/__fake__/next":
                with state.lock:
                    state.canned.append(json.loads(body))
                return self.send(200, "application/json", '{"queued": true}')
            if path == "/__fake__/reset":
                with state.lock:
                    state.applied = []
                    state.requests = []
                    state.canned = []
                return self.send(200, "application/json", '{"reset": true}')
            if path == "/__fake__/requests":
                with state.lock:
                    body = json.dumps(state.requests)
                return self.send(200, "application/json", body)
            if path == "/__fake__/state":
                with state.lock:
                    body = json.dumps({"applied": state.applied})
                return self.send(200, "application/json", body)
            return self.send(404, "text/html", NOT_FOUND_PAGE % path)

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0, help="added delay per answer, in ms")
    ap.add_argument("--fixtures", default=DEFAULT_FIXTURES)
    add_tls_option(ap)
    args = ap.parse_args()
    corpus = Corpus(args.fixtures)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(corpus, State(), args.latency))
    server.daemon_threads = True
    serve(server, args.port_file, args.tls)


if __name__ == "__main__":
    main()
