/* The CSS selector compiler and matcher (engine/css.c), without Lua. */
#include "check.h"
#include "css.h"

#include <stdlib.h>
#include <string.h>

static const char page[] =
    "<!DOCTYPE html><html><head><title>T</title></head><body>"
    "<div id=main class='box wide'>"
    "<p class=intro>Hello <b>bold</b> world</p>"
    "<ul id=list><li class=a>one</li><li class='b x'>two</li><li class=a>three</li>"
    "<li data-k='v w'>four</li><li lang=en-GB>five</li></ul>"
    "<table><tr id=LOy_row1><td class=LO_field>1</td><td class=LO_field>a&nbsp;b</td></tr>"
    "<tr id=LOy_row2><td class=LO_field>2</td><td>x</td></tr></table>"
    "<X-Widget Foo=bar>custom</X-Widget>"
    "<a href='Modules.php?modname=Grades/x.php'>g</a><a href='index.php?logout'>out</a>"
    "<b id='cur[]'>97%</b>"
    "</div><div class=box>second <span>in span</span></div></body></html>";

static GumboOutput *out;

/* Collects the tag names (and ids/first text if present) of the matches. */
typedef struct {
    char buf[512];
    size_t count;
} result;

static int collect(GumboNode *n, void *ud) {
    result *r = ud;
    const char *name;
    size_t len;
    css_tag_name(n, &name, &len);
    size_t used = strlen(r->buf);
    if (used + len + 2 >= sizeof r->buf) return 1;
    if (used) r->buf[used++] = ' ';
    memcpy(r->buf + used, name, len);
    r->buf[used + len] = '\0';
    const GumboAttribute *id = gumbo_get_attribute(&n->v.element.attributes, "id");
    if (id && strlen(r->buf) + strlen(id->value) + 2 < sizeof r->buf) {
        strcat(r->buf, "#");
        strcat(r->buf, id->value);
    }
    r->count++;
    return 0;
}

/* The matches of sel in the whole document, as "tag#id tag ..." */
static const char *select_all(const char *sel) {
    static result r;
    memset(&r, 0, sizeof r);
    size_t col;
    const char *what;
    css_selector *s = css_compile(sel, strlen(sel), &col, &what);
    if (!s) {
        snprintf(r.buf, sizeof r.buf, "error %zu: %s", col, what);
        return r.buf;
    }
    css_select(s, out->document, collect, &r);
    css_free(s);
    return r.buf;
}

static size_t count(const char *sel) {
    size_t col;
    const char *what;
    css_selector *s = css_compile(sel, strlen(sel), &col, &what);
    if (!s) return (size_t)-1;
    result r = {{0}, 0};
    size_t n = css_select(s, out->document, collect, &r);
    css_free(s);
    return n;
}

static const char *error_of(const char *sel) {
    static char buf[200];
    size_t col;
    const char *what;
    css_selector *s = css_compile(sel, strlen(sel), &col, &what);
    if (s) {
        css_free(s);
        return "compiled";
    }
    snprintf(buf, sizeof buf, "%zu: %s", col, what);
    return buf;
}

static void test_simple_selectors(void) {
    CHECK_STR(select_all("ul"), "ul#list");
    CHECK(count("li") == 5);
    CHECK(count("*") == 27);
    CHECK_STR(select_all("#main"), "div#main");
    CHECK_STR(select_all("#cur\\[\\]"), "b#cur[]");
    CHECK_STR(select_all("[id='cur[]']"), "b#cur[]");
    CHECK(count(".box") == 2);
    CHECK(count("div.box.wide") == 1);
    CHECK(count(".a") == 2);
    CHECK(count(".x.b") == 1);
    CHECK(count("[data-k]") == 1);
    CHECK(count("[DATA-K]") == 1);
    CHECK(count("[data-k=v]") == 0);
    CHECK(count("[data-k='v w']") == 1);
    CHECK(count("[data-k~=w]") == 1);
    CHECK(count("[data-k~=\"v w\"]") == 0);
    CHECK_STR(select_all("tr[id^=LOy_row]"), "tr#LOy_row1 tr#LOy_row2");
    CHECK(count("[id$=row2]") == 1);
    CHECK(count("[id*=y_r]") == 2);
    CHECK(count("[id^='']") == 0);
    CHECK(count("a[href^=\"Modules.php?modname=Grades/\"]") == 1);
    CHECK(count("a[href*=logout]") == 1);
    CHECK(count("LI") == 5);
    CHECK_STR(select_all("x-widget"), "X-Widget"); /* as written in the source */
    CHECK_STR(select_all("X-WIDGET[foo=bar]"), "X-Widget");
    CHECK(count("[lang=en-GB]") == 1);
}

