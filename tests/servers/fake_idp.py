"""A fake SAML identity provider in front of the fake Focus (fake_focus.py
--sso), shaped like the ADFS of Duval County's Focus (2015-16 pages saved by
rothso/gradeskinda, app/src/testLib/assets/mockserver/__files/): HTTP-Redirect
AuthnRequest from Focus, a form#loginForm with UserName / Password /
AuthMethod, and on success an auto-posting form carrying SAMLResponse and
RelayState back to Focus's assertion consumer service. Standard library only.

The identity provider and Focus share one State (fake_focus.py): responses
the provider issues are checked by Focus's assertion consumer (`accept`).
"""
import base64
import html
import re
import secrets
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

ACS_PATH = "/focus/simplesaml/module.php/saml/sp/saml2-acs.php/default-sp"
RESPONSE_LIFETIME = 60  # seconds a SAMLResponse may wait before Focus takes it
COOKIE = "MSISAuth"


def authn_request_url(idp_origin, focus_origin):
    """Where Focus sends an anonymous visitor: the provider's sign-in page
    with a deflated, base64'd AuthnRequest and the page to come back to."""
    request_id = "_" + secrets.token_hex(20)
    xml = ('<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="%s" Version="2.0" '
           'IssueInstant="%s" Destination="%s/adfs/ls/" AssertionConsumerServiceURL="%s%s" '
           'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer '
           'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">%s/focus/simplesaml/module.php/saml/sp/'
           'metadata.php/default-sp</saml:Issuer></samlp:AuthnRequest>'
           % (request_id, now_iso(), idp_origin, focus_origin, ACS_PATH, focus_origin))
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = base64.b64encode(deflate.compress(xml.encode()) + deflate.flush()).decode()
    return "%s/adfs/ls/?%s" % (idp_origin, urlencode({"SAMLRequest": packed,
                                                     "RelayState": focus_origin + "/focus/"}))


def now_iso(offset=0):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


def read_request(packed):
    """The AuthnRequest's ID and assertion consumer URL, or None."""
    try:
        xml = zlib.decompress(base64.b64decode(packed), -15).decode()
    except (ValueError, zlib.error, UnicodeDecodeError):
        return None
    rid = re.search(r' ID="([^"]+)"', xml)
    acs = re.search(r' AssertionConsumerServiceURL="([^"]+)"', xml)
    return (rid.group(1), html.unescape(acs.group(1))) if rid and acs else None


