#!/usr/bin/env python3
"""The fake Focus of the tests (tests/servers/fake_focus.py) whose pages can
be swapped for hostile ones, for the stress suite (issue 15):
  GET /__hostile?kind=K   every Modules.php answer from now on is page K
  GET /__hostile?kind=    back to the corpus
Kinds (built once, at start):
  passwords    2.3 MB: 100,000 password inputs (a page-kind check that
               searched the page once per input took 106 s of CPU)
  error_boxes  nested .error_box elements around 1 MB of text (the text of
               every ancestor rebuilt and lowered: 2-19 s)
  paragraphs   8 MB of <p> (about 1 GB in gumbo)
usage: hostile_focus.py --port-file FILE
"""
import argparse
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "servers"))
import fake_focus  # noqa: E402
from fakeserver_common import serve  # noqa: E402

PAGES = {
    "passwords": ("<html><body><form>" + '<input type="password" name="pw">' * 100000
                  + "</form></body></html>").encode(),
    "error_boxes": ("<html><body>" + '<div class="error_box">' * 300 + "<p>"
                    + "Error: something went wrong. " * 36000 + "</p>" + "</div>" * 300
                    + "</body></html>").encode(),
    "paragraphs": ("<html><body>" + "<p>" * ((8 * 1024 * 1024 - 64) // 3)).encode(),
}


class Handler(fake_focus.Handler):
    def modules(self, session, query, form):
        kind = self.server.hostile
        if kind:
            return self.send(200, PAGES[kind], session=session)
        return super().modules(session, query, form)

    def control(self, url):
        if url.path == "/__hostile":
            kind = dict(fake_focus.parse_qsl(url.query, keep_blank_values=True)).get("kind", "")
            if kind and kind not in PAGES:
                return self.send(400, '{"error": "unknown kind"}', "application/json")
            self.server.hostile = kind
            return self.send(200, "{}", "application/json")
        return super().control(url)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    corpus = fake_focus.Corpus(fake_focus.PAGES["2016"])
    httpd = fake_focus.Server(("127.0.0.1", 0), Handler)
    httpd.state = fake_focus.State(corpus, corpus.manifest["session_timeout_s"], 0, None)
    httpd.hostile = ""
    serve(httpd, args.port_file)


if __name__ == "__main__":
    sys.exit(main())
