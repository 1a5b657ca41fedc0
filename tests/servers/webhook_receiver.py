#!/usr/bin/env python3
"""A webhook receiver for the watch tests (Python stdlib only, 127.0.0.1).

Every POST is recorded (path, X-Sis-Signature, X-Sis-Event, body) and
answered 500 while failures are left (--fail N: the first N), else 204.
  GET /__received         JSON list of the POSTs received, failed ones too
                          ({"status", "signature", "event", "body"})
  GET /__fail?count=N     the next N POSTs fail

usage: webhook_receiver.py --port-file FILE [--fail N]
"""
import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

sys.dont_write_bytecode = True
from fakeserver_common import serve  # noqa: E402


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlsplit(self.path)
        st = self.server.state
        if url.path == "/__received":
            with st["lock"]:
                body = json.dumps(st["received"]).encode()
            return self.answer(200, body)
        if url.path == "/__fail":
            with st["lock"]:
                st["fail"] = int(dict(parse_qsl(url.query)).get("count", "1"))
            return self.answer(200, b"{}")
        self.answer(404, b"{}")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace")
        st = self.server.state
        with st["lock"]:
            status = 500 if st["fail"] > 0 else 204
            st["fail"] = max(0, st["fail"] - 1)
            st["received"].append({"status": status, "path": self.path, "body": body,
                                   "signature": self.headers.get("X-Sis-Signature"),
                                   "event": self.headers.get("X-Sis-Event"),
                                   "content_type": self.headers.get("Content-Type")})
        self.answer(status)


def main():
    ap = argparse.ArgumentParser(description="webhook receiver (tests)")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--fail", type=int, default=0)
    args = ap.parse_args()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.state = {"lock": threading.Lock(), "fail": args.fail, "received": []}
    serve(httpd, args.port_file)


if __name__ == "__main__":
    main()
