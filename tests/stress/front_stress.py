#!/usr/bin/env python3
"""The stress suite of `sis serve` (make stress; issue 15), on loopback only,
bounded in time. Prints its figures; exits 1 when a criterion fails.

  availability  a probe client answered within 1 s while 64 slow-header,
                64 slow-body, 64 idle and 200 busy keep-alive clients run
  pages         hostile Focus pages (tests/stress/hostile_focus.py) answered
                within SIS_TIMEOUT and a bounded memory: peak at most 200 MB
                over the idle server, RSS after at most 10 MB over it
  sessions      200 sessions switching marking periods at once: every answer
                is the session's own

usage: front_stress.py SIS_BINARY [--only SCENARIO] [--seconds N] [--behind-nginx]
"""
import asyncio
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOST = "127.0.0.1"
CREDS = {"username": "jonah.whitcombe", "password": "harbor-lights-42"}
failures = []


def check(ok, what):
    print("  %s %s" % ("ok  " if ok else "FAIL", what))
    if not ok:
        failures.append(what)


# ---------------------------------------------------------------- processes

class Proc:
    """A background server started with --port-file; stopped by stop()."""

    def __init__(self, argv, env=None, name="server"):
        self.dir = tempfile.mkdtemp(prefix="sis-stress-")
        self.log = os.path.join(self.dir, "log")
        port_file = os.path.join(self.dir, "port")
        with open(self.log, "w") as log:
            self.p = subprocess.Popen(argv + ["--port-file", port_file], stdout=log, stderr=subprocess.STDOUT,
                                      env=dict(os.environ, **(env or {})))
        deadline = time.time() + 20
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if time.time() > deadline or self.p.poll() is not None:
                raise SystemExit("%s did not start: %s" % (name, open(self.log).read()))
            time.sleep(0.05)
        self.port = int(open(port_file).read())
        self.url = "http://%s:%d" % (HOST, self.port)

    def status(self, key):
        for line in open("/proc/%d/status" % self.p.pid):
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
        return 0.0

    def rss(self):
        return self.status("VmRSS")

    def reset_peak(self):
        with open("/proc/%d/clear_refs" % self.p.pid, "w") as f:
            f.write("5")  # resets VmHWM to the current RSS

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                self.p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_sis(sis, env=None, focus=None):
    argv = [sis, "serve", "--scripts", os.path.join(ROOT, "scripts"), "--listen", HOST + ":0"]
    if focus:
        argv += ["--focus-url", focus.url + "/"]
    return Proc(argv, dict({"SIS_LOG_LEVEL": "warn"}, **(env or {})), "sis serve")


# ---------------------------------------------------------------- HTTP bits

async def read_answer(r):
    head = await r.readuntil(b"\r\n\r\n")
    n = 0
    close = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            n = int(value)
        elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
            close = True
    body = await r.readexactly(n)
    return int(head.split(b" ")[1]), body, close


async def request(port, method, path, body=None, headers=None, timeout=30):
    """One request on its own connection: (status, body, seconds)."""
    t0 = time.monotonic()
    r, w = await asyncio.open_connection(HOST, port)
    try:
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: stress", "Connection: close"]
        data = b""
        if body is not None:
            data = json.dumps(body).encode()
            lines += ["Content-Type: application/json", "Content-Length: %d" % len(data)]
        lines += ["%s: %s" % kv for kv in (headers or {}).items()]
        w.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        status, out, _ = await asyncio.wait_for(read_answer(r), timeout)
        return status, out, time.monotonic() - t0
    finally:
        w.close()


def session_cookie(body_headers):
    return body_headers


async def login(port):
    """POST /api/v3/session on a raw connection; returns the Cookie header value."""
    r, w = await asyncio.open_connection(HOST, port)
    data = json.dumps(CREDS).encode()
    w.write(b"POST /api/v3/session HTTP/1.1\r\nHost: stress\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(data) + data)
    head = await r.readuntil(b"\r\n\r\n")
    w.close()
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"set-cookie: sis_focus="):
            return line.split(b":", 1)[1].split(b";")[0].strip().decode()
    raise RuntimeError("login failed: %r" % head[:200])


# ---------------------------------------------------------------- availability

async def slow_header(port, stop, held):
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            r, w = await asyncio.open_connection(HOST, port)
            w.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
            while not stop.is_set() and not r.at_eof():
                await asyncio.sleep(1)
                w.write(b"X")
                await w.drain()
                try:  # anything back means the server gave up on us
                    if await asyncio.wait_for(r.read(1), 0.01) == b"":
                        break
                    await r.read(65536)
                    break
                except asyncio.TimeoutError:
                    pass
            w.close()
        except OSError:
            await asyncio.sleep(0.1)
        if not stop.is_set():
            held.append(time.monotonic() - t0)


