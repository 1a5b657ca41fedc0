#!/usr/bin/env python3
"""A generic fake HTTP upstream for the sis.http tests and benchmarks.

Python standard library only, 127.0.0.1, HTTP/1.1 with keep-alive. Writes the
chosen port to --port-file once it listens. --latency MS delays every answer;
--tls PEM serves HTTPS with that key + certificate chain (tests/lua/test_ca.lua
makes one).

Endpoints (GET or any other method unless noted):
  /echo                 JSON {method, path, query (raw), headers (lower-case
                        names; repeated ones joined with ", "), body}
  /set-cookie?k=v&...   sets each k=v as a cookie (Path=/); the body lists them
  /needs-cookie?name=N  200 with the value of cookie N, 401 when it is missing
  /redirect?to=URL      302 to URL; &cookie=k=v also sets that cookie
  /redirect-loop        302 to itself, forever
  /status/NNN           answers status NNN with body "status NNN"
  /slow?ms=N            answers "slow" after N ms
  /big?bytes=N          N bytes of "x" (&chunked=1: no Content-Length)
  /gzip                 a gzip-encoded body (Content-Encoding: gzip)
  /multi-header         repeated X-Multi headers and two Set-Cookie headers
  /latin1-header        a header value with a raw Latin-1 byte (not UTF-8)
  /count?ms=N           holds the request N ms while counting requests in flight
  /count/max            JSON {max} the most /count requests seen in flight at once
  /count/reset          resets that maximum
  /latency              "ok" (for benchmarks, with --latency)
  /conn                 JSON {id, served}: which connection answers (numbered
                        from 1 as accepted) and how many requests it served
  /drop                 reads the request, then closes the connection unanswered
  /drop-reused          "fresh" on a connection's first request; a later request
                        on the same connection is read, then the connection is
                        closed unanswered (a kept-alive connection the server
                        dropped just as the request came)
  /stats                JSON {connections (accepted), drop, drop_reused (requests
                        received)}; ?reset=1 zeroes them after reading
"""
import argparse
import gzip
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

sys.dont_write_bytecode = True  # no __pycache__ in the tree for the helper below
from fakeserver_common import add_tls_option, serve  # noqa: E402 (tests/servers/, next to this file)