static void test_combinators(void) {
    CHECK(count("div p b") == 1);
    CHECK(count("div > b") == 1); /* the #cur[] one; the p's b is a grandchild */
    CHECK(count("p > b") == 1);
    CHECK(count("body > b") == 0);
    CHECK_STR(select_all("li.a + li"), "li li");
    CHECK(count("li.a ~ li") == 4);
    CHECK(count("li ~ li ~ li") == 3);
    CHECK(count("table td.LO_field") == 3);
    CHECK(count("tr > td") == 4); /* gumbo inserts tbody: tr is still td's parent */
    CHECK(count("table > tr") == 0);
    CHECK(count("table > tbody > tr") == 2);
    CHECK(count("div   >   ul>li") == 5);
    CHECK(count("ul li, p b, ul li.a") == 6); /* a list: no duplicates */
}

static void test_pseudo_classes(void) {
    CHECK_STR(select_all("li:first-child"), "li");
    CHECK(count("li:last-child") == 1);
    CHECK(count("td:first-child") == 2);
    CHECK(count("li:nth-child(2)") == 1);
    CHECK(count("li:nth-child(odd)") == 3);
    CHECK(count("li:nth-child(even)") == 2);
    CHECK(count("li:nth-child(2n+1)") == 3);
    CHECK(count("li:nth-child( 2n + 1 )") == 3);
    CHECK(count("li:nth-child(-n+2)") == 2);
    CHECK(count("li:nth-child(n+4)") == 2);
    CHECK(count("li:nth-child(n)") == 5);
    CHECK(count("li:nth-child(3n)") == 1);
    CHECK(count("li:nth-child(0)") == 0);
    CHECK(count("li:not(.a)") == 3);
    CHECK(count("li:not(.a, .b)") == 2);
    CHECK(count("li:not(:first-child):not(:last-child)") == 3);
    CHECK(count("div:not(#main)") == 1);
    CHECK(count("li:contains(t)") == 2);
    CHECK(count("li:contains('two')") == 1);
    CHECK(count("p:contains(Hello bold)") == 1);  /* across text nodes */
    CHECK(count("p:contains(\"o w\")") == 0);    /* "bold world": no "o w" */
    CHECK(count("p:contains(\"d w\")") == 1);
    CHECK(count("td:contains(\"a\xc2\xa0" "b\")") == 1); /* NBSP is U+00A0 */
    CHECK(count("title:contains(T)") == 1);
    CHECK(count("div:contains(in span)") == 1);
    CHECK(count(":contains(aab)") == 0);
    CHECK(count("li:contains('')") == 5);
    CHECK(count("li:FIRST-CHILD") == 1);
}

static void test_matches(void) {
    size_t col;
    const char *what;
    css_selector *s = css_compile("ul > li.a", 9, &col, &what);
    GumboNode *body = out->root->v.element.children.data[1];
    GumboNode *div = body->v.element.children.data[0];
    GumboNode *ul = div->v.element.children.data[1];
    GumboNode *li1 = ul->v.element.children.data[0], *li2 = ul->v.element.children.data[1];
    CHECK(css_matches(s, li1));
    CHECK(!css_matches(s, li2));
    CHECK(!css_matches(s, ul));
    CHECK(!css_matches(s, li1->v.element.children.data[0])); /* a text node */
    css_free(s);
    /* scope: strictly inside, ancestors outside the scope still count */
    s = css_compile("div li", 6, &col, &what);
    result r = {{0}, 0};
    CHECK(css_select(s, ul, collect, &r) == 5);
    CHECK(css_select(s, li1, collect, &r) == 0);
    css_free(s);
    /* emit can stop the walk */
    s = css_compile("li", 2, &col, &what);
    CHECK(css_select(s, out->document, collect, &r) == 5);
    css_free(s);
}

static int stop_at_first(GumboNode *n, void *ud) {
    (void)n;
    ++*(int *)ud;
    return 1;
}

static void test_stop(void) {
    size_t col;
    const char *what;
    css_selector *s = css_compile("li", 2, &col, &what);
    int calls = 0;
    CHECK(css_select(s, out->document, stop_at_first, &calls) == 1);
    CHECK(calls == 1);
    css_free(s);
}

