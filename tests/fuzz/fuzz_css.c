/* libFuzzer target: the CSS selector compiler and matcher (engine/css.c).
 * Any input either fails to compile with a column inside it (1..len+1) and a
 * description, or compiles into a selector whose css_select over a fixed page
 * emits elements in document order, each once, exactly those css_matches
 * accepts. A slow input (libFuzzer's -timeout) is a finding too: matching
 * must not blow up on the selector's shape. See tests/fuzz/README.md. */
#include "css.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const char page[] =
    "<!DOCTYPE html><html><head><title>T</title></head><body>"
    "<div id=main class='box wide'><p class=intro>Hello <b>bold</b> world</p>"
    "<ul id=list><li class=a>one<li class='b x'>two<li class=a>three<li data-k='v w'>four</ul>"
    "<table><tr id=r1><td class=f>1<td class=f>a&nbsp;b<tr id=r2><td>2<td>x</table>"
    "<x-widget foo=bar>custom</x-widget><svg><g><rect/></g></svg>"
    "<div><div><div><div><div><div><div><div><div><div><div><div><div><div><div><div>"
    "<span><span><span><span><span><span><span><span><i>deep</i></span></span></span>"
    "</span></span></span></span></span></div></div></div></div></div></div></div></div>"
    "</div></div></div></div></div></div></div></div>"
    "<a href='x.php?a=1'>g</a><a href=index.php>out</a><b id='cur[]'>97%</b></div>"
    "<div class=box>second <span>in span</span><!-- c --></div></body></html>";

static GumboOutput *out;

typedef struct {
    const GumboNode **nodes;
    size_t n, cap;
} found;

static int collect(GumboNode *node, void *ud) {
    found *f = ud;
    if (f->n == f->cap && !(f->nodes = realloc(f->nodes, (f->cap = f->cap * 2 + 16) * sizeof *f->nodes)))
        abort();
    f->nodes[f->n++] = node;
    return 0;
}

static void fail(const char *what) {
    fprintf(stderr, "fuzz: css: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!out) out = gumbo_parse(page);
    size_t column = 0;
    const char *what = NULL;
    css_selector *sel = css_compile((const char *)data, size, &column, &what);
    if (!sel) {
        if (!what || column < 1 || column > size + 1) fail("error without a column inside the selector");
        return 0;
    }
    found f = {NULL, 0, 0};
    size_t count = css_select(sel, out->document, collect, &f);
    if (count != f.n) fail("css_select's count differs from its emissions");
    /* document order, each once, and the same set as css_matches */
    size_t next = 0;
    for (const GumboNode *n = css_next(out->document, out->document, 0); n; n = css_next(n, out->document, 0)) {
        int emitted = next < f.n && f.nodes[next] == n;
        if (emitted) next++;
        if (emitted != css_matches(sel, n)) fail("css_select and css_matches disagree");
    }
    if (next != f.n) fail("emissions out of document order or repeated");
    free(f.nodes);
    css_free(sel);
    return 0;
}
