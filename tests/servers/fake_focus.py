#!/usr/bin/env python3
"""A fake Focus for Schools server for the tests (Python stdlib only).

Serves the corpus of tests/fixtures/focus/pages/ the way Focus did (see
docs section 5 of focus-pages.md): login POST with a fresh PHPSESSID, 302 to
index.php without a live session, marking-period switching through
side_syear/side_mp, pages per marking period, 404 with the not_found body,
wildcard calendar popups, the finalGrades APIEndpoint with its HMAC check,
the photo without authentication and logout.

--generation 2018 serves tests/fixtures/focus-2018/ the way the Focus of 2018
and later does (docs/compatibility.md, "Later Focus generations"): the
Student page is a JavaScript application whose data comes from a multipart
POST of `__call__` to focus/classes/FocusModule.class.php, checked against
the per-session tokens the page hands out (EditController cache:getFieldData,
AddressController getAddresses / getContacts); the final-grades page gives
a per-session HMAC key in Focus.API.allowAccess(...), and the finalGrades API
lives at focus/legacy_API/APIEndpoint.php with requestGrades and
requestDomains (focus/API/APIEndpoint.php answers 404).

--sso puts a fake SAML identity provider in front (fake_idp.py, on another
port of 127.0.0.1): focus/ and focus/index.php redirect to its ADFS-like
form (UserName / Password); a good password answers the auto-posting page
whose SAMLResponse / RelayState go back to
focus/simplesaml/module.php/saml/sp/saml2-acs.php/default-sp, which opens
the Focus session. The identity provider keeps its own session (cookie
MSISAuth, --idp-session-timeout): after Focus forgot its session, the way
back through the identity provider answers the auto-post page at once.
--idp-mode mfa asks for a one-time code after the password, chooser shows an
account chooser first: both are pages sis cannot get through.

Test helpers (not part of Focus):
  GET /__stats            JSON counters (logins, requests, connections accepted,
                          max in-flight, ...)
  GET /__stats?reset=1    same, then reset the counters
  GET /__fault?mode=M&match=S[&count=N][&delay=SEC]
                          the next N (default: all) requests whose path+query
                          contains S answer: 500 (HTTP 500), garbage (200 with an
                          unreadable page), hang (sleep `delay` s, default 5, then
                          serve), expire (forget the session first), login_page
                          (forget it and answer the login page itself, 200, after
                          a UTF-8 byte-order mark), expire_idp (the identity
                          provider forgets its sessions); mode=none clears every
                          fault.
  GET /__reload           read the pages directory again (tests that change a
                          page between two polls edit a copy given as --pages)

usage: fake_focus.py --port-file FILE [--generation 2016|2018] [--pages DIR]
                     [--session-timeout SEC] [--latency MS] [--password PASSWORD] [--tls PEM]
                     [--sso [--idp-session-timeout SEC] [--idp-mode form|mfa|chooser]]
"""
import argparse
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

sys.dont_write_bytecode = True  # no __pycache__ in the tree for the helper below
from fakeserver_common import add_tls_option, serve  # noqa: E402 (tests/servers/, next to this file)
import fake_focus_later as later  # noqa: E402
import fake_idp as idp  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PAGES = {"2016": os.path.join(HERE, "..", "fixtures", "focus", "pages"),
         "2018": os.path.join(HERE, "..", "fixtures", "focus-2018", "pages")}
HTML = "text/html; charset=UTF-8"


def strip_tags(s):
    return re.sub(r"<[^>]*>?", "", s)


def split_modname(params):
    """Centre's Modules.php: modname=A.php?x=1?y=2 means modname=A.php&x=1&y=2."""
    out = []
    for k, v in params:
        v = strip_tags(v)
        if k == "modname" and "?" in v:
            first, *rest = v.split("?")
            out.append((k, first))
            for piece in rest:
                if "=" in piece:
                    out.append(tuple(piece.split("=", 1)))
        else:
            out.append((k, v))
    return out


