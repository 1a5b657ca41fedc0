#!/usr/bin/env python3
"""Fake ScoDoc 7 server for tests: replays the recorded exchanges of
tests/fixtures/scodoc/responses (see docs/scodoc.md, "The fake ScoDoc").

  fake_scodoc.py --port-file FILE [--latency MS] [--fixtures DIR] [--tls PEM]
                 [--install [--login-status 401|200|500]] [--version 6.5|7|9.0]
                 [--nip-dot0]

Python standard library only; binds 127.0.0.1 on an ephemeral port.

A request is answered in three steps, like ScoDoc 7 under Zope:
1. traversal: the path is resolved with Zope acquisition (a method of an
   enclosing object is reachable through any deeper path); unknown
   department, container or function -> 404 "Resource not found";
2. authentication, as exUserFolder does it;
3. replay: the recorded exchange with the same function and the same
   multiset of parameters (query and form merged, credentials left out)
   recorded for the same user (or one with the same rights) is sent back
   with its status, Content-Type and body file unchanged.

Two ways to authenticate (step 2):
- the documentation mode (default), as the corpus was recorded: exUserFolder
  with cookie_mode=1: `Authorization: Basic` first, else the
  `__ac_name`/`__ac_password` parameters, else the `__ac` cookie (base64 of
  user:password); a wrong password -> 401 "Login failed", no user on a
  protected method -> 401 "Identifiez-vous", a user without the needed role
  -> 401 "droits suffisants" (the recorded pages). Successful answers to a
  parameter or basic login carry `Set-Cookie: __ac=...`.
- --install: ScoDoc as its installer sets it up (ZScoDoc.create_users_folder:
  cookie_mode=2). exUserFolder's identify(): a Basic header, else the
  parameters, else the `__aca` cookie, an opaque token looked up in a
  server-side table (`__ac` is ignored). Every authenticated answer sets a
  fresh `__aca` token (remember()). A refusal raises LoginRequired and
  ScoDoc's standard_error_message answers exUserFolder's docLogin page
  (upper-case `NAME="__ac_password"`, the query string echoed as hidden
  inputs) with --login-status (401, 200 or 500: Zope's status for it is not
  established); its title says "Login Failed" (wrong password),
  "Please Login" (logged in, role missing) or "Identifiez vous sur ScoDoc"
  (nobody, or an expired token). There is no "droits suffisants" text. A
  Basic header with a wrong password or an unknown user is Zope's plain
  Unauthorized instead: 401 + WWW-Authenticate, the same page.

--version shapes the answers as other ScoDoc versions write them (the
recorded corpus is 7): 6.5 (bulletin etape_apo..etape_apo4 always written,
"" when unused, no `etapes` in JSON; ListeAbsEtud without jour/ampm and
"apres midi" written with a space; EtatAbsencesGr takes one `group_id`,
without the boursier and nbjustifs_noabs columns; list_depts answers the
repr of the Zope folders whatever its parameters; do_moduleimpl_* answer a
Python repr; etud_info XML escaped once) or 9.0 (bulletin XML escaped twice,
GenTable numbers as JSON numbers).

--nip-dot0: the students' NIPs are stored with a trailing ".0", as real
deployments often have them: a lookup by code_nip answers the student only
for "NNN.0", and "unknown student" for "NNN".

Functions nothing was recorded for (get_etud_dept beyond its two recordings,
XMLgetFormsemestres, XMLgetAbsEtud, formsemestre_description) are computed
from the data set (dept_INFO.json, recorded answers), in its initial state.

Absences are state: the writes of scenario-absences.json move the server
along the scenario, and the reads of the scenario are answered from the
step recorded in the current state.  Anything that was not recorded gets
a 500 page saying so (and a line on stderr), never a guess.

Test-only URLs: POST /__fake__/reset (back to the initial data),
GET /__fake__/requests (JSON log of the requests received, passwords
masked), GET /__fake__/state (applied scenario writes), POST /__fake__/next
with {"status", "content_type", "body" [, "headers"]}: the next request gets
that answer instead (unreadable answers, redirects, for the client's tests),
POST /__fake__/expire: forget every __aca token (as when they expire).
"""
import argparse
import base64
import collections
import html
import json
import os
import re
import secrets
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
              "do_moduleimpl_withmodule_list", "XMLgetFormsemestres",
              "formsemestre_description"},
    "Absences": {"ListeAbsEtud", "doSignaleAbsence", "doJustifAbsence", "doAnnuleAbsence",
                 "doAnnuleJustif", "EtatAbsencesGr", "XMLgetAbsEtud"},
}
CHILDREN = {"dept": {"Scolarite"}, "Scolarite": {"Notes", "Absences"}}
ALIASES = {"XMLgetEtudInfos": "etud_info"}
PUBLIC = {"list_depts"}
WRITES = {"doSignaleAbsence", "doJustifAbsence", "doAnnuleAbsence", "doAnnuleJustif"}
CREDENTIALS = {"__ac_name", "__ac_password"}
# an unknown student, as the corpus records it
UNKNOWN_ETUDID = "EID9999"

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

