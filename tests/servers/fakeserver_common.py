"""What the fake upstream servers (tests/servers/*.py) share: the start-up
handshake with testlib's t.server, which polls --port-file for the port."""
import os


def serve(httpd, port_file):
    """Writes the port httpd listens on to port_file, whole (written aside,
    then renamed over it), then serves until the process is stopped."""
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % httpd.server_address[1])
    os.replace(tmp, port_file)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
