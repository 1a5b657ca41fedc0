"""What the fake Focus (fake_focus.py --generation 2018) does the way the
Focus of 2018 and later does: per-session values written into the pages
(the Student application's tokens and API URL, the final-grades page's HMAC
key), the Student application's multipart `__call__` endpoint, and the
finalGrades API's requestDomains. Standard library only.

Evidence: kidcontact/FocusSIS (network/FocusApi.java:289-361, parser/
StudentParser.java, FinalGradesPageParser.java, FinalGradesDomainParser.java);
../../docs/compatibility.md, "Later Focus generations".
"""
import json
import os
import re
import secrets
from email import policy
from email.parser import BytesParser


def new_session_values(corpus):
    """What Focus generates per session: the application's method tokens and
    the finalGrades HMAC key."""
    return {"tokens": {name: secrets.token_hex(8) for name in corpus.app["tokens"]},
            "api_key": secrets.token_hex(20)}


def render_student(page, session, origin):
    """The Student page with the session's tokens, this server's API URL and photo."""
    methods = {}
    for name, token in session["tokens"].items():
        controller, method = name.split(".", 1)
        methods.setdefault(controller, {})[method] = token
    page = re.sub(r"var methods = \{.*?\};", lambda m: "var methods = %s;" % json.dumps(methods, separators=(",", ":")),
                  page, count=1)
    page = re.sub(r'var url = "https?://[^/"]+/', lambda m: 'var url = "%s/' % origin, page, count=1)
    return re.sub(r'"image":"https?://[^/"]+/', lambda m: '"image":"%s/' % origin, page, count=1)


def render_final_grades(page, session):
    return re.sub(r"(Focus\.API\.allowAccess\(\s*'[^']*',\s*'[^']*',\s*')[0-9a-f]+(')",
                  lambda m: m.group(1) + session["api_key"] + m.group(2), page, count=1)


def multipart_fields(content_type, body):
    """{name: text} of a multipart/form-data body, read by Python's email
    parser (a real MIME parser: the body sis.http builds must satisfy it).
    Raises ValueError when the body is not multipart/form-data."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise ValueError("not multipart/form-data: %s" % content_type)
    msg = BytesParser(policy=policy.HTTP).parsebytes(
        b"MIME-Version: 1.0\r\nContent-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not msg.is_multipart() or msg.defects:
        raise ValueError("unreadable multipart body: %s" % (msg.defects or "no parts"))
    fields = {}
    for part in msg.iter_parts():
        if part.get_content_disposition() != "form-data":
            raise ValueError("part without Content-Disposition: form-data")
        name = part.get_param("name", header="content-disposition")
        fields[name] = part.get_payload(decode=True).decode("utf-8")
    return fields


class Calls:
    """The application's controller methods, answered from the corpus files."""

    def __init__(self, pages_dir, app):
        self.student_id = app["student_id"]
        self.calls = {}
        for name, spec in app["calls"].items():
            with open(os.path.join(pages_dir, spec["file"]), encoding="utf-8") as f:
                self.calls[name] = (json.load(f), spec.get("by_first_arg", False))

    def answer(self, session, request):
        """One request of a __call__ → its answer object."""
        if not isinstance(request, dict):
            return {"error": "Malformed request"}
        controller, method = request.get("controller"), request.get("method") or ""
        name = "%s.%s" % (controller, method.split(":", 1)[-1])  # "cache:" asks for a cached answer
        token = session["tokens"].get(name)
        if token is None or name not in self.calls:
            return {"error": "Unknown method %s" % name}
        if request.get("token") != token:
            return {"error": "Invalid token"}
        args = request.get("args")
        if not isinstance(args, list) or not args:
            return {"error": "Missing arguments"}
        data, by_first = self.calls[name]
        if str(args[-1]) != self.student_id and str(args[0]) != self.student_id:
            return {"error": "Access denied"}
        if by_first:
            if str(args[0]) not in data:
                return {"error": "Unknown field category %s" % args[0]}
            return {"result": data[str(args[0])]}
        return {"result": data}


def domains_answer(all_domains, fields):
    """requestDomains: the domains the by_param keys name, as Focus answers them."""
    result = {}
    params = {}
    for k, v in fields.items():
        m = re.match(r"^arguments\[0\]\[(\w+)\]\[by_param\]\[(\d+)\]\[(\w+)\]$", k)
        if m:
            params.setdefault((m.group(1), m.group(2)), {})[m.group(3)] = v
    for (domain, _), p in sorted(params.items()):
        key = p.get("year") if domain == "grad_subject" else "%s;%s" % (p.get("school_id"), p.get("year"))
        found = all_domains.get(domain, {}).get(key)
        if found is not None:
            result.setdefault(domain, {})[key] = found
    return {"success": True, "result": result}