# The default install's login page: ZScoDoc's standard_html_header, Zope's
# DialogHeader, ScoDoc's dtml/docLogin.dtml (ScoDoc 6.5, whose form and
# hidden inputs are quoted here as the dtml writes them), DialogFooter and
# standard_html_footer. Zope's dialog chrome is approximated.
DOC_LOGIN_PAGE = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">
<html><head>
<title>ScoDoc: accueil</title>
<META http-equiv="Content-Type" content="text/html; charset=utf-8">
<META http-equiv="Content-Style-Type" content="text/css">
<META name="LANG" content="fr">
<META name="DESCRIPTION" content="ScoDoc: gestion scolarite">

<link HREF="/ScoDoc/static/css/scodoc.css" rel="stylesheet" type="text/css"/>

</head><body>
<center>
<HTML>
<HEAD>
<TITLE>%(title)s</TITLE>
</HEAD>
<BODY BGCOLOR="#FFFFFF" LINK="#000099" VLINK="#555555">
<CENTER>
<TABLE BORDER="0" WIDTH="400" CELLPADDING="2" CELLSPACING="0">
<TR><TD ALIGN="LEFT" VALIGN="TOP"><FONT SIZE="+1"><STRONG>%(title)s</STRONG></FONT></TD></TR>
<TR><TD ALIGN="LEFT" VALIGN="TOP">
<P>
<FORM ACTION="%(action)s" METHOD="POST">

%(hidden)s 


<TABLE>
<TR>
  <TD ALIGN="LEFT" VALIGN="TOP">
  <STRONG>Name</STRONG>
  </TD>
  <TD ALIGN="LEFT" VALIGN="TOP">
  <INPUT TYPE="TEXT" NAME="__ac_name" SIZE="20">
  </TD>
</TR>

<TR>
  <TD ALIGN="LEFT" VALIGN="TOP">
  <STRONG>Password</STRONG>
  </TD>
  <TD ALIGN="LEFT" VALIGN="TOP">
  <INPUT TYPE="PASSWORD" NAME="__ac_password" SIZE="20">
  </TD>
</TR>
<TR>
  <TD ALIGN="LEFT" VALIGN="TOP">
  </TD>