async def slow_body(port, stop, held, statuses):
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            r, w = await asyncio.open_connection(HOST, port)
            w.write(b"POST /api/v3/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 100000\r\n\r\n{")
            answer = asyncio.ensure_future(read_answer(r))
            while not stop.is_set() and not answer.done():
                await asyncio.wait([answer], timeout=5)
                if not answer.done():
                    w.write(b" ")  # one byte every 5 s, as in the issue
                    await w.drain()
            if answer.done() and not answer.exception():
                statuses.append(answer.result()[0])
            else:
                answer.cancel()
            w.close()
        except OSError:
            await asyncio.sleep(0.1)
        if not stop.is_set():
            held.append(time.monotonic() - t0)


async def idle(port, stop, held):
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            r, w = await asyncio.open_connection(HOST, port)
            read = asyncio.ensure_future(r.read())
            await asyncio.wait([read, asyncio.ensure_future(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
            read.cancel()
            w.close()
        except OSError:
            await asyncio.sleep(0.1)
        if not stop.is_set():
            held.append(time.monotonic() - t0)


async def busy(port, stop, counts, i, path):
    while not stop.is_set():
        try:
            r, w = await asyncio.open_connection(HOST, port)
            while not stop.is_set():
                w.write(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode())
                status, _, close = await read_answer(r)
                counts[i] += 1
                if close:
                    break
            w.close()
        except (OSError, asyncio.IncompleteReadError):
            await asyncio.sleep(0.05)


def probe(port, seconds):
    """The probe client, in a process of its own (the busy clients' event loop
    would add its own delays): GET / on a new connection every 0.2 s; prints
    the times, in seconds (-1: no answer)."""
    import socket
    out, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            s = socket.create_connection((HOST, port), timeout=10)
            s.sendall(b"GET / HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            s.close()
            out.append(time.monotonic() - t0 if data.startswith(b"HTTP/1.1 200") else -1)
        except OSError:
            out.append(-1)
        time.sleep(0.2)
    print(json.dumps(out))


async def availability(port, seconds):
    stop = asyncio.Event()
    counts = [0] * 200
    held = {"slow-header": [], "slow-body": [], "idle": []}
    body_statuses = []
    tasks = [asyncio.ensure_future(slow_header(port, stop, held["slow-header"])) for _ in range(64)]
    tasks += [asyncio.ensure_future(slow_body(port, stop, held["slow-body"], body_statuses)) for _ in range(64)]
    tasks += [asyncio.ensure_future(idle(port, stop, held["idle"])) for _ in range(64)]
    tasks += [asyncio.ensure_future(busy(port, stop, counts, i, "/")) for i in range(200)]
    await asyncio.sleep(1)  # every client connected first
    prober = await asyncio.create_subprocess_exec(sys.executable, __file__, "--probe", str(port), str(seconds),
                                                  stdout=asyncio.subprocess.PIPE)
    out, _ = await prober.communicate()
    lat = [x if x >= 0 else float("inf") for x in json.loads(out)]
    stop.set()
    await asyncio.sleep(0.3)
    for t in tasks:
        t.cancel()
    return counts, lat, held, body_statuses


def run_availability(sis, seconds, target=None):
    print("availability: 64 slow-header, 64 slow-body, 64 idle, 200 busy keep-alive clients, "
          "a probe every 0.2 s, %d s%s" % (seconds, " (behind nginx)" if target else ""))
    srv = start_sis(sis)
    port = target(srv) if target else srv.port
    try:
        counts, lat, held, body_statuses = asyncio.run(availability(port, seconds))
        ok = [x for x in lat if x != float("inf")]
        lat_sorted = sorted(ok)
        print("  probes: %d sent, %d answered, median %.0f ms, max %.0f ms" % (
            len(lat), len(ok), 1000 * lat_sorted[len(ok) // 2] if ok else -1, 1000 * max(lat) if lat else -1))
        print("  busy clients: %d of 200 served, %d requests (%.0f req/s)" % (
            sum(1 for c in counts if c), sum(counts), sum(counts) / seconds))
        for kind, hs in held.items():
            if hs:
                print("  %s connections ended by the server: %d, held at most %.1f s" % (kind, len(hs), max(hs)))
        if body_statuses:
            print("  slow bodies answered: %s" % ", ".join(
                "%d x %d" % (body_statuses.count(s), s) for s in sorted(set(body_statuses))))
        print("  sis RSS %.1f MB (peak %.1f MB)" % (srv.rss(), srv.status("VmHWM")))
        check(len(lat) >= seconds * 2 and len(ok) == len(lat), "every probe answered")
        check(bool(lat) and max(lat) <= 1.0, "every probe answered within 1 s")
        check(all(c > 0 for c in counts), "every busy client served")
        if not target:
            check(all(h < 25 for hs in held.values() for h in hs), "no hostile connection held over 25 s")
    finally:
        srv.stop()


# ---------------------------------------------------------------- nginx in front

NGINX_CONF = """
daemon off;
worker_processes 1;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    upstream sis { server 127.0.0.1:%(sis)d; keepalive 32; }
    server {
        listen 127.0.0.1:%(port)d;
        client_header_timeout 10s;
        client_body_timeout 10s;
        client_max_body_size 1m;
        large_client_header_buffers 4 8k;
        send_timeout 10s;
        keepalive_timeout 30s;
        location / {
            proxy_pass http://sis;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_request_buffering on;
            proxy_buffering on;
            proxy_read_timeout 30s;
        }
    }
}
"""


class Nginx:
    """nginx on loopback in front of sis, with docs/server.md's settings."""

    def __init__(self, sis_port):
        import socket
        self.dir = tempfile.mkdtemp(prefix="sis-nginx-")
        os.chmod(self.dir, 0o755)  # nginx's workers may run as another user
        probe = socket.socket()
        probe.bind((HOST, 0))
        self.port = probe.getsockname()[1]
        probe.close()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF % {"dir": self.dir, "sis": sis_port, "port": self.port})
        self.p = subprocess.Popen([shutil.which("nginx"), "-p", self.dir, "-c", conf],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        import socket as so
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                so.create_connection((HOST, self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("nginx did not start: " + open(os.path.join(self.dir, "error.log")).read())

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_behind_nginx(sis, seconds):
    if not shutil.which("nginx"):
        print("behind nginx: skipped, nginx is not installed")
        return
    proxies = []

    def front(srv):
        proxies.append(Nginx(srv.port))
        return proxies[0].port
    try:
        run_availability(sis, seconds, front)
    finally:
        for p in proxies:
            p.stop()


# ---------------------------------------------------------------- hostile pages

async def timed_probe(port, stop, lat):
    while not stop.is_set():
        try:
            _, _, took = await request(port, "GET", "/", timeout=10)
            lat.append(took)
        except Exception:
            lat.append(float("inf"))
        await asyncio.sleep(0.1)


async def hostile(srv, fake, kind, path, clients):
    await request(fake.port, "GET", "/__hostile?kind=")
    cookies = [await login(srv.port) for _ in range(clients)]
    await request(fake.port, "GET", "/__hostile?kind=" + kind)
    await asyncio.sleep(0.2)
    srv.reset_peak()
    base = srv.rss()
    stop = asyncio.Event()
    lat = []
    p = asyncio.ensure_future(timed_probe(srv.port, stop, lat))
    results = await asyncio.gather(*[request(srv.port, "GET", path, headers={"Cookie": c}, timeout=120)
                                     for c in cookies])
    stop.set()
    await p
    peak = srv.status("VmHWM")
    await asyncio.sleep(0.5)
    return results, base, peak, srv.rss(), lat


async def warm_up(port):
    """Every worker builds its Lua state and reads ordinary Focus pages (so
    loads the Focus scripts): the idle RSS to compare with."""
    for _ in range(3):
        await asyncio.gather(*[request(port, "GET", "/") for _ in range(64)])
    cookies = await asyncio.gather(*[login(port) for _ in range(32)])
    for path in ("/api/v3/portal", "/api/v3/calendar/2017/2"):
        await asyncio.gather(*[request(port, "GET", path, headers={"Cookie": c}) for c in cookies])


def run_pages(sis, timeout):
    print("pages: hostile Focus pages, SIS_TIMEOUT=%d" % timeout)
    fake = Proc([sys.executable, os.path.join(ROOT, "tests", "stress", "hostile_focus.py")], name="hostile_focus")
    srv = start_sis(sis, {"SIS_TIMEOUT": str(timeout)}, fake)
    try:
        asyncio.run(warm_up(srv.port))
        idle_rss = srv.rss()
        # What stays after a hostile page is what a worker keeps by design
        # (up to 1 MiB of spare parse chunks, and up to 2 MiB free at the top
        # of its malloc arena: M_TRIM_THRESHOLD), for each worker that served
        # one: "after" may grow by a few MB per concurrent client.
        for kind, path, clients, peak_limit, after_limit in (
                ("passwords", "/api/v3/portal", 1, 200, 10),
                ("error_boxes", "/api/v3/portal", 1, 200, 10),
                ("paragraphs", "/api/v3/portal", 1, 200, 10),
                ("paragraphs", "/api/v3/portal", 1, 200, 10),
                ("paragraphs", "/api/v3/portal", 1, 200, 10),
                ("paragraphs", "/api/v3/calendar/2017", 4, None, 16)):
            results, base, peak, after, lat = asyncio.run(hostile(srv, fake, kind, path, clients))
            slowest = max(r[2] for r in results)
            print("  %-11s %-22s x%d: %s in %.1f s at most; RSS %.0f MB before, peak +%.0f MB, after +%.1f MB; "
                  "probe max %.0f ms" % (kind, path, clients, "/".join(str(r[0]) for r in results), slowest, base,
                                         peak - base, after - idle_rss, 1000 * max(lat) if lat else -1))
            check(all(r[0] in (502, 504) for r in results), "%s: answered 502/504" % kind)
            check(slowest <= timeout + 5, "%s: answered within SIS_TIMEOUT + 5 s" % kind)
            if peak_limit:
                check(peak - base <= peak_limit, "%s: peak within %d MB" % (kind, peak_limit))
            check(after - idle_rss <= after_limit,
                  "%s: RSS back within %d MB of the idle server's" % (kind, after_limit))
            check(bool(lat) and max(lat) <= 1.0, "%s: other clients answered within 1 s meanwhile" % kind)
    finally:
        srv.stop()
        fake.stop()


# ---------------------------------------------------------------- sessions

MPS = [(2015, "314"), (2015, "315"), (2016, "325"), (2016, "326")]


async def one_session(port, i, rounds, stats):
    cookie = await login(port)
    for n in range(rounds):
        year, mp = MPS[(i + n) % len(MPS)]
        status, body, _ = await request(port, "PUT", "/api/v3/session", {"year": year, "mp_id": int(mp)},
                                        {"Cookie": cookie}, timeout=60)
        stats["requests"] += 1
        if status != 200:
            stats["errors"].append("PUT %d" % status)
            continue
        for what, (status, body, _) in (("put", (status, body, 0)),
                                         ("portal", await request(port, "GET", "/api/v3/portal", None,
                                                                  {"Cookie": cookie}, timeout=60))):
            if what == "portal":
                stats["requests"] += 1
            if status != 200:
                stats["errors"].append("%s %d" % (what, status))
                continue
            selected = [k for k, v in json.loads(body)["mps"].items() if v.get("selected")]
            if selected != [mp]:
                stats["crossed"].append("session %d round %d: %s shows %s, want %s" % (i, n, what, selected, mp))


async def sessions(port, n, rounds):
    stats = {"requests": 0, "errors": [], "crossed": []}
    t0 = time.monotonic()
    await asyncio.gather(*[one_session(port, i, rounds, stats) for i in range(n)])
    return stats, time.monotonic() - t0


def run_sessions(sis, n=200, rounds=3):
    print("sessions: %d sessions, %d marking-period switches each, all at once" % (n, rounds))
    fake = Proc([sys.executable, os.path.join(ROOT, "tests", "servers", "fake_focus.py")], name="fake_focus")
    srv = start_sis(sis, None, fake)
    try:
        stats, took = asyncio.run(sessions(srv.port, n, rounds))
        print("  %d requests in %.1f s; errors: %d; crossed answers: %d; sis RSS %.1f MB" % (
            stats["requests"], took, len(stats["errors"]), len(stats["crossed"]), srv.rss()))
        for line in (stats["crossed"] + stats["errors"])[:5]:
            print("    " + line)
        check(not stats["crossed"], "no answer shows another session's marking period")
        check(not stats["errors"], "every request answered 200")
    finally:
        srv.stop()
        fake.stop()


def main():
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    if args[0] == "--probe":
        return probe(int(args[1]), float(args[2]))
    sis = os.path.abspath(args[0])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # ~400 sockets at once
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    only = args[args.index("--only") + 1] if "--only" in args else None
    seconds = int(args[args.index("--seconds") + 1]) if "--seconds" in args else 30
    t0 = time.time()
    if only in (None, "availability"):
        run_availability(sis, seconds)
    if only in (None, "nginx"):
        run_behind_nginx(sis, seconds // 2)
    if only in (None, "pages"):
        run_pages(sis, 5)
    if only in (None, "sessions"):
        run_sessions(sis)
    print("stress: %d criteria failed, %.0f s" % (len(failures), time.time() - t0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
