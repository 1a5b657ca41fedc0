"""Runs a command on a pseudo-terminal and types Ctrl-C into it, as a user
at a terminal would (the terminal sends SIGINT to the foreground process
group).

    pty_ctrl_c.py [--wait-for TEXT] [--delay S] [--limit S] -- COMMAND...

Ctrl-C is typed `delay` seconds after TEXT appeared in the output (or after
the start). Prints the transcript, then a last line `status=N`: the shell's
$? (128 + the signal when the command was killed by one), or `status=hung`
when it was still running `limit` seconds after Ctrl-C (then killed)."""
import argparse
import os
import pty
import select
import signal
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wait-for", default="")
    ap.add_argument("--delay", type=float, default=0.3)
    ap.add_argument("--limit", type=float, default=10)
    ap.add_argument("command", nargs="+")
    a = ap.parse_args()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(a.command[0], a.command)
    out = b""
    typed_at = None
    started = time.monotonic()
    seen_at = None if a.wait_for else started
    while True:
        now = time.monotonic()
        if seen_at is None and a.wait_for.encode() in out:
            seen_at = now
        if typed_at is None and seen_at is not None and now - seen_at >= a.delay:
            os.write(fd, b"\x03")
            typed_at = now
        if now - (typed_at or started) > a.limit:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            sys.stdout.write(out.decode(errors="replace") + "\nstatus=hung\n")
            return
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the command and every holder of the pty ended
                break
            if not chunk:
                break
            out += chunk
    _, st = os.waitpid(pid, 0)
    code = 128 + os.WTERMSIG(st) if os.WIFSIGNALED(st) else os.WEXITSTATUS(st)
    sys.stdout.write(out.decode(errors="replace") + "\nstatus=%d\n" % code)


if __name__ == "__main__":
    main()