</TR>
</TABLE>
<center>
<INPUT TYPE="SUBMIT" NAME="submit" VALUE=" Ok ">
</center>
</FORM>
<br>
</TD></TR></TABLE></CENTER></BODY></HTML>
</center>
<p class="footer">
Probl\u00e8me de connexion (identifiant, mot de passe): <em>contacter votre responsable ou chef de d\u00e9partement</em>.<br/>
</p>
</body></html>"""
# exUserFolder's LoginRequiredMessages, and ScoDoc's title when there is no code
DOC_LOGIN_TITLES = {"login_failed": "Login Failed", "unauthorized": "Please Login",
                    None: "Identifiez vous sur ScoDoc"}
DOC_LOGOUT_PAGE = "<html><body><p>Vous \u00eates d\u00e9connect\u00e9.</p></body></html>"
EXPIRED = "deleted; Path=/; Expires=Wed, 31-Dec-97 23:59:59 GMT"

NOT_FOUND_PAGE = """<html><head><title>Site Error</title></head><body>
<h2>Site Error</h2>
<p>An error was encountered while publishing this resource.</p>
<p><strong>Resource not found</strong></p>
Sorry, the requested resource does not exist.<p>Check the URL and try again.</p>
<p><b>Resource:</b> %s</p>
</body></html>
"""
# Zope's page for a missing positional parameter (as recorded)
MISSING_PARAM_PAGE = """<html><head><title>Site Error</title></head><body>
<h2>Site Error</h2>
<p>An error was encountered while publishing this resource.</p>
<p><strong>Bad Request</strong></p>
Sorry, a site error occurred.<p>Invalid request</p>
<p>The parameter, <em>%s</em>, was omitted from the request.</p>
</body></html>
"""
# ScoDoc's page for a ScoValueError
VALUE_ERROR_PAGE = """<html><head><title>ScoDoc</title></head><body>
<h2>Erreur !</h2><p>%s</p>
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
    anonymous), failed (a known user with a wrong password) and expired (an
    __aca token the server does not know). tokens: the install mode's
    server-side table (None in the documentation mode)."""

    def __init__(self, users, params, headers, tokens=None):
        self.method, self.user, self.failed, self.password = "none", None, False, None
        self.expired = False
        creds = basic_credentials(headers.get("Authorization"))
        if creds:
            self.method = "basic"
        elif "__ac_name" in params and (tokens is None or "__ac_password" in params):
            self.method = "params"
            creds = (params["__ac_name"][-1], (params.get("__ac_password") or [""])[-1])
        elif tokens is not None:
            token = cookie_value("__aca", headers.get("Cookie"))
            if token:
                self.method = "cookie"
                creds = tokens.get(urllib.parse.unquote(token))
                self.expired = creds is None
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
        self.data = load_json(fixtures, "dept_INFO.json")
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
        """None when allowed, else the kind of refusal: failed, anonymous,
        forbidden (or expired, an unknown __aca token)."""
        if auth.expired:
            return "expired"
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

    def recorded(self, canonical, function, pairs, user):
        """The body of a recorded successful answer (for computed answers)."""
        key = (canonical, function, param_multiset(pairs))
        for ex in self.index.get(key, []):
            if ex["_outcome"] is None and ex["response"]["status"] == 200:
                return self.body(ex)
        return None

    def student_of(self, params):
        """The data set's student named by etudid, code_nip or code_ine."""
        for field in ("etudid", "code_nip", "code_ine"):
            if field in params:
                for e in self.data["etudiants"]:
                    if e[field] == params[field][-1]:
                        return e
                return None
        return None

    def semestre(self, formsemestre_id):
        for s in self.data["formsemestres"]:
            if s["formsemestre_id"] == formsemestre_id:
                return s
        return None


# ---- versions: the recorded (7.x) answers as 6.5 and 9.0 write them ----

def rewrite_json(body, fn):
    value = fn(json.loads(body))
    return json.dumps(value).encode("utf-8")


def to_6_5(function, fmt, body):
    if function == "formsemestre_bulletinetud":
        if fmt == "json":
            def bulletin(b):
                b.pop("etapes", None)
                for n in (2, 3, 4):
                    b.setdefault("etape_apo%d" % n, "")
                return b
            return rewrite_json(body, bulletin)
        if fmt == "xml":
            def attrs(tag):
                for n in (2, 3, 4):
                    if ' etape_apo%d="' % n not in tag:
                        tag = tag[:-1] + ' etape_apo%d=""' % n + ">"
                return tag
            return re.sub(rb"<bulletinetud [^>]*>", lambda m: attrs(m.group(0).decode()).encode(),
                          body, count=1)
    if function == "ListeAbsEtud":
        if fmt == "json":
            def rows(rs):
                for r in rs:
                    r.pop("jour", None)
                    r.pop("ampm", None)
                    if r.get("matin") == "apr\u00e8s-midi":
                        r["matin"] = "apr\u00e8s midi"
                return rs
            return rewrite_json(body, rows)
        if fmt == "xml":
            body = re.sub(rb"\s*<(jour|ampm) value=\"[^\"]*\" />", b"", body)
            return body.replace('value="apr\u00e8s-midi"'.encode(), 'value="apr\u00e8s midi"'.encode())
    if function == "EtatAbsencesGr":
        dropped = ("boursier", "nbjustifs_noabs")
        if fmt == "json":
            return rewrite_json(body, lambda rs: [{k: v for k, v in r.items() if k not in dropped}
                                                  for r in rs])
        if fmt == "xml":
            return re.sub(rb"\s*<(boursier|nbjustifs_noabs) value=\"[^\"]*\" />", b"", body)
    if function == "etud_info" and fmt == "xml":
        return body.replace(b"&amp;", b"&")  # quote_xml_attr's entities, written as they are
    return body