LATENCY_MS = 0
counter_lock = threading.Lock()
in_flight = 0
max_in_flight = 0
stats = {"connections": 0, "drop": 0, "drop_reused": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet: tests read answers, not logs
        pass

    def setup(self):  # one handler per connection
        super().setup()
        with counter_lock:
            stats["connections"] += 1
            self.conn_id = stats["connections"]
        self.served = 0

    def bump(self, name):
        with counter_lock:
            stats[name] += 1

    def reply(self, status, body=b"", headers=()):
        if isinstance(body, str):
            body = body.encode()
        head = ["HTTP/1.1 %d %s" % (status, self.responses.get(status, ("?",))[0])]
        names = {name.lower() for name, _ in headers}
        if "content-type" not in names:
            head.append("Content-Type: text/plain; charset=utf-8")
        if "content-length" not in names and "transfer-encoding" not in names:
            head.append("Content-Length: %d" % len(body))
        head += ["%s: %s" % h for h in headers]
        # one write: headers and body together (no Nagle/delayed-ACK stalls)
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def cookies(self):
        jar = {}
        for part in (self.headers.get("Cookie") or "").split(";"):
            if "=" in part:
                k, v = part.strip().split("=", 1)
                jar[k] = v
        return jar

    def handle_any(self):
        body = self.read_body()
        self.served += 1
        if LATENCY_MS:
            time.sleep(LATENCY_MS / 1000)
        url = urlsplit(self.path)
        args = dict(parse_qsl(url.query, keep_blank_values=True))
        path = url.path
        if path == "/echo":
            headers = {}
            for k, v in self.headers.items():
                k = k.lower()
                headers[k] = headers[k] + ", " + v if k in headers else v
            doc = {"method": self.command, "path": path, "query": url.query,
                   "headers": headers, "body": body.decode("utf-8", "replace")}
            self.reply(200, json.dumps(doc, sort_keys=True),
                       [("Content-Type", "application/json")])
        elif path == "/set-cookie":
            pairs = parse_qsl(url.query, keep_blank_values=True)
            self.reply(200, "".join("%s=%s\n" % p for p in pairs),
                       [("Set-Cookie", "%s=%s; Path=/" % p) for p in pairs])
        elif path == "/needs-cookie":
            value = self.cookies().get(args.get("name", "sid"))
            if value is None:
                self.reply(401, "no cookie")
            else:
                self.reply(200, value)
        elif path == "/redirect":
            headers = [("Location", args.get("to", "/echo"))]
            if "cookie" in args:
                headers.append(("Set-Cookie", args["cookie"] + "; Path=/"))
            self.reply(302, "redirecting", headers)
        elif path == "/redirect-loop":
            self.reply(302, "again", [("Location", "/redirect-loop")])
        elif path.startswith("/status/"):
            code = int(path[len("/status/"):])
            self.reply(code, "status %d" % code)
        elif path == "/slow":
            time.sleep(int(args.get("ms", "1000")) / 1000)
            self.reply(200, "slow")
        elif path == "/big":
            n = int(args.get("bytes", "0"))
            if args.get("chunked"):
                self.reply(200, b"", [("Transfer-Encoding", "chunked")])
                chunk = b"x" * 65536
                while n > 0:
                    part = chunk[:n]
                    try:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    except OSError:  # the client gave up: that is the point
                        return
                    n -= len(part)
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.reply(200, b"x" * n)
        elif path == "/gzip":
            self.reply(200, gzip.compress(b"compressed hello " * 100),
                       [("Content-Encoding", "gzip")])
        elif path == "/multi-header":
            self.reply(200, "multi", [("X-Multi", "a"), ("X-Multi", "b"),
                                      ("Set-Cookie", "m1=1; Path=/"),
                                      ("Set-Cookie", "m2=2; Path=/")])
        elif path == "/latin1-header":
            self.reply(200, "latin1", [("X-Name", "caf\xe9")])  # sent as latin-1 bytes
        elif path == "/count":
            self.count(int(args.get("ms", "100")))
        elif path == "/count/max":
            self.reply(200, json.dumps({"max": max_in_flight}),
                       [("Content-Type", "application/json")])
        elif path == "/count/reset":
            self.reset_count()
            self.reply(200, "reset")
        elif path == "/latency":
            self.reply(200, "ok")
        elif path == "/conn":
            self.reply(200, json.dumps({"id": self.conn_id, "served": self.served}),
                       [("Content-Type", "application/json")])
        elif path == "/drop" or (path == "/drop-reused" and self.served > 1):
            self.bump(path[1:].replace("-", "_"))
            self.close_connection = True
        elif path == "/drop-reused":
            self.bump("drop_reused")
            self.reply(200, "fresh")
        elif path == "/stats":
            with counter_lock:
                doc = json.dumps(stats)
                if args.get("reset"):
                    for k in stats:
                        stats[k] = 0
            self.reply(200, doc, [("Content-Type", "application/json")])
        else:
            self.reply(404, "not found")

    def count(self, ms):
        global in_flight, max_in_flight
        with counter_lock:
            in_flight += 1
            max_in_flight = max(max_in_flight, in_flight)
        time.sleep(ms / 1000)
        with counter_lock:
            in_flight -= 1
        self.reply(200, "counted")

    def reset_count(self):
        global max_in_flight
        with counter_lock:
            max_in_flight = 0

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

    def do_HEAD(self):
        self.reply(200, b"", [("Content-Length", "5")])


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):  # clients hanging up are expected
            super().handle_error(request, client_address)


def main():
    global LATENCY_MS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--latency", type=int, default=0, help="ms added to every answer")
    add_tls_option(ap)
    opts = ap.parse_args()
    LATENCY_MS = opts.latency
    server = Server(("127.0.0.1", 0), Handler)
    serve(server, opts.port_file, opts.tls)


if __name__ == "__main__":
    main()
