/* The nesting pre-scan (engine/html_prescan.c), without Lua or gumbo. */
#include "check.h"
#include "html_prescan.h"

#include <stdlib.h>
#include <string.h>

/* head + unit * times + tail, in a buffer the caller frees */
static char *build(const char *head, const char *unit, int times, const char *tail) {
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * (size_t)times + tl + 1), *p = s;
    memcpy(p, head, hl);
    p += hl;
    for (int i = 0; i < times; i++, p += ul) memcpy(p, unit, ul);
    memcpy(p, tail, tl + 1);
    return s;
}

static int deep(const char *head, const char *unit, int times, const char *tail, size_t max_depth) {
    char *s = build(head, unit, times, tail);
    int r = html_too_deep(s, strlen(s), max_depth);
    free(s);
    return r;
}

static void test_counting(void) {
    CHECK(deep("", "<div>", 10, "", 10) == 0);
    CHECK(deep("", "<div>", 11, "", 10) == 1);
    CHECK(deep("", "<div>", 11, "", 11) == 0);
    CHECK(deep("", "<div>x</div>", 1000, "", 10) == 0);
    CHECK(deep("", "<span>", 20000, "", 400) == 1);
    CHECK(deep("", "<DIV>", 11, "", 10) == 1);             /* case-insensitive */
    CHECK(deep("", "<x-a>", 11, "", 10) == 1);             /* unknown tags count */
    CHECK(deep("", "<x-a></X-A>", 100, "", 10) == 0);
    CHECK(deep("", "<br><img src=a><input><hr><meta>", 100, "", 10) == 0);
    CHECK(deep("", "<html><head><body>", 100, "", 10) == 0);
    CHECK(deep("", "<div/>", 11, "", 10) == 1);            /* "/>" does not close HTML */
    CHECK(deep("", "<p>x", 1000, "", 10) == 0);            /* implied end tags */
    CHECK(deep("<ul>", "<li>x", 1000, "</ul>", 10) == 0);
    CHECK(deep("<dl>", "<dt>a<dd>b", 1000, "</dl>", 10) == 0);
    CHECK(deep("<select>", "<option>x", 1000, "</select>", 10) == 0);
    CHECK(deep("<table>", "<tr><td>a<td><font>b</td>", 1000, "</table>", 10) == 0);
    CHECK(deep("", "<table><tr><td>", 10, "", 10) == 0);   /* cells and rows do not count */
    CHECK(deep("", "<table><tr><td>", 11, "", 10) == 1);
    CHECK(deep("", "<a href=x>link", 1000, "", 10) == 0);  /* a new <a> closes the open one */
    CHECK(deep("", "<h1>a<h2>b", 1000, "", 10) == 0);
    CHECK(deep("<svg>", "<path d='M0'/>", 1000, "</svg>", 10) == 0);
}

static void test_text_is_not_markup(void) {
    CHECK(deep("", "<!-- <span> -->", 1000, "", 10) == 0);
    CHECK(deep("", "<!--><span>", 11, "", 10) == 1);       /* "<!-->" is a whole comment */
    CHECK(deep("", "<!-- x --!><span>", 11, "", 10) == 1);
    CHECK(deep("", "<script>if (a<b) document.write('<div>')</script>", 100, "", 10) == 0);
    CHECK(deep("", "<style><div></style><title><div></title><textarea><div></textarea>", 100, "", 10) == 0);
    CHECK(deep("", "<p title='<span>' data-x=\"<div>\">x</p>", 100, "", 10) == 0);
    CHECK(deep("", "<!DOCTYPE html><?php x ?></ >", 100, "", 10) == 0);
    CHECK(deep("<plaintext>", "<div>", 100, "", 10) == 0);
    CHECK(deep("", "<div>", 10, "<div", 10) == 0);         /* tags cut by the end of input */
    CHECK(deep("", "<div>", 10, "<div class='>", 10) == 0);
    /* a script's "</script>" inside "<!--<script>" does not end it */
    CHECK(deep("", "<div><script><!--<script></script></div>--></script>", 100, "", 10) == 1);
    CHECK(deep("<svg>", "<![CDATA[ </g> ]]><g>", 11, "", 10) == 1);
}

static void test_hostile_closing(void) {
    CHECK(deep("", "<div></span>", 100, "", 10) == 1);           /* stray end tags */
    CHECK(deep("", "<span><div></span>", 100, "", 10) == 1);     /* </span> cannot cross a div */
    CHECK(deep("", "<form><div></form>", 100, "", 10) == 1);     /* </form> leaves the div open */
    CHECK(deep("", "<a><div>", 100, "", 10) == 1);               /* <a> cannot close across a div */
    CHECK(deep("", "<li><section>", 100, "", 10) == 1);
    CHECK(deep("", "<option><b>", 100, "", 10) == 1);
    CHECK(deep("", "<rt>", 1000, "", 10) == 1);                  /* uncounted entries pile up too */
    CHECK(deep("", "<td><div></td>", 100, "", 10) == 1);         /* no table: td is ignored */
    CHECK(deep("", "<h2><div><h1></h2>", 100, "", 10) == 1);
    CHECK(deep("", "<select><xmp></select><div></xmp>", 100, "", 10) == 1);
    /* a table's end tag ends a select in it: the model must not stay in
     * the select, skipping every later tag */
    CHECK(deep("<table><tr><td><select></table>", "<div>", 11, "", 10) == 1);
    CHECK(deep("<table><tr><td><select></td>", "<div>", 11, "", 10) == 1);
    /* ...but outside a table they are ignored, and a second <select> ends
     * the first instead of opening one */
    CHECK(deep("<select></table><tr></tr><select>", "<div>", 11, "", 10) == 1);
    CHECK(deep("<svg><div>", "<span/>", 100, "", 10) == 1);      /* HTML inside SVG */
    CHECK(deep("<svg><foreignObject>", "<div><style></div></style>", 100, "", 10) == 1);
    CHECK(deep("<table><tr><td><svg>", "<g><td>", 100, "", 10) == 1);
    CHECK(deep("<frameset>", "<xmp><frameset>", 100, "", 10) == 1);
    CHECK(deep("<svg><template><foreignObject>", "<div><tr>", 100, "", 10) == 1); /* no HTML table */
    CHECK(deep("<svg>", "<td>", 11, "", 10) == 1);              /* SVG elements all count */
    CHECK(deep("<math><mi>", "<mglyph>", 11, "", 10) == 1);
    CHECK(deep("<math><mi>", "<mglyph/>", 100, "", 10) == 0);
    CHECK(deep("<math><annotation-xml>", "<x>", 11, "", 10) == 1);
    /* inside SVG, <math> is an SVG element (and <svg> in MathML is MathML):
     * its <mi> is no integration point, so each <a> nests */
    CHECK(deep("<svg><math><mi>", "<a>", 11, "", 10) == 1);
    CHECK(deep("<math><svg><desc>", "<a>", 11, "", 10) == 1);
    CHECK(deep("<div>", "<span>", 398, "</b></b></b>", 400) == 0);
    /* a flood of end tags that each search a deep stack runs out of budget */
    char *spans = build("<div>", "<span>", 398, "");
    CHECK(deep(spans, "</x>", 100, "", 400) == 0);
    CHECK(deep(spans, "</x>", 100000, "", 400) == 1);
    CHECK(deep(spans, "</b>", 100, "", 400) == 0);
    CHECK(deep(spans, "</b>", 100000, "", 400) == 1);
    free(spans);
}

int main(void) {
    test_counting();
    test_text_is_not_markup();
    test_hostile_closing();
    return check_report("test_html_prescan");
}