class Provider:
    """The provider's sessions and issued responses (guarded by state.lock)."""

    def __init__(self, state, session_timeout, mode):
        self.state = state
        self.timeout = session_timeout
        self.mode = mode
        self.sessions = {}  # cookie value → {user, last}
        self.issued = {}    # response id → {user, expires, in_response_to}

    def issue(self, user, in_response_to, acs):
        rid = "_" + secrets.token_hex(16)
        with self.state.lock:
            self.issued[rid] = {"user": user, "expires": time.time() + RESPONSE_LIFETIME,
                                "in_response_to": in_response_to}
        xml = ('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="%s" Version="2.0" '
               'IssueInstant="%s" Destination="%s" InResponseTo="%s"><Issuer '
               'xmlns="urn:oasis:names:tc:SAML:2.0:assertion">urn:federation:HARBORVIEW</Issuer>'
               '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
               '</samlp:Status><Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a%s">'
               '<Subject><NameID>%s</NameID></Subject><Conditions NotOnOrAfter="%s"/></Assertion>'
               '</samlp:Response>'
               % (rid, now_iso(), html.escape(acs), in_response_to, rid[1:], html.escape(user),
                  now_iso(RESPONSE_LIFETIME)))
        return base64.b64encode(xml.encode()).decode()

    def accept(self, saml_response):
        """Focus's side: the user a SAMLResponse vouches for (once), or None."""
        try:
            xml = base64.b64decode(saml_response, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        m = re.search(r'<samlp:Response [^>]*ID="([^"]+)"', xml)
        if not m:
            return None
        with self.state.lock:
            issued = self.issued.pop(m.group(1), None)
        if issued is None or issued["expires"] < time.time():
            return None
        return issued["user"]

    def session_user(self, cookie):
        with self.state.lock:
            s = self.sessions.get(cookie or "")
            if s is None:
                return None
            if time.time() - s["last"] > self.timeout:
                del self.sessions[cookie]
                return None
            s["last"] = time.time()
            return s["user"]

    def open_session(self, user):
        value = secrets.token_urlsafe(24)
        with self.state.lock:
            self.sessions[value] = {"user": user, "last": time.time()}
        return value

    def forget_all(self):
        with self.state.lock:
            self.sessions.clear()


PAGE = """<!DOCTYPE html>
<html lang="en-US">
<head>
    <meta http-equiv="content-type" content="text/html;charset=UTF-8"/>
    <meta name='mswebdialog-title' content='Connecting to Harborview Login'/>
    <title>%(title)s</title>
</head>
<body dir="ltr" class="body">
<div id="fullPage"><div id="contentWrapper"><div id="content">
    <div id="header"><img class='logoImage' src='/adfs/portal/logo/logo.png' alt='Harborview Regional School District'/></div>
    <div id="workArea">
%(body)s
    </div>
</div></div></div>
</body>
</html>
"""


def login_form(action, error=""):
    return PAGE % {"title": "Sign In", "body": """        <div id="loginMessage" class="groupMargin">Sign in with your organizational account</div>
        <form method="post" id="loginForm" autocomplete="off" novalidate="novalidate"
              onKeyPress="if (event && event.keyCode == 13) Login.submitLoginRequest();"
              action="%s">
            <div id="error" class="fieldMargin error smallText"%s>
                <label id="errorText" for="">%s</label>
            </div>
            <div id="formsAuthenticationArea">
                <div id="userNameArea">
                    <input id="userNameInput" name="UserName" type="email" value="" tabindex="1"
                           class="text fullWidth" spellcheck="false" placeholder="someone@example.com" autocomplete="off"/>
                </div>
                <div id="passwordArea">
                    <input id="passwordInput" name="Password" type="password" tabindex="2"
                           class="text fullWidth" placeholder="Password" autocomplete="off"/>
                </div>
                <div id="kmsiArea" style="display:none">
                    <input type="checkbox" name="Kmsi" id="kmsiInput" value="true" tabindex="3"/>
                    <label for="kmsiInput">Keep me signed in</label>
                </div>
                <div id="submissionArea" class="submitMargin">
                    <span id="submitButton" class="submit" tabindex="4"
                          onclick="return Login.submitLoginRequest();">Sign in</span>
                </div>
            </div>
            <input id="optionForms" type="hidden" name="AuthMethod" value="FormsAuthentication"/>
        </form>""" % (html.escape(action), "" if error else ' style="display:none"', html.escape(error))}


def auto_post(acs, saml_response, relay_state):
    return """<html><head><title>Working...</title></head><body>
<form method="POST" name="hiddenform" action="%s">
    <input type="hidden" name="SAMLResponse" value="%s"/><input
        type="hidden" name="RelayState" value="%s"/>
    <noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"/></noscript>
</form>
<script language="javascript">window.setTimeout('document.forms[0].submit()', 0);</script>
</body></html>
""" % (html.escape(acs), saml_response, html.escape(relay_state))


def mfa_page(action):
    return PAGE % {"title": "Multi-Factor Authentication", "body": """        <div id="mfaMessage">For security reasons, we require additional information to verify your account.</div>
        <form method="post" id="options" action="%s">
            <input id="verificationCodeInput" name="VerificationCode" type="text" autocomplete="off"/>
            <input id="authMethod" type="hidden" name="AuthMethod" value="AzureMfaAuthentication"/>
            <input id="context" type="hidden" name="Context" value="%s"/>
            <span id="submitButton" class="submit">Verify</span>
        </form>""" % (html.escape(action), secrets.token_hex(8))}


def chooser_page(action):
    return PAGE % {"title": "Sign In", "body": """        <div id="hrdArea">
            <div class="groupMargin">Select an account to sign in with</div>
            <form method="post" id="hrd" action="%s">
                <input id="hrdSelection" type="hidden" name="HomeRealmSelection" value=""/>
                <div class="idp" tabindex="1" onclick="HRD.selection('urn:federation:HARBORVIEW'); return false;">Harborview Staff</div>
                <div class="idp" tabindex="2" onclick="HRD.selection('urn:federation:STUDENTS'); return false;">Students and Parents</div>
            </form>
        </div>""" % html.escape(action)}


class IdPHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    @property
    def provider(self):
        return self.server.provider

    def send(self, status, body, cookie=None, ctype="text/html; charset=utf-8"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache,no-store")
        if cookie:
            self.send_header("Set-Cookie", "%s=%s; path=/adfs; HttpOnly" % (COOKIE, cookie))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def cookie(self):
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == COOKIE:
                return v
        return None

    def do_GET(self):
        self.handle_ls(None)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        self.handle_ls(dict(parse_qsl(body, keep_blank_values=True)))

    def handle_ls(self, form):
        url = urlsplit(self.path)
        if url.path != "/adfs/ls/":
            return self.send(404, PAGE % {"title": "Not Found", "body": "<p>The page was not found.</p>"})
        q = dict(parse_qsl(url.query, keep_blank_values=True))
        request = read_request(q.get("SAMLRequest", ""))
        if request is None:
            return self.send(400, PAGE % {"title": "Sign In", "body": "<p>An error occurred.</p>"})
        request_id, acs = request
        relay = q.get("RelayState", "")
        st, p = self.server.state, self.provider
        user = p.session_user(self.cookie())
        if user is not None:
            st.count("idp_auto_posts")
            return self.send(200, auto_post(acs, p.issue(user, request_id, acs), relay))
        if form is None:
            if p.mode == "chooser":
                return self.send(200, chooser_page(self.path))
            return self.send(200, login_form(self.path))
        if p.mode == "chooser":
            return self.send(200, chooser_page(self.path))
        if "VerificationCode" in form:
            return self.send(200, mfa_page(self.path))
        want = st.corpus.credentials
        name = form.get("UserName", "")
        name = name.split("\\", 1)[-1]  # DOMAIN\\user is the same account
        if name == want["username"] and form.get("Password") == want["password"] \
                and form.get("AuthMethod") == "FormsAuthentication":
            st.count("idp_logins")
            if p.mode == "mfa":
                return self.send(200, mfa_page(self.path))
            cookie = p.open_session(name)
            return self.send(200, auto_post(acs, p.issue(name, request_id, acs), relay), cookie=cookie)
        st.count("idp_login_failures")
        self.send(200, login_form(self.path, "Incorrect user ID or password. Type the correct user ID and "
                                             "password, and try again."))


def start(state, session_timeout, mode):
    """Starts the provider on a free port of 127.0.0.1 (a daemon thread);
    returns (provider, origin)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), IdPHandler)
    httpd.daemon_threads = True
    httpd.state = state
    httpd.provider = Provider(state, session_timeout, mode)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd.provider, "http://127.0.0.1:%d" % httpd.server_address[1]