def to_9_0(function, fmt, body):
    if function == "formsemestre_bulletinetud" and fmt == "xml":
        # ElementTree escapes the values quote_xml_attr escaped already
        head, sep, rest = body.partition(b"?>")
        return head + sep + rest.replace(b"&", b"&amp;")
    numeric = {"EtatAbsencesGr": ("nbabs", "nbabsjust", "nbabsnonjust", "nbjustifs_noabs"),
               "ListeAbsEtud": ("ampm",)}.get(function)
    if numeric and fmt == "json":
        def rows(rs):
            for r in rs:
                for k in numeric:
                    if isinstance(r.get(k), str) and r[k].isdigit():
                        r[k] = int(r[k])
            return rs
        return rewrite_json(body, rows)
    return body


def python_repr(value):
    """What Zope sends for a Python value published without `format`."""
    return repr(value).encode("utf-8")


# ---- answers computed from the data set (nothing was recorded for them) ----

def xml_doc(root, attrs, children):
    """<root a=".."><child .../>...</root> with escaped attribute values."""
    def tag(name, a, inner=None):
        s = "<%s%s" % (name, "".join(' %s="%s"' % (k, html.escape(str(v), quote=True))
                                       for k, v in a.items()))
        return s + (">\n" + inner + "</%s>" % name if inner is not None else " />")
    inner = "".join("    " + tag(name, a) + "\n" for name, a in children)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + tag(root, attrs, inner) + "\n").encode("utf-8")


def gentable(columns, rows, fmt, version, caption=""):
    """A GenTable: JSON rows (cells text in 6.5/7, values in 9.0) or XML."""
    if fmt == "xml":
        out = ['<?xml version="1.0" encoding="utf-8"?>\n<table origin="" caption="%s" id="gt_1">'
               % html.escape(caption, quote=True)]
        for r in rows:
            out.append("    <row>")
            for c in columns:
                v = r.get(c)
                out.append('        <%s value="%s" />' % (c, html.escape("" if v is None else str(v),
                                                                        quote=True)))
            out.append("    </row>")
        out.append("</table>\n")
        return "\n".join(out).encode("utf-8")
    def cell(v):
        if v is None or version == "9.0":
            return v
        return str(v)
    return json.dumps([{c: cell(r.get(c)) for c in columns} for r in rows]).encode("utf-8")


