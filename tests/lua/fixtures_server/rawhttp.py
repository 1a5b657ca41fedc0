"""Sends raw bytes to the server and prints what comes back, for requests no
well-behaved client would send (bad framing, truncated bodies).
  rawhttp.py PORT REQUEST_FILE [--half-close] [--wait SECONDS]
Prints the bytes received, then a last line "<eof>" when the server closed the
connection or "<open>" when it was still open after SECONDS (default 10)."""
import socket
import sys

port, path = int(sys.argv[1]), sys.argv[2]
half_close = "--half-close" in sys.argv
wait = float(sys.argv[sys.argv.index("--wait") + 1]) if "--wait" in sys.argv else 10.0
with open(path, "rb") as f:
    data = f.read()
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(wait)
try:
    s.sendall(data)
except OSError:  # the server may answer and close before taking it all
    pass
if half_close:
    s.shutdown(socket.SHUT_WR)
out, end = b"", "<open>"
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            end = "<eof>"
            break
        out += chunk
except socket.timeout:
    pass
except ConnectionResetError:
    end = "<eof>"
s.close()
sys.stdout.write(out.decode("latin-1") + "\n" + end + "\n")
