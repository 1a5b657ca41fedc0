"""What the fake upstream servers (tests/servers/*.py) share: the start-up
handshake with testlib's t.server, which polls --port-file for the port, and
HTTPS (--tls PEM: the key and certificate chain, e.g. from tests/lua/test_ca.lua).

Every fake's handler sets disable_nagle_algorithm (TCP_NODELAY): they write
headers and body in separate calls, and on a kept-alive connection Nagle's
algorithm plus the client's delayed ACK hold the body back for 40 ms."""
import os
import ssl


def add_tls_option(parser):
    parser.add_argument("--tls", metavar="PEM",
                        help="serve HTTPS with this key + certificate chain (PEM)")


def use_tls(httpd, pem):
    """Serves HTTPS: each accepted connection does its TLS handshake in its own
    handler thread (wrapping the listening socket would run every handshake in
    the accept loop, one at a time, and one stalled client would stop it)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pem)
    plain = httpd.finish_request

    def finish_request(request, client_address):
        try:
            request.settimeout(30)
            conn = ctx.wrap_socket(request, server_side=True)
            conn.settimeout(None)  # the handshake had 30 s; requests wait as long as they like
        except (OSError, ValueError):  # the client gave up or refused the certificate
            return
        try:
            plain(conn, client_address)
        finally:
            conn.close()

    httpd.finish_request = finish_request


def serve(httpd, port_file, tls=None):
    """Writes the port httpd listens on to port_file, whole (written aside,
    then renamed over it), then serves until the process is stopped. tls: a
    PEM file (key + certificate chain) to serve HTTPS with, or None."""
    if tls:
        use_tls(httpd, tls)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % httpd.server_address[1])
    os.replace(tmp, port_file)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