class Computed:
    """Answers of the functions nothing was recorded for: (status, ctype,
    body) or None when the request cannot be answered (a miss)."""

    def __init__(self, corpus, version):
        self.corpus, self.version = corpus, version

    def unknown_student(self):
        ex = self.corpus.index.get(("/ScoDoc/INFO/Scolarite/Absences/ListeAbsEtud", "ListeAbsEtud",
                                    (("etudid", UNKNOWN_ETUDID), ("format", "json"))))
        return 500, "text/html", self.corpus.body(ex[0])

    def get_etud_dept(self, dept, params):
        e = self.corpus.student_of(params)
        return 200, "text/plain", (self.corpus.data["acronym"] if e else "").encode("utf-8")

    def XMLgetFormsemestres(self, dept, params):
        canonical = "/ScoDoc/%s/Scolarite/Notes/formsemestre_list" % dept
        body = self.corpus.recorded(canonical, "formsemestre_list", [("format", "json")], None)
        if body is None:
            return None
        sems = []
        for s in json.loads(body):
            if "formsemestre_id" in params and s["formsemestre_id"] != params["formsemestre_id"][-1]:
                continue
            if "etape_apo" in params and params["etape_apo"][-1] not in s.get("etapes", []):
                continue
            sems.append(("formsemestre", {k: v for k, v in s.items() if not isinstance(v, list)}))
        return 200, "text/xml", xml_doc("formsemestrelist", {}, sems)

    def XMLgetAbsEtud(self, dept, params):
        e = self.corpus.student_of(params)
        if not e:
            return self.unknown_student()
        day = re.compile(r"^(\d{4})\D?(0[1-9]|1[0-2])\D?([12]\d|0[1-9]|3[01])$")
        beg, end = (params.get(k, [""])[-1] for k in ("beg_date", "end_date"))
        for d in (beg, end):
            if not day.match(d):
                return 500, "text/html", (VALUE_ERROR_PAGE % ("invalid date: " + d)).encode("utf-8")
        norm = lambda d: "-".join(day.match(d).groups())  # noqa: E731
        merged = {}
        for a in self.corpus.data["absences"]:
            if a["etudid"] != e["etudid"] or not norm(beg) <= a["jour"] <= norm(end):
                continue
            m = merged.setdefault((a["jour"], a["matin"]), dict(a))
            m["description"] = m["description"] or a["description"] or ""
            m["estjust"] = m["estjust"] or a["estjust"]
            m["estabs"] = m["estabs"] or a["estabs"]
        rows = []
        for (jour, matin), a in sorted(merged.items(), key=lambda kv: (kv[0][0], not kv[0][1])):
            if not a["estabs"]:
                continue  # justifications without an absence are not listed
            hours = ("08:00:00", "11:59:59") if matin else ("12:00:00", "17:59:59")
            just = str(bool(a["estjust"])) if self.version == "6.5" else str(int(a["estjust"]))
            rows.append(("abs", {"begin": jour + " " + hours[0], "end": jour + " " + hours[1],
                                 "description": a["description"] or "", "justified": just}))
        return 200, "text/xml", xml_doc("absences", {"etudid": e["etudid"], "beg_date": beg,
                                                     "end_date": end}, rows)

    def formsemestre_description(self, dept, params):
        sem_id = params.get("formsemestre_id", [""])[-1]
        sem = self.corpus.semestre(sem_id)
        if not sem:
            return self.unknown_student()  # the same IndexError page
        fmt = params.get("format", ["html"])[-1]
        if fmt not in ("json", "xml"):
            return 500, "text/html", (VALUE_ERROR_PAGE % ("invalid format: " + fmt)).encode("utf-8")
        with_evals = params.get("with_evals", ["0"])[-1] not in ("", "0")
        canonical = "/ScoDoc/%s/Scolarite/Notes/do_moduleimpl_withmodule_list" % dept
        body = self.corpus.recorded(canonical, "do_moduleimpl_withmodule_list",
                                    [("formsemestre_id", sem_id)], None)
        impls = {m["moduleimpl_id"]: m for m in sem["moduleimpls"]}
        old = self.version == "6.5"  # 6.5: no UE rows, no ects, no teachers
        rows, sum_coef, sum_ects, last_ue = [], 0, 0, None
        for m in json.loads(body):
            ue, mod = m["ue"], m["module"]
            if not old and ue["ue_id"] != last_ue:
                last_ue = ue["ue_id"]
                ects = "-" if ue.get("ects") is None else ue["ects"]
                sum_ects += 0 if ects == "-" else ects
                rows.append({"UE": ue["acronyme"], "ects": ects, "Module": ue["titre"]})
            data = impls[m["moduleimpl_id"]]
            rows.append({"UE": ue["acronyme"], "Code": mod["code"],
                         "Module": mod["abbrev"] or mod["titre"], "Inscrits": len(data["inscrits"]),
                         "Responsable": m["responsable_id"], "Coef.": mod["coefficient"],
                         "Enseignants": ", ".join(x["ens_id"] for x in m["ens"])})
            sum_coef += mod["coefficient"] or 0
            if with_evals:
                for ev in sorted(data["evaluations"], key=lambda ev: ev["jour"]):
                    row = {"jour": ev["jour"], "description": ev["description"],
                           "coefficient": ev["coefficient"]}
                    if not old:
                        complete = set(data["inscrits"]) <= set(ev["notes"])
                        row["evalcomplete_str"] = "Oui" if complete else "Non"
                        row["publish_incomplete_str"] = "Oui" if ev["publish_incomplete"] else "Non"
                    rows.append(row)
        rows.append({"Coef.": sum_coef} if old else {"Coef.": sum_coef, "ects": sum_ects})
        columns = ["UE", "Code", "Module", "Coef."] + ([] if old else ["ects"]) + \
            ["Inscrits", "Responsable"] + ([] if old else ["Enseignants"])
        if with_evals:
            columns += ["jour", "description", "coefficient"]
            if not old:
                columns += ["evalcomplete_str", "publish_incomplete_str"]
        ctype = "application/json" if fmt == "json" else "text/xml"
        return 200, ctype, gentable(columns, rows, fmt, self.version, "Semestre " + sem["titre"])


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.applied = []
        self.requests = []
        self.canned = []
        self.tokens = {}  # install mode: __aca token -> (user, password)