class Corpus:
    def __init__(self, pages_dir):
        self.dir = pages_dir
        with open(os.path.join(pages_dir, "manifest.json"), encoding="utf-8") as f:
            self.manifest = m = json.load(f)
        self.ignored = set(m["url_rules"]["ignored_params"])
        self.credentials = dict(m["credentials"])
        self.student_id = m["student_id"]
        self.secret = m["api_secret"].encode()
        self.years = {y["syear"]: [mp["id"] for mp in y["mps"]] for y in m["years"]}
        self.mp_titles = {mp["id"]: mp["title"] for y in m["years"] for mp in y["mps"]}
        self.default = (m["default"]["syear"], m["default"]["mp"])
        self.generation = m.get("generation", "2016")
        self.api_path = "/" + m.get("api", {}).get("endpoint", "focus/API/APIEndpoint.php")
        self.app = m.get("app")
        self.calls = later.Calls(pages_dir, self.app) if self.app else None
        self.domains = {}
        if m.get("api", {}).get("domains"):
            with open(os.path.join(pages_dir, m["api"]["domains"]), encoding="utf-8") as f:
                self.domains = json.load(f)
        self.entries = []
        self.not_found = None
        for e in m["pages"]:
            with open(os.path.join(pages_dir, e["file"]), "rb") as f:
                body = f.read()
            entry = dict(e, body=body)
            if e["url"] == "*":
                self.not_found = entry
                continue
            path, _, query = e["url"].partition("?")
            entry["path"] = "/" + path
            entry["params"] = dict(self.page_params(parse_qsl(query, keep_blank_values=True)))
            self.entries.append(entry)

    def page_params(self, params):
        return [(k, v) for k, v in split_modname(params) if k not in self.ignored]

    def find(self, method, path, params, mp):
        """The manifest entry for a page request, or None (→ 404). Exact entries
        win over wildcard ones (`event_id=*`: the "does not exist" popup)."""
        candidates = [e for e in self.entries
                      if e["path"] == path and e["method"] == method and "match" not in e
                      and e["mp"] in ("*", mp) and set(e["params"]) == set(params)]
        for wildcard_ok in (False, True):
            for e in candidates:
                if all(params[k] == v or (wildcard_ok and v == "*")
                       for k, v in e["params"].items()):
                    return e
        return None

    def api_entry(self, fields):
        for e in self.entries:
            if "match" in e and all(fields.get(k) == v for k, v in e["match"].items()):
                return e
        return None


