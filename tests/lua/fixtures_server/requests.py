"""A stand-in for the part of `requests` that the focus-api README example
uses, in Python's standard library (the python3 of the tests has no PyPI):
get/post/put with json= and cookies=, and a response with .status_code,
.cookies (the cookies this response set, like requests' r.cookies) and
.json(). Cookies are handled by http.cookiejar, as in requests."""
import http.cookiejar
import json as _json
import urllib.error
import urllib.request


class Response:
    def __init__(self, status, content, cookies):
        self.status_code = status
        self.content = content
        self.cookies = cookies

    def json(self):
        return _json.loads(self.content.decode("utf-8"))


def request(method, url, json=None, cookies=None):
    sent = http.cookiejar.CookieJar()
    for cookie in cookies or []:
        sent.set_cookie(cookie)
    data, headers = None, {}
    if json is not None:
        data = _json.dumps(json).encode("utf-8")
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    sent.add_cookie_header(req)
    try:
        resp = urllib.request.urlopen(req, timeout=60)
    except urllib.error.HTTPError as err:  # 4xx/5xx are answers, as in requests
        resp = err
    got = http.cookiejar.CookieJar()
    got.extract_cookies(resp, req)
    return Response(resp.status, resp.read(), got)


def get(url, **kw):
    return request("GET", url, **kw)


def post(url, **kw):
    return request("POST", url, **kw)


def put(url, **kw):
    return request("PUT", url, **kw)