static void test_errors(void) {
    CHECK_STR(error_of("td..x"), "4: expected class name");
    CHECK_STR(error_of(""), "1: expected selector");
    CHECK_STR(error_of("   "), "4: expected selector");
    CHECK_STR(error_of("a,"), "3: expected selector");
    CHECK_STR(error_of("a, ,b"), "4: expected selector");
    CHECK_STR(error_of("td >"), "5: expected selector");
    CHECK_STR(error_of("td > > a"), "6: expected selector");
    CHECK_STR(error_of("#"), "2: expected id");
    CHECK_STR(error_of("["), "2: expected attribute name");
    CHECK_STR(error_of("[a"), "3: expected ']' or an operator (= ^= $= *= ~=)");
    CHECK_STR(error_of("[a|=b]"), "3: expected ']' or an operator (= ^= $= *= ~=)");
    CHECK_STR(error_of("[a=]"), "4: expected attribute value");
    CHECK_STR(error_of("[a=b c]"), "6: expected ']'");
    CHECK_STR(error_of("[a=\"b]"), "4: unterminated string");
    CHECK_STR(error_of(":hover"), "2: unknown pseudo-class (expected first-child, last-child, nth-child, not or contains)");
    CHECK_STR(error_of(":"), "2: expected pseudo-class name");
    CHECK_STR(error_of("li:nth-child"), "13: expected '('");
    CHECK_STR(error_of("li:nth-child(x)"), "14: expected an+b, odd or even");
    CHECK_STR(error_of("li:nth-child(2n+)"), "17: expected an+b, odd or even");
    CHECK_STR(error_of("li:nth-child(2"), "15: expected ')'");
    CHECK_STR(error_of(":not(a"), "7: expected ',' or ')'");
    CHECK_STR(error_of(":not()"), "6: expected selector");
    CHECK_STR(error_of(":contains()"), "11: expected text");
    CHECK_STR(error_of("a)"), "2: expected ',' or end of selector");
    CHECK_STR(error_of("a\\"), "2: expected a character after '\\'");
    CHECK_STR(error_of("a b c"), "compiled");
    /* nesting and length limits keep the recursion bounded */
    char deep[400] = "";
    for (int i = 0; i < 20; i++) strcat(deep, ":not(");
    CHECK_STR(error_of(deep), "82: selector nested too deeply");
    char *longsel = malloc(2 * 100 + 1);
    for (int i = 0; i < 100; i++) memcpy(longsel + 2 * i, "a ", 2);
    longsel[199] = '\0';
    CHECK_STR(error_of(longsel), "128: selector has too many compounds");
    free(longsel);
}

/* The matches of sel in a page of its own. */
static size_t count_in(const char *html, const char *sel) {
    GumboOutput *saved = out;
    out = gumbo_parse(html);
    size_t n = count(sel);
    gumbo_destroy_output(&kGumboDefaultOptions, out);
    out = saved;
    return n;
}

/* A failed compound backs off only as far as another candidate can help. */
static void test_backtracking(void) {
    /* '>' fails at the nearest .c, the outer .c's parent is the .a */
    CHECK(count_in("<div class=a><div class=c><div class=c><span>s</span></div></div></div>", ".a > .c span") == 1);
    CHECK(count_in("<div class=a><div class=c><div class=c><span>s</span></div></div></div>", ".a > .c > span") == 0);
    /* '~' finds nothing before the nearest .c; the outer .c follows the h1 */
    CHECK(count_in("<div><h1></h1><div class=c><p class=c><span>s</span></p></div></div>", "h1 ~ .c span") == 1);
    CHECK(count_in("<div><h1></h1><div class=c><p class=c><span>s</span></p></div></div>", "h1 + .c span") == 1);
    CHECK(count_in("<div><h1></h1><i></i><div class=c><span>s</span></div></div>", "h1 + .c span") == 0);
    CHECK(count_in("<div class=x><b class=c></b><i></i><span></span></div>"
                   "<div class=y><b class=c></b><span></span></div>", ".x .c ~ span") == 1);
    /* a chain of descendant combinators is linear, not exponential, in its
     * length: 30 `*` over 40 nested divs would try C(40, 30) ancestor chains */
    char deep[600] = "", sel[128] = "tn";
    for (int i = 0; i < 40; i++) strcat(deep, "<div>");
    for (int i = 0; i < 30; i++) strcat(sel, " *");
    CHECK(count_in(deep, sel) == 0);
    CHECK(count_in(deep, sel + 3) == 13); /* 30 `*`: the divs with 29 ancestors or more */
}

static void test_escapes(void) {
    CHECK(count("#\\63 ur\\[\\]") == 1); /* \63 = 'c' */
    CHECK(count("[id=\"cur\\5B \\5D\"]") == 1);
    CHECK(count(".\\61") == 2);
}

int main(void) {
    out = gumbo_parse(page);
    test_simple_selectors();
    test_combinators();
    test_pseudo_classes();
    test_matches();
    test_stop();
    test_errors();
    test_escapes();
    test_backtracking();
    gumbo_destroy_output(&kGumboDefaultOptions, out);
    return check_report("test_css");
}