class State:
    """Sessions, counters and faults, shared by the handler threads."""

    def __init__(self, corpus, timeout, latency, password):
        self.corpus = corpus
        self.password = password
        self.provider = None  # the identity provider (--sso), fake_idp.Provider
        self.idp_origin = None
        self.timeout = timeout
        self.latency = latency / 1000.0
        if password is not None:
            corpus.credentials["password"] = password
        self.lock = threading.Lock()
        self.sessions = {}
        self.faults = []
        self.reset_stats()

    def reset_stats(self):
        self.stats = {"requests": 0, "connections": 0, "logins": 0, "login_failures": 0, "logouts": 0,
                      "expired": 0, "redirects_to_login": 0, "in_flight": 0,
                      "max_in_flight": 0, "api_calls": 0, "mp_switches": 0, "paths": {},
                      "app_calls": 0, "app_refused": 0, "domain_requests": 0,
                      "idp_logins": 0, "idp_login_failures": 0, "idp_auto_posts": 0,
                      "saml_logins": 0, "saml_refused": 0}

    def count(self, key):
        with self.lock:
            self.stats[key] += 1

    def session(self, sid):
        """The live session for a cookie value (touching it), or None."""
        with self.lock:
            s = self.sessions.get(sid)
            if s is None:
                return None
            now = time.time()
            if now - s["last"] > self.timeout:
                del self.sessions[sid]
                self.stats["expired"] += 1
                return None
            s["last"] = now
            return s

    def new_session(self):
        sid = secrets.token_hex(13)
        year, mp = self.corpus.default
        session = {"id": sid, "year": year, "mp": mp, "flags": set(), "last": time.time()}
        if self.corpus.generation != "2016":
            session.update(later.new_session_values(self.corpus))
        with self.lock:
            self.sessions[sid] = session
        return session

    def drop(self, sid):
        with self.lock:
            self.sessions.pop(sid, None)

    def take_fault(self, target):
        with self.lock:
            for f in self.faults:
                if f["match"] in target and f["count"] != 0:
                    f["count"] -= 1
                    return f
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without this, Nagle + delayed
    # ACK hold the body of a kept-alive connection back for 40 ms
    disable_nagle_algorithm = True
    server_version = "Apache"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet: tests read the log only on failure
        pass

    def setup(self):
        super().setup()
        self.st.count("connections")  # one handler per connection: kept-alive ones are reused

    @property
    def st(self):
        return self.server.state

    # -- plumbing ---------------------------------------------------------------

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def read_form(self):
        return parse_qsl(self.read_body().decode("utf-8", "replace"), keep_blank_values=True)

    @property
    def origin(self):
        scheme = "https" if hasattr(self.connection, "cipher") else "http"
        return "%s://%s" % (scheme, self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_address[1])

    def cookie(self, name):
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == name:
                return v
        return None

    def send(self, status, body=b"", ctype=HTML, headers=(), session=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if session is not None:
            expiry = int(time.time() + self.st.timeout)
            self.send_header("Set-Cookie", "PHPSESSID=%s; path=/; HttpOnly" % session["id"])
            self.send_header("Set-Cookie", "session_timeout=%d; path=/" % expiry)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def redirect(self, location, session=None):
        self.send(302, "", headers=[("Location", location)], session=session)

    def json(self, obj, session=None):
        self.send(200, json.dumps(obj), "application/json; charset=UTF-8", session=session)

    # -- dispatch ---------------------------------------------------------------

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def dispatch(self):
        url = urlsplit(self.path)
        if url.path.startswith("/__"):
            return self.control(url)
        st = self.st
        with st.lock:
            st.stats["requests"] += 1
            st.stats["in_flight"] += 1
            st.stats["max_in_flight"] = max(st.stats["max_in_flight"], st.stats["in_flight"])
            st.stats["paths"][url.path] = st.stats["paths"].get(url.path, 0) + 1
        try:
            if st.latency:
                time.sleep(st.latency)
            fault = st.take_fault(self.path)
            if fault and fault["mode"] == "hang":
                time.sleep(fault["delay"])
            elif fault and fault["mode"] == "500":
                self.drain()
                return self.send(500, "<html><body><h1>500 Internal Server Error</h1></body></html>")
            elif fault and fault["mode"] == "garbage":
                self.drain()
                return self.send(200, "<html><body><p>\x00 ### not a Focus page ### </p></body></html>")
            elif fault and fault["mode"] == "expire_idp" and st.provider:
                st.provider.forget_all()
            elif fault and fault["mode"] in ("expire", "login_page"):
                sid = self.cookie("PHPSESSID")
                if sid:
                    st.drop(sid)
                if fault["mode"] == "login_page":
                    self.drain()
                    entry = next(e for e in st.corpus.entries if e["path"] == "/focus/index.php")
                    body = entry["body"] if isinstance(entry["body"], bytes) else entry["body"].encode()
                    return self.send(200, b"\xef\xbb\xbf" + body, entry["content_type"])
            self.route(url)
        finally:
            with st.lock:
                st.stats["in_flight"] -= 1

    def drain(self):
        if self.command == "POST":
            self.read_form()

    def route(self, url):
        path = url.path
        query = parse_qsl(url.query, keep_blank_values=True)
        st = self.st
        raw = self.read_body() if self.command == "POST" else b""
        ctype = self.headers.get("Content-Type") or ""
        form = [] if ctype.startswith("multipart/") else parse_qsl(raw.decode("utf-8", "replace"),
                                                                   keep_blank_values=True)
        if path in ("/focus/index.php", "/focus/"):  # focus/ is index.php (Apache's DirectoryIndex)
            return self.index(query, form)
        if path.startswith("/photos/"):
            return self.photo(path)
        if path == idp.ACS_PATH and st.provider and self.command == "POST":
            return self.assertion_consumer(dict(form))
        session = st.session(self.cookie("PHPSESSID") or "")
        if session is None:
            st.count("redirects_to_login")
            return self.redirect("index.php")
        if path == "/focus/Side.php":
            self.side(session, query + form)
            return self.redirect("Modules.php?modname=misc/Portal.php", session)
        if path == "/focus/Modules.php":
            return self.modules(session, query, form)
        if path == st.corpus.api_path and self.command == "POST":
            return self.api(session, form)
        if st.corpus.app and path == "/" + st.corpus.app["url"] and self.command == "POST":
            return self.app_call(session, ctype, raw)
        return self.not_found(session)

    # -- Focus pages --------------------------------------------------------------

    def index(self, query, form):
        st = self.st
        names = [k for k, _ in query]
        sid = self.cookie("PHPSESSID")
        if "logout" in names or dict(query).get("modfunc") == "logout":
            if sid:
                st.drop(sid)
            st.count("logouts")
            return self.redirect("index.php")
        fields = dict(form)
        if st.provider and not st.session(sid or ""):
            # single sign-on: Focus has no login form of its own
            return self.redirect(idp.authn_request_url(st.idp_origin, self.origin))
        if self.command == "POST" and fields.get("login") == "true":
            # `data` is itself a query string (jQuery serialize()); decoding it as
            # one accepts raw and properly URL-encoded credentials alike.
            creds = dict(parse_qsl(fields.get("data", ""), keep_blank_values=True))
            if creds.get("username") == st.corpus.credentials["username"] and \
                    creds.get("password") == st.corpus.credentials["password"]:
                if sid:
                    st.drop(sid)  # session id regenerated on login
                st.count("logins")
                session = st.new_session()
                return self.json({"success": True, "url": "Modules.php?modname=misc/Portal.php"},
                                 session)
            st.count("login_failures")
            return self.json({"success": False,
                              "error": "Your username or password is incorrect. Please try again."})
        session = st.session(sid or "")
        if session:
            return self.redirect("Modules.php?modname=misc/Portal.php", session)
        entry = next(e for e in st.corpus.entries if e["path"] == "/focus/index.php")
        self.send(200, entry["body"], entry["content_type"])

    def photo(self, path):
        for e in self.st.corpus.entries:
            if e["path"] == path and e.get("auth") is False:
                return self.send(200, e["body"], e["content_type"])
        self.send(404, self.st.corpus.not_found["body"])

    def side(self, session, params):
        """side_syear / side_mp as posted by the side form (any Modules.php page)."""
        p = dict(params)
        years = self.st.corpus.years
        year = p.get("side_syear")
        mp = p.get("side_mp")
        if year is None and mp is None:
            return
        year = int(year) if year and year.isdigit() and int(year) in years else None
        if year is None and mp is not None:
            year = next((y for y, mps in years.items() if mp in mps), None)
        if year is None:
            return
        if mp not in years[year]:
            mp = years[year][-1]  # another year: its last marking period
        session["year"], session["mp"] = year, mp
        self.st.count("mp_switches")

    def modules(self, session, query, form):
        self.side(session, query + form)
        params = dict(self.st.corpus.page_params(query))
        entry = self.st.corpus.find("GET", "/focus/Modules.php", params, session["mp"])
        if entry is None:
            return self.not_found(session)
        if entry.get("sets_flag"):
            session["flags"].add(entry["sets_flag"])
        body = entry["body"]
        if entry["content_type"].startswith("text/html"):
            body = self.with_side(body.decode("utf-8"), session)
            if entry.get("app") == "student":
                body = later.render_student(body, session, self.origin)
            elif entry.get("sets_flag") and "api_key" in session:
                body = later.render_final_grades(body, session)
        self.send(200, body, entry["content_type"], session=session)

    def not_found(self, session):
        self.send(404, self.with_side(self.st.corpus.not_found["body"].decode("utf-8"), session),
                  session=session)

    def with_side(self, html, session):
        """Rewrites the side selects and the session script for the session's
        year/mp, in the page's own spelling: `<select name="side_syear">` with
        `selected` (2016-17), or `<SELECT name=side_syear>` with `SELECTED` and
        the marking periods in an optgroup (later pages)."""
        corpus = self.st.corpus
        year, mp = str(session["year"]), session["mp"]

        def years_select(m):
            opts = re.sub(r' (selected|SELECTED)(?=>)', "", m.group(2))
            opts = re.sub(r'(value="?%s"?)>' % year, lambda o: o.group(1) + (" SELECTED>" if m.group(1).startswith(
                "<SELECT") else " selected>"), opts)
            return m.group(1) + opts + m.group(3)

        html = re.sub(r'(<select name="?side_syear\b[^>]*>)(.*?)(</select>)', years_select, html,
                      flags=re.S | re.I)

        def mps_select(m):
            later_style = m.group(1).startswith("<SELECT")
            tag, sel = ("OPTION", " SELECTED") if later_style else ("option", " selected")
            opts = "".join('<%s value="%s"%s>%s</%s>' % (tag, i, sel if i == mp else "", corpus.mp_titles[i], tag)
                           for i in corpus.years[session["year"]])
            if later_style:
                opts = '<optgroup label="Semesters">%s</optgroup>' % opts
            return m.group(1) + opts + m.group(2)

        html = re.sub(r'(<select name="?side_mp\b[^>]*>).*?(</select>)', mps_select, html, flags=re.S | re.I)
        html = re.sub(r'"UserSyear":"\d+","UserMP":"\d+"',
                      '"UserSyear":"%s","UserMP":"%s"' % (year, mp), html)
        html = re.sub(r'"syear": "\d+", "mp": "\d+"', '"syear": "%s", "mp": "%s"' % (year, mp), html)
        return html

    def api(self, session, form):
        st = self.st
        st.count("api_calls")
        fields = dict(form)
        # 2016-17: one key in Focus's JavaScript; later: a key per session, in the page
        key = session["api_key"].encode() if "api_key" in session else st.corpus.secret
        want = hmac.new(key, ("-%s-%s-%s" % (fields.get("accessID"), fields.get("api"),
                                             fields.get("method"))).encode(),
                        hashlib.sha1).hexdigest()
        if not hmac.compare_digest(want, fields.get("signature", "")):
            return self.json({"success": False, "error": "Invalid signature"}, session)
        if fields.get("accessID") != st.corpus.student_id:
            return self.json({"success": False, "error": "Access denied"}, session)
        if st.corpus.domains and fields.get("method") == "requestDomains":
            if "final_grades_page_seen" not in session["flags"]:
                return self.json({"success": False, "error": "Access denied"}, session)
            st.count("domain_requests")
            return self.json(later.domains_answer(st.corpus.domains, fields), session)
        entry = st.corpus.api_entry(fields)
        if entry is None:
            return self.json({"success": False, "error": "Unknown request"}, session)
        if entry.get("requires_flag") and entry["requires_flag"] not in session["flags"]:
            return self.json({"success": False, "error": "Access denied"}, session)
        self.send(200, entry["body"], entry["content_type"], session=session)

    def app_call(self, session, ctype, raw):
        """The Student application's POST: a multipart body whose `__call__`
        field lists controller requests, each with its token."""
        st = self.st
        try:
            fields = later.multipart_fields(ctype, raw)
            call = json.loads(fields["__call__"])
            requests = call["requests"]
            if not isinstance(requests, list):
                raise ValueError("requests is not a list")
        except (ValueError, KeyError, TypeError) as e:
            st.count("app_refused")
            return self.send(400, json.dumps({"error": "Bad request: %s" % e}), "application/json",
                             session=session)
        answers = [st.corpus.calls.answer(session, r) for r in requests]
        st.count("app_calls")
        if any("error" in a for a in answers):
            st.count("app_refused")
        self.json(answers, session)

    def assertion_consumer(self, fields):
        """Focus's SAML assertion consumer: a SAMLResponse the identity provider
        issued (once, not stale) opens a Focus session; then back to RelayState."""
        st = self.st
        user = st.provider.accept(fields.get("SAMLResponse", ""))
        if user is None:
            st.count("saml_refused")
            return self.send(403, "<html><body><h1>SimpleSAMLphp error</h1><p>Unable to validate the "
                                  "SAML response.</p></body></html>")
        old = self.cookie("PHPSESSID")
        if old:
            st.drop(old)
        st.count("saml_logins")
        st.count("logins")
        session = st.new_session()
        relay = fields.get("RelayState") or "/focus/"
        self.redirect(relay, session)

    # -- test control -------------------------------------------------------------

    def control(self, url):
        st = self.st
        q = dict(parse_qsl(url.query, keep_blank_values=True))
        if url.path == "/__stats":
            with st.lock:
                body = json.dumps(dict(st.stats, sessions=len(st.sessions), idp=st.idp_origin))
                if q.get("reset"):
                    st.reset_stats()
            return self.send(200, body, "application/json")
        if url.path == "/__fault":
            with st.lock:
                if q.get("mode") == "none":
                    st.faults = []
                else:
                    st.faults.append({"mode": q.get("mode", "500"), "match": q.get("match", ""),
                                      "count": int(q.get("count", -1)),
                                      "delay": float(q.get("delay", 5))})
            return self.send(200, "{}", "application/json")
        if url.path == "/__reload":
            corpus = Corpus(st.corpus.dir)
            if st.password is not None:
                corpus.credentials["password"] = st.password
            with st.lock:
                st.corpus = corpus
            return self.send(200, "{}", "application/json")
        self.send(404, "{}", "application/json")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def main():
    ap = argparse.ArgumentParser(description="fake Focus for Schools server (tests)")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--generation", choices=sorted(PAGES), default="2016",
                    help="the Focus to play: 2016 (2016-17 pages) or 2018 (the later layouts)")
    ap.add_argument("--pages", default=None, help="corpus directory (default: the generation's)")
    ap.add_argument("--session-timeout", type=float, default=None,
                    help="seconds of inactivity before a session is forgotten (default: manifest)")
    ap.add_argument("--latency", type=float, default=0, help="milliseconds added to every answer")
    ap.add_argument("--password", default=None, help="replace the corpus password (tests)")
    ap.add_argument("--sso", action="store_true", help="log in through a fake SAML identity provider")
    ap.add_argument("--idp-session-timeout", type=float, default=3600,
                    help="seconds the identity provider remembers a login (default 3600)")
    ap.add_argument("--idp-mode", choices=["form", "mfa", "chooser"], default="form",
                    help="form: user name and password; mfa: then a one-time code; chooser: an account chooser")
    add_tls_option(ap)
    args = ap.parse_args()
    corpus = Corpus(args.pages or PAGES[args.generation])
    if corpus.generation != args.generation:
        ap.error("%s holds a generation %s corpus, not %s" % (args.pages, corpus.generation, args.generation))
    timeout = args.session_timeout
    if timeout is None:
        timeout = corpus.manifest["session_timeout_s"]
    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.state = State(corpus, timeout, args.latency, args.password)
    if args.sso:
        httpd.state.provider, httpd.state.idp_origin = idp.start(httpd.state, args.idp_session_timeout,
                                                                 args.idp_mode)
    serve(httpd, args.port_file, args.tls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
