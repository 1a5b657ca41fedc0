#!/usr/bin/env python3
"""Checks an iCalendar file with a real parser (Debian's python3-icalendar)
and the RFC 5545 rules it does not enforce: CRLF line ends, lines of at most
75 octets, VERSION and PRODID on the calendar, UID, DTSTAMP and DTSTART on
every event. Prints the events as JSON (uid, summary, description, start,
end, categories) on stdout; exits 1 with the reason on stderr otherwise.

usage: ical_check.py FILE
"""
import json
import sys

try:
    import icalendar
except ImportError:
    sys.stderr.write("ical_check: python3-icalendar is not installed (make deps)\n")
    sys.exit(3)


def fail(msg):
    sys.stderr.write("ical_check: %s\n" % msg)
    sys.exit(1)


def main():
    raw = open(sys.argv[1], "rb").read()
    if not raw.endswith(b"\r\n"):
        fail("the last line does not end with CRLF")
    for n, line in enumerate(raw.split(b"\r\n")[:-1], 1):
        if b"\n" in line or b"\r" in line:
            fail("line %d: a bare LF or CR" % n)
        if len(line) > 75:
            fail("line %d: %d octets (at most 75)" % (n, len(line)))
        line.decode("utf-8")
    cal = icalendar.Calendar.from_ical(raw)
    for prop in ("VERSION", "PRODID"):
        if prop not in cal:
            fail("the calendar has no " + prop)
    events = []
    for ev in cal.walk("VEVENT"):
        for prop in ("UID", "DTSTAMP", "DTSTART"):
            if prop not in ev:
                fail("an event has no " + prop)
        out = {"uid": str(ev["UID"]), "summary": str(ev.get("SUMMARY", "")),
               "start": ev.decoded("DTSTART").isoformat(), "end": ev.decoded("DTEND").isoformat()}
        if "DESCRIPTION" in ev:
            out["description"] = str(ev["DESCRIPTION"])
        if "CATEGORIES" in ev:
            out["categories"] = [str(c) for c in ev["CATEGORIES"].cats]
        events.append(out)
    json.dump({"name": str(cal.get("X-WR-CALNAME", "")), "events": events}, sys.stdout)


if __name__ == "__main__":
    main()