def make_handler(corpus, state, opts):
    computed = Computed(corpus, opts.version)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes
        server_version = "Zope/(2.13.22, python 2.7.13, linux2) ZServer/1.1"
        sys_version = ""

        def log_message(self, fmt, *args):  # quiet: tests read stderr only on failure
            pass

        def send(self, status, ctype, body, extra=()):
            """extra: (name, value) header pairs, or a dict."""
            if opts.latency:
                time.sleep(opts.latency / 1000.0)
            if isinstance(body, str):
                body = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra.items() if isinstance(extra, dict) else extra):
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
                                 canned.get("body", ""), canned.get("headers") or {})
            params = collections.defaultdict(list)
            for k, v in pairs:
                params[k.split(":", 1)[0]].append(v)
            with state.lock:
                tokens = dict(state.tokens) if opts.install else None
            auth = Auth(corpus.users, params, self.headers, tokens)
            with state.lock:
                state.requests.append({
                    "method": self.command, "path": path, "auth": auth.method, "user": auth.user,
                    "query_names": [k for k, _ in urllib.parse.parse_qsl(url.query, keep_blank_values=True)],
                    "params": [[k, "***" if k == "__ac_password" else v] for k, v in pairs],
                    "authorization": bool(self.headers.get("Authorization")),
                    "cookie": self.headers.get("Cookie") is not None,
                })
            if opts.install and path == "/ScoDoc/acl_users/logout":
                return self.logout()
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
            if outcome:
                return self.refuse(auth, outcome, canonical, function, pairs, path, url.query)
            cookie = []
            if opts.install and auth.user:  # remember(): a fresh token each time
                token = secrets.token_urlsafe(18)
                with state.lock:
                    state.tokens[token] = (auth.user, auth.password)
                cookie = [("Set-Cookie", "__aca=%s; Path=/" % urllib.parse.quote(token, safe=""))]
            self.answer(auth, dept, canonical, function, pairs, params, path, cookie)

        def refuse(self, auth, outcome, canonical, function, pairs, path, query):
            if not opts.install:
                key = (canonical, function, param_multiset(pairs))
                ex = corpus.pick(corpus.index.get(key, []), auth, outcome, path)
                body = corpus.body(ex) if ex else LOGIN_PAGE % (LOGIN_MESSAGES[outcome], path)
                return self.send(401, "text/html", body, {"WWW-Authenticate": 'basic realm="Zope"'})
            # exUserFolder's challenge(): with a Basic header, a wrong password
            # or an unknown user is Zope's Unauthorized (401); everything else
            # raises LoginRequired, answered with the configured status
            code = {"failed": "login_failed", "forbidden": "unauthorized"}.get(outcome)
            hidden = "\n".join('<input type="hidden" name="%s" value="%s"/>' % tuple(a.split("=", 1))
                               for a in query.split("&") if a.count("=") == 1)
            page = DOC_LOGIN_PAGE % {"title": DOC_LOGIN_TITLES[code], "hidden": "<!-- query string -->\n" + hidden,
                                     "action": path + ("?" + query if query else "")}
            extra = []
            if outcome in ("failed", "expired"):
                extra = [("Set-Cookie", "__ac=" + EXPIRED), ("Set-Cookie", "__aca=" + EXPIRED)]
            if auth.method == "basic" and outcome in ("failed", "anonymous"):
                extra.append(("WWW-Authenticate", 'basic realm="Zope"'))
                return self.send(401, "text/html", page, extra)
            self.send(opts.login_status, "text/html", page, extra)

        def logout(self):
            token = cookie_value("__aca", self.headers.get("Cookie"))
            with state.lock:
                state.tokens.pop(urllib.parse.unquote(token or ""), None)
            self.send(200, "text/html", DOC_LOGOUT_PAGE,
                      [("Set-Cookie", "__ac=" + EXPIRED), ("Set-Cookie", "__aca=" + EXPIRED)])

        def answer(self, auth, dept, canonical, function, pairs, params, path, cookie):
            v65 = opts.version == "6.5"
            if not opts.install and auth.method in ("params", "basic") and auth.user:
                # cookie_mode 1: a successful login answers with __ac (errors carry none)
                cookie = [("Set-Cookie", "__ac=%s; Path=/" % ac_cookie(auth.user, auth.password))]

            def send(status, ctype, body):
                self.send(status, ctype, body, cookie if opts.install or status == 200 else [])
            if v65 and function == "list_depts":  # a repr of Zope folders, whatever is asked
                folders = ", ".join("<Folder at /ScoDoc/%s>" % d for d in sorted(corpus.depts))
                return send(200, "text/html", "[%s]" % folders)
            if v65 and function == "EtatAbsencesGr":
                if "group_id" not in params:  # EtatAbsencesGr(self, group_id, debut, fin, ...)
                    return send(400, "text/html", MISSING_PARAM_PAGE % "group_id")
                pairs = [("group_ids" if k == "group_id" else k, v) for k, v in pairs
                         if k not in ("group_ids", "with_boursier")]
            if v65 and function in ("do_moduleimpl_list", "do_moduleimpl_withmodule_list"):
                pairs = []  # filters ignored, answered as a Python repr
            if opts.nip_dot0 and "code_nip" in params:
                nip = params["code_nip"][-1]
                if nip.endswith(".0"):
                    pairs = [(k, v[:-2] if k == "code_nip" else v) for k, v in pairs]
                else:  # NNN is not stored: an unknown student
                    pairs = [("etudid", UNKNOWN_ETUDID) if k == "code_nip" else (k, v) for k, v in pairs]
                params = collections.defaultdict(list)
                for k, v in pairs:
                    params[k].append(v)
            key = (canonical, function, param_multiset(pairs))
            ex = self.stateful(key, dict(key[2]))
            if ex is False:
                return
            if ex is None:
                ex = corpus.pick(corpus.index.get(key, []), auth, None, path)
            if ex is None:
                fn = getattr(computed, function, None)
                got = fn(dept, params) if fn else None
                if got is None:
                    return self.miss("no recorded answer for %s %s" % (canonical, list(key[2])))
                return send(*got)
            status = ex["response"]["status"]
            ctype = ex["response"]["headers"]["Content-Type"]
            body = corpus.body(ex)
            if v65 and function in ("do_moduleimpl_list", "do_moduleimpl_withmodule_list"):
                ctype, body = "text/html", python_repr(json.loads(body))
            elif status == 200 and opts.version != "7":
                fmt = "json" if "json" in ctype else "xml" if "xml" in ctype else None
                body = (to_6_5 if v65 else to_9_0)(function, fmt, body)
            send(status, ctype, body)

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
            if path == "/__fake__/expire":
                with state.lock:
                    n = len(state.tokens)
                    state.tokens.clear()
                return self.send(200, "application/json", json.dumps({"expired": n}))
            if path == "/__fake__/requests":
                with state.lock:
                    body = json.dumps(state.requests)
                return self.send(200, "application/json", body)
            if path == "/__fake__/state":
                with state.lock:
                    body = json.dumps({"applied": state.applied, "tokens": len(state.tokens)})
                return self.send(200, "application/json", body)
            return self.send(404, "text/html", NOT_FOUND_PAGE % path)

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0, help="added delay per answer, in ms")
    ap.add_argument("--fixtures", default=DEFAULT_FIXTURES)
    ap.add_argument("--install", action="store_true",
                    help="behave as a default install (cookie_mode 2, docLogin page)")
    ap.add_argument("--login-status", type=int, choices=(401, 200, 500), default=401,
                    help="--install: the HTTP status of the login page")
    ap.add_argument("--version", choices=("6.5", "7", "9.0"), default="7",
                    help="answer as this ScoDoc version writes (the corpus is 7)")
    ap.add_argument("--nip-dot0", action="store_true", help='NIPs stored as "NNN.0"')
    add_tls_option(ap)
    args = ap.parse_args()
    corpus = Corpus(args.fixtures)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(corpus, State(), args))
    server.daemon_threads = True
    serve(server, args.port_file, args.tls)


if __name__ == "__main__":
    main()
