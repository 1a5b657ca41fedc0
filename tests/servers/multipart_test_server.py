#!/usr/bin/env python3
"""Reads multipart/form-data bodies with Python's own MIME parser (the email
package) and answers what it found, for tests/lua/http_multipart_test.lua:

  POST /parts   → {"content_type", "boundary", "defects", "parts": [{"name",
                   "filename", "content_type", "data_hex"}], "body_hex"}

usage: multipart_test_server.py --port-file FILE
"""
import argparse
import json
import os
import sys
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakeserver_common import serve  # noqa: E402


def read_parts(content_type, body):
    msg = BytesParser(policy=policy.HTTP).parsebytes(
        b"MIME-Version: 1.0\r\nContent-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    parts = []
    if msg.is_multipart():
        for part in msg.iter_parts():
            parts.append({
                "disposition": part.get_content_disposition(),
                "name": part.get_param("name", header="content-disposition"),
                "filename": part.get_filename(),
                "content_type": part.get_content_type() if part.get("Content-Type") else None,
                "data_hex": part.get_payload(decode=True).hex(),
            })
    return {"content_type": content_type, "boundary": msg.get_boundary(),
            "defects": [type(d).__name__ for d in msg.defects], "parts": parts, "body_hex": body.hex()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/parts":
            self.send_error(404)
            return
        data = json.dumps(read_parts(self.headers.get("Content-Type") or "", body)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    serve(httpd, args.port_file)


if __name__ == "__main__":
    main()
