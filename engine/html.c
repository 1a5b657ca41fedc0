/* sis.html: gumbo DOM with lazy node proxies and C-side CSS selectors.
 *
 * A document userdata owns the GumboOutput and keeps the input string (gumbo
 * points into it) as its user value; every node userdata keeps its document
 * alive through its own user value, so handles never dangle. Input must be
 * UTF-8 (gumbo replaces invalid bytes with U+FFFD); transcode before parsing.
 * Hostile nesting is refused by a pre-scan before gumbo sees the input, and
 * every walk over the tree here is iterative (css_next). */
#include "sis.h"
#include "css.h"

#include <lauxlib.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DOCUMENT_MT "sis.html.document"
#define NODE_MT "sis.html.node"
#define SELECTOR_MT "sis.html.selector"

enum { DEFAULT_MAX_SIZE = 8 << 20, DEFAULT_MAX_DEPTH = 400, SELECTOR_CACHE_MAX = 256 };

typedef struct document {
    GumboOutput *out; /* NULL once closed */
    size_t size;
} document;

typedef struct node_ref {
    GumboNode *node;
    const document *doc; /* kept alive by the user value */
} node_ref;

static GumboOutput *parse_html(const char *s, size_t len) {
    GumboOptions opts = kGumboDefaultOptions;
    opts.max_errors = 0; /* gumbo need not record parse errors nobody reads */
    return gumbo_parse_with_options(&opts, s, len);
}

/* ---- the nesting pre-scan ----
 * A cheap model of gumbo's stack of open elements, run before gumbo so that
 * hostile nesting is refused in linear time. Tags are pushed and popped with
 * gumbo's rules in their simplest form, erring one way only: the model may
 * keep open what gumbo closes (over-counting is harmless), but it never pops
 * what gumbo keeps open (so nesting cannot hide from it). Void, raw-text and
 * html/head/body tags never count; elements whose end tag is optional (p, li,
 * td, tr, option, ...) are tracked, so that closing them pops what they
 * contain, but do not count toward the depth either. */

enum {
    T_VOID = 1 << 0,         /* no content, no end tag */
    T_RAW = 1 << 1,          /* content is text up to </name> */
    T_IMPLIED = 1 << 2,      /* end tag optional: tracked, not counted */
    T_IMPLIED_END = 1 << 3,  /* popped by "generate implied end tags" */
    T_SPECIAL = 1 << 4,      /* stops the search of a non-special end tag */
    T_SCOPE = 1 << 5,        /* boundary of "has an element in scope" */
    T_TSCOPE = 1 << 6,       /* boundary of table scope */
    T_TABLE = 1 << 7,        /* table part: its end tags search table scope */
    T_ROW_ANCHOR = 1 << 8,   /* thead, tbody, tfoot: a new <tr> goes inside */
    T_LIST = 1 << 9,         /* ul, ol, dl: boundary for </li> */
    T_CLOSES_P = 1 << 10,    /* the start tag closes an open <p> */
    T_FOREIGN = 1 << 11,     /* svg, math: "/>" self-closes inside */
    T_IGNORE = 1 << 12,      /* html, head, body: merged, never nested */
    T_REOPENS = 1 << 13,     /* a, nobr, button: a new one closes the open one */
    T_HEADING = 1 << 14,     /* h1..h6 close a heading that is the current node */
};

#define BLOCK (T_SPECIAL | T_CLOSES_P)
#define ITEM (T_IMPLIED | T_IMPLIED_END)
static const uint32_t tag_flags[GUMBO_TAG_LAST + 1] = {
    [GUMBO_TAG_HTML] = T_IGNORE | T_SCOPE | T_TSCOPE, [GUMBO_TAG_HEAD] = T_IGNORE,
    [GUMBO_TAG_BODY] = T_IGNORE,
    [GUMBO_TAG_AREA] = T_VOID, [GUMBO_TAG_BASE] = T_VOID, [GUMBO_TAG_BASEFONT] = T_VOID,
    [GUMBO_TAG_BGSOUND] = T_VOID, [GUMBO_TAG_BR] = T_VOID, [GUMBO_TAG_COL] = T_VOID,
    [GUMBO_TAG_EMBED] = T_VOID, [GUMBO_TAG_FRAME] = T_VOID, [GUMBO_TAG_HR] = T_VOID,
    [GUMBO_TAG_IMAGE] = T_VOID, [GUMBO_TAG_IMG] = T_VOID, [GUMBO_TAG_INPUT] = T_VOID,
    [GUMBO_TAG_KEYGEN] = T_VOID, [GUMBO_TAG_LINK] = T_VOID, [GUMBO_TAG_META] = T_VOID,
    [GUMBO_TAG_PARAM] = T_VOID, [GUMBO_TAG_SOURCE] = T_VOID, [GUMBO_TAG_TRACK] = T_VOID,
    [GUMBO_TAG_WBR] = T_VOID, [GUMBO_TAG_MENUITEM] = T_VOID, [GUMBO_TAG_ISINDEX] = T_VOID,
    [GUMBO_TAG_SCRIPT] = T_RAW, [GUMBO_TAG_STYLE] = T_RAW, [GUMBO_TAG_TEXTAREA] = T_RAW,
    [GUMBO_TAG_TITLE] = T_RAW | T_SCOPE, [GUMBO_TAG_XMP] = T_RAW, [GUMBO_TAG_IFRAME] = T_RAW,
    [GUMBO_TAG_NOEMBED] = T_RAW, [GUMBO_TAG_NOFRAMES] = T_RAW,
    [GUMBO_TAG_P] = ITEM | BLOCK, [GUMBO_TAG_LI] = ITEM | BLOCK,
    [GUMBO_TAG_DT] = ITEM | BLOCK, [GUMBO_TAG_DD] = ITEM | BLOCK,
    [GUMBO_TAG_OPTION] = ITEM, [GUMBO_TAG_OPTGROUP] = ITEM,
    [GUMBO_TAG_RB] = ITEM, [GUMBO_TAG_RP] = ITEM, [GUMBO_TAG_RT] = ITEM, [GUMBO_TAG_RTC] = ITEM,
    [GUMBO_TAG_TABLE] = T_SPECIAL | T_SCOPE | T_TSCOPE | T_TABLE,
    [GUMBO_TAG_CAPTION] = T_IMPLIED | T_SPECIAL | T_SCOPE | T_TABLE,
    [GUMBO_TAG_COLGROUP] = T_IMPLIED | T_SPECIAL | T_TABLE,
    [GUMBO_TAG_THEAD] = T_IMPLIED | T_SPECIAL | T_TABLE | T_ROW_ANCHOR,
    [GUMBO_TAG_TBODY] = T_IMPLIED | T_SPECIAL | T_TABLE | T_ROW_ANCHOR,
    [GUMBO_TAG_TFOOT] = T_IMPLIED | T_SPECIAL | T_TABLE | T_ROW_ANCHOR,
    [GUMBO_TAG_TR] = T_IMPLIED | T_SPECIAL | T_TABLE,
    [GUMBO_TAG_TD] = T_IMPLIED | T_SPECIAL | T_SCOPE | T_TABLE,
    [GUMBO_TAG_TH] = T_IMPLIED | T_SPECIAL | T_SCOPE | T_TABLE,
    [GUMBO_TAG_TEMPLATE] = T_SPECIAL | T_SCOPE | T_TSCOPE,
    [GUMBO_TAG_APPLET] = T_SPECIAL | T_SCOPE, [GUMBO_TAG_MARQUEE] = T_SPECIAL | T_SCOPE,
    [GUMBO_TAG_OBJECT] = T_SPECIAL | T_SCOPE,
    [GUMBO_TAG_SVG] = T_FOREIGN, [GUMBO_TAG_MATH] = T_FOREIGN,
    [GUMBO_TAG_FOREIGNOBJECT] = T_SCOPE, [GUMBO_TAG_DESC] = T_SCOPE, [GUMBO_TAG_MI] = T_SCOPE,
    [GUMBO_TAG_MO] = T_SCOPE, [GUMBO_TAG_MN] = T_SCOPE, [GUMBO_TAG_MS] = T_SCOPE,
    [GUMBO_TAG_MTEXT] = T_SCOPE, [GUMBO_TAG_ANNOTATION_XML] = T_SCOPE,
    [GUMBO_TAG_A] = T_REOPENS, [GUMBO_TAG_NOBR] = T_REOPENS,
    [GUMBO_TAG_BUTTON] = T_REOPENS | T_SPECIAL | T_SCOPE, [GUMBO_TAG_FORM] = BLOCK,
    [GUMBO_TAG_H1] = T_HEADING | BLOCK, [GUMBO_TAG_H2] = T_HEADING | BLOCK,
    [GUMBO_TAG_H3] = T_HEADING | BLOCK, [GUMBO_TAG_H4] = T_HEADING | BLOCK,
    [GUMBO_TAG_H5] = T_HEADING | BLOCK, [GUMBO_TAG_H6] = T_HEADING | BLOCK,
    [GUMBO_TAG_OL] = T_LIST | BLOCK, [GUMBO_TAG_UL] = T_LIST | BLOCK, [GUMBO_TAG_DL] = T_LIST | BLOCK,
    [GUMBO_TAG_ADDRESS] = BLOCK, [GUMBO_TAG_ARTICLE] = BLOCK, [GUMBO_TAG_ASIDE] = BLOCK,
    [GUMBO_TAG_BLOCKQUOTE] = BLOCK, [GUMBO_TAG_CENTER] = BLOCK, [GUMBO_TAG_DETAILS] = BLOCK,
    [GUMBO_TAG_DIR] = BLOCK, [GUMBO_TAG_DIV] = BLOCK, [GUMBO_TAG_FIELDSET] = BLOCK,
    [GUMBO_TAG_FIGCAPTION] = BLOCK, [GUMBO_TAG_FIGURE] = BLOCK, [GUMBO_TAG_FOOTER] = BLOCK,
    [GUMBO_TAG_HEADER] = BLOCK, [GUMBO_TAG_HGROUP] = BLOCK, [GUMBO_TAG_MAIN] = BLOCK,
    [GUMBO_TAG_MENU] = BLOCK, [GUMBO_TAG_NAV] = BLOCK, [GUMBO_TAG_PRE] = BLOCK,
    [GUMBO_TAG_LISTING] = BLOCK, [GUMBO_TAG_SECTION] = BLOCK, [GUMBO_TAG_SUMMARY] = BLOCK,
    [GUMBO_TAG_SELECT] = T_SPECIAL, [GUMBO_TAG_FRAMESET] = T_SPECIAL,
    [GUMBO_TAG_NOSCRIPT] = T_SPECIAL, [GUMBO_TAG_PLAINTEXT] = T_SPECIAL,
};

/* Stack entries: a GumboTag, or UNKNOWN_BIT | a hash of the lower-case name. */
#define UNKNOWN_BIT 0x80000000u

typedef struct {
    const char *s;
    size_t n, pos;
    uint32_t *stack;
    size_t depth, cap; /* entries on the stack, its capacity */
    size_t counted;    /* entries that count toward the nesting estimate */
    size_t foreign;    /* open svg/math elements */
    size_t budget;     /* stack entries left to visit in searches */
} prescan;

static uint32_t flags_of(uint32_t tag) { return tag & UNKNOWN_BIT ? 0 : tag_flags[tag]; }

static int counts(uint32_t tag) { return !(flags_of(tag) & T_IMPLIED); }

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static int to_lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static uint32_t top(const prescan *ps) { return ps->depth ? ps->stack[ps->depth - 1] : GUMBO_TAG_HTML; }

static void forget(prescan *ps, uint32_t tag) {
    if (counts(tag)) ps->counted--;
    if (flags_of(tag) & T_FOREIGN) ps->foreign--;
}

static void pop_to(prescan *ps, size_t depth) {
    while (ps->depth > depth) forget(ps, ps->stack[--ps->depth]);
}

static void push(prescan *ps, uint32_t tag) {
    if (ps->depth == ps->cap) { /* only uncounted entries can pile up this far */
        ps->counted = SIZE_MAX;
        return;
    }
    ps->stack[ps->depth++] = tag;
    if (counts(tag)) ps->counted++;
    if (flags_of(tag) & T_FOREIGN) ps->foreign++;
}

/* Searches of the stack are linear in its depth; a flood of end tags that
 * each search a deep stack (which costs gumbo as much) exhausts the budget,
 * and the input counts as too deep. */
static int spend(prescan *ps) {
    if (ps->budget) {
        ps->budget--;
        return 1;
    }
    ps->counted = SIZE_MAX;
    return 0;
}

/* The stack position (index + 1) of the topmost entry equal to tag or with a
 * flag in want, unless an entry with a flag in stop comes first; 0 if none. */
static size_t find_open(prescan *ps, uint32_t tag, uint32_t want, uint32_t stop) {
    for (size_t i = ps->depth; i-- > 0;) {
        if (!spend(ps)) return 0;
        uint32_t t = ps->stack[i];
        if (t == tag || (flags_of(t) & want)) return i + 1;
        if (flags_of(t) & stop) return 0;
    }
    return 0;
}

/* Pops through the topmost open `tag` if it comes before a `stop` entry. */
static void close_open(prescan *ps, uint32_t tag, uint32_t stop) {
    size_t at = find_open(ps, tag, 0, stop);
    if (at) pop_to(ps, at - 1);
}

/* <li>, <dt>, <dd>: close an open item unless a special element other than
 * address, div or p comes first. */
static void close_item(prescan *ps, uint32_t a, uint32_t b) {
    for (size_t i = ps->depth; i-- > 0;) {
        if (!spend(ps)) return;
        uint32_t t = ps->stack[i];
        if (t == a || t == b) {
            pop_to(ps, i);
            return;
        }
        if ((flags_of(t) & T_SPECIAL) && t != GUMBO_TAG_ADDRESS && t != GUMBO_TAG_DIV && t != GUMBO_TAG_P) return;
    }
}

/* Where a table part goes: right above its row (cells), its section (rows)
 * or its table; 0 outside a table, where gumbo ignores table parts. */
static size_t table_anchor(prescan *ps, uint32_t tag) {
    int cell = tag == GUMBO_TAG_TD || tag == GUMBO_TAG_TH;
    uint32_t want = T_TSCOPE | (cell || tag == GUMBO_TAG_TR ? T_ROW_ANCHOR : 0);
    return find_open(ps, cell ? GUMBO_TAG_TR : GUMBO_TAG_HTML, want, 0);
}

static void start_tag(prescan *ps, uint32_t tag, int self_closing) {
    uint32_t f = flags_of(tag);
    if (f & (T_VOID | T_IGNORE)) return;
    if (ps->foreign || (f & T_FOREIGN)) {
        /* In svg/math everything nests and "/>" closes. The HTML tags that
         * break out of foreign content are not modelled: that only over-counts. */
        if (!self_closing) push(ps, tag);
        return;
    }
    if (f & T_CLOSES_P) close_open(ps, GUMBO_TAG_P, T_SCOPE);
    if ((f & T_HEADING) && (flags_of(top(ps)) & T_HEADING)) pop_to(ps, ps->depth - 1);
    if (f & T_REOPENS) close_open(ps, tag, T_SCOPE | T_SPECIAL);
    switch (tag) {
    case GUMBO_TAG_LI: close_item(ps, GUMBO_TAG_LI, GUMBO_TAG_LI); break;
    case GUMBO_TAG_DT:
    case GUMBO_TAG_DD: close_item(ps, GUMBO_TAG_DT, GUMBO_TAG_DD); break;
    case GUMBO_TAG_OPTGROUP:
        if (top(ps) == GUMBO_TAG_OPTION) pop_to(ps, ps->depth - 1);
        if (top(ps) == GUMBO_TAG_OPTGROUP) pop_to(ps, ps->depth - 1);
        break;
    case GUMBO_TAG_OPTION:
        if (top(ps) == GUMBO_TAG_OPTION) pop_to(ps, ps->depth - 1);
        break;
    case GUMBO_TAG_RB:
    case GUMBO_TAG_RP:
    case GUMBO_TAG_RT:
    case GUMBO_TAG_RTC:
        if (find_open(ps, GUMBO_TAG_RUBY, 0, T_SCOPE))
            while (flags_of(top(ps)) & T_IMPLIED_END) pop_to(ps, ps->depth - 1);
        break;
    case GUMBO_TAG_FORM: /* gumbo ignores a form inside a form */
        if (find_open(ps, GUMBO_TAG_FORM, 0, 0)) return;
        break;
    default:
        break;
    }
    if ((f & T_TABLE) && tag != GUMBO_TAG_TABLE) {
        size_t at = table_anchor(ps, tag);
        if (!at) return;
        pop_to(ps, at);
    }
    push(ps, tag);
}

static void end_tag(prescan *ps, uint32_t tag) {
    uint32_t f = flags_of(tag);
    if (f & (T_VOID | T_IGNORE)) return;
    if (tag == GUMBO_TAG_FORM) { /* gumbo removes the form alone; what it holds stays open */
        size_t at = find_open(ps, tag, 0, T_SCOPE);
        if (!at) return;
        forget(ps, tag);
        memmove(ps->stack + at - 1, ps->stack + at, (ps->depth - at) * sizeof *ps->stack);
        ps->depth--;
        return;
    }
    uint32_t stop = f & T_TABLE ? T_TSCOPE : T_SCOPE;
    if (tag == GUMBO_TAG_LI) stop |= T_LIST;
    if (!(f & T_SPECIAL)) stop |= T_SPECIAL; /* "any other end tag" */
    close_open(ps, tag, stop);
}

static uint32_t tag_id(const char *name, size_t len) {
    GumboTag t = len <= 32 ? gumbo_tagn_enum(name, (unsigned)len) : GUMBO_TAG_UNKNOWN;
    if (t != GUMBO_TAG_UNKNOWN) return t;
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (uint32_t)to_lower((unsigned char)name[i])) * 16777619u;
    return UNKNOWN_BIT | (h & ~UNKNOWN_BIT);
}

static int at_text(const prescan *ps, size_t i, const char *lit) {
    size_t l = strlen(lit);
    return ps->n - i >= l && !strncasecmp(ps->s + i, lit, l);
}

/* "</name" followed by a character that ends a tag name, at i. */
static int at_end_tag(const prescan *ps, size_t i, const char *name, size_t len) {
    size_t j = i + 2 + len;
    return ps->n - i >= 2 + len && ps->s[i + 1] == '/' && !strncasecmp(ps->s + i + 2, name, len) &&
           (j == ps->n || is_space(ps->s[j]) || ps->s[j] == '/' || ps->s[j] == '>');
}

/* Skips the attributes of a tag up to and including '>'; returns 1 for "/>",
 * -1 when the input ends inside the tag (gumbo drops such a tag). */
static int skip_attributes(prescan *ps) {
    const char *s = ps->s;
    size_t n = ps->n;
    for (;;) {
        while (ps->pos < n && is_space(s[ps->pos])) ps->pos++;
        if (ps->pos >= n) return -1;
        if (s[ps->pos] == '>') {
            ps->pos++;
            return 0;
        }
        if (s[ps->pos] == '/') {
            if (++ps->pos < n && s[ps->pos] == '>') {
                ps->pos++;
                return 1;
            }
            continue;
        }
        ps->pos++; /* the first character of a name may be anything, even '=' */
        while (ps->pos < n && !is_space(s[ps->pos]) && s[ps->pos] != '/' && s[ps->pos] != '>' && s[ps->pos] != '=')
            ps->pos++;
        while (ps->pos < n && is_space(s[ps->pos])) ps->pos++;
        if (ps->pos >= n || s[ps->pos] != '=') continue;
        ps->pos++;
        while (ps->pos < n && is_space(s[ps->pos])) ps->pos++;
        if (ps->pos < n && (s[ps->pos] == '"' || s[ps->pos] == '\'')) {
            const char *q = memchr(s + ps->pos + 1, s[ps->pos], n - ps->pos - 1);
            if (!q) return -1;
            ps->pos = (size_t)(q - s) + 1;
        } else {
            while (ps->pos < n && !is_space(s[ps->pos]) && s[ps->pos] != '>') ps->pos++;
        }
    }
}

/* Moves to the end tag that closes a raw-text element (style, title, ...). */
static void skip_raw_text(prescan *ps, const char *name, size_t len) {
    for (size_t i = ps->pos; i < ps->n; i++) {
        const char *lt = memchr(ps->s + i, '<', ps->n - i);
        if (!lt) break;
        i = (size_t)(lt - ps->s);
        if (at_end_tag(ps, i, name, len)) {
            ps->pos = i;
            return;
        }
    }
    ps->pos = ps->n;
}

/* Script text has escapes: inside "<!--", "<script>" starts a nested part
 * whose "</script>" does not end the element. */
static void skip_script(prescan *ps) {
    enum { DATA, ESCAPED, DOUBLE } state = DATA;
    for (size_t i = ps->pos; i < ps->n; i++) {
        char c = ps->s[i];
        if (c == '-' && state != DATA && at_text(ps, i, "-->")) {
            state = DATA;
            i += 2;
        } else if (c != '<') {
            continue;
        } else if (at_end_tag(ps, i, "script", 6)) {
            if (state != DOUBLE) {
                ps->pos = i;
                return;
            }
            state = ESCAPED;
            i += 7;
        } else if (state == DATA && at_text(ps, i, "<!--")) {
            state = ESCAPED;
            i += 1; /* the "--" may also start "-->" ("<!-->") */
        } else if (state == ESCAPED && at_text(ps, i, "<script") && i + 7 < ps->n &&
                   (is_space(ps->s[i + 7]) || ps->s[i + 7] == '/' || ps->s[i + 7] == '>')) {
            state = DOUBLE;
            i += 6;
        }
    }
    ps->pos = ps->n;
}

/* Moves past the first occurrence of lit from ps->pos (to the end if none). */
static void skip_past(prescan *ps, const char *lit) {
    const char *end = memmem(ps->s + ps->pos, ps->n - ps->pos, lit, strlen(lit));
    ps->pos = end ? (size_t)(end - ps->s) + strlen(lit) : ps->n;
}

static void skip_comment(prescan *ps) {
    ps->pos += 4; /* "<!--" ; "<!-->" and "<!--->" end at once */
    if (at_text(ps, ps->pos, ">")) {
        ps->pos++;
        return;
    }
    if (at_text(ps, ps->pos, "->")) {
        ps->pos += 2;
        return;
    }
    size_t from = ps->pos;
    skip_past(ps, "-->");
    size_t end = ps->pos;
    ps->pos = from;
    skip_past(ps, "--!>");
    if (end < ps->pos) ps->pos = end;
}

/* 1 if the estimated nesting of s[0..n) exceeds max_depth (or memory fails). */
static int too_deep(const char *s, size_t n, size_t max_depth) {
    prescan ps = {.s = s, .n = n, .cap = 4 * max_depth + 64, .budget = 16 * n + 65536};
    ps.stack = malloc(ps.cap * sizeof *ps.stack);
    if (!ps.stack) return 1;
    while (ps.pos < n && ps.counted <= max_depth) {
        const char *lt = memchr(s + ps.pos, '<', n - ps.pos);
        if (!lt) break;
        ps.pos = (size_t)(lt - s);
        if (at_text(&ps, ps.pos, "<!--")) {
            skip_comment(&ps);
            continue;
        }
        if (ps.foreign && at_text(&ps, ps.pos, "<![CDATA[")) {
            skip_past(&ps, "]]>");
            continue;
        }
        int closing = at_text(&ps, ps.pos, "</");
        ps.pos += closing ? 2 : 1;
        if (ps.pos >= n) break;
        if (!is_alpha((unsigned char)s[ps.pos])) {
            if (closing || s[ps.pos] == '!' || s[ps.pos] == '?') skip_past(&ps, ">"); /* bogus comment */
            continue;
        }
        size_t name = ps.pos;
        while (ps.pos < n && !is_space(s[ps.pos]) && s[ps.pos] != '/' && s[ps.pos] != '>') ps.pos++;
        size_t len = ps.pos - name;
        uint32_t tag = tag_id(s + name, len);
        int self_closing = skip_attributes(&ps);
        if (self_closing < 0) break;
        if (closing) {
            end_tag(&ps, tag);
            continue;
        }
        int foreign = ps.foreign;
        start_tag(&ps, tag, self_closing);
        if (foreign) continue;
        if (tag == GUMBO_TAG_PLAINTEXT) break; /* the rest is text */
        if (tag == GUMBO_TAG_SCRIPT) skip_script(&ps);
        else if (flags_of(tag) & T_RAW) skip_raw_text(&ps, s + name, len);
    }
    int deep = ps.counted > max_depth;
    free(ps.stack);
    return deep;
}

/* ---- documents ---- */

static document *check_document(lua_State *L, int i) {
    document *d = luaL_checkudata(L, i, DOCUMENT_MT);
    if (!d->out) luaL_error(L, "attempt to use a closed document");
    return d;
}

static void close_document(lua_State *L, document *d, int i) {
    if (!d->out) return;
    gumbo_destroy_output(&kGumboDefaultOptions, d->out);
    d->out = NULL;
    lua_pushnil(L); /* the input string can go too */
    lua_setiuservalue(L, i, 1);
}

static int doc_close(lua_State *L) {
    close_document(L, luaL_checkudata(L, 1, DOCUMENT_MT), 1);
    return 0;
}

static int doc_tostring(lua_State *L) {
    document *d = luaL_checkudata(L, 1, DOCUMENT_MT);
    if (d->out) lua_pushfstring(L, "sis.html.document (%I bytes)", (lua_Integer)d->size);
    else lua_pushliteral(L, "sis.html.document (closed)");
    return 1;
}

/* ---- nodes ---- */

static node_ref *check_ref(lua_State *L, int i) {
    node_ref *r = luaL_checkudata(L, i, NODE_MT);
    if (!r->doc->out) luaL_error(L, "attempt to use a closed document");
    return r;
}

static GumboNode *check_node(lua_State *L, int i) { return check_ref(L, i)->node; }

/* Pushes a node handle; doc_idx holds the document userdata. */
static void push_node(lua_State *L, GumboNode *n, const document *doc, int doc_idx) {
    doc_idx = lua_absindex(L, doc_idx);
    node_ref *r = lua_newuserdatauv(L, sizeof *r, 1);
    r->node = n;
    r->doc = doc;
    luaL_setmetatable(L, NODE_MT);
    lua_pushvalue(L, doc_idx);
    lua_setiuservalue(L, -2, 1);
}

/* Pushes a handle for n related to the node at index 1, or nil for NULL. */
static int push_related(lua_State *L, GumboNode *n) {
    if (!n) {
        lua_pushnil(L);
        return 1;
    }
    const node_ref *self = lua_touserdata(L, 1);
    lua_getiuservalue(L, 1, 1);
    push_node(L, n, self->doc, -1);
    return 1;
}

static int is_text(const GumboNode *n) {
    return n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA;
}

static void add_lower(luaL_Buffer *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) luaL_addchar(b, (char)to_lower((unsigned char)s[i]));
}

static void add_tag_name(luaL_Buffer *b, const GumboNode *el) {
    const char *name;
    size_t len;
    css_tag_name(el, &name, &len);
    add_lower(b, name, len);
}

static int node_tag(lua_State *L) {
    const GumboNode *n = check_node(L, 1);
    if (css_is_element(n)) {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        add_tag_name(&b, n);
        luaL_pushresult(&b);
    } else {
        lua_pushstring(L, n->type == GUMBO_NODE_COMMENT ? "#comment"
                          : n->type == GUMBO_NODE_DOCUMENT ? "#document" : "#text");
    }
    return 1;
}

static const GumboVector *attributes(const GumboNode *n) {
    return css_is_element(n) ? &n->v.element.attributes : NULL;
}

static int node_attr(lua_State *L) {
    const GumboVector *attrs = attributes(check_node(L, 1));
    const char *name = luaL_checkstring(L, 2);
    const GumboAttribute *a = attrs ? gumbo_get_attribute(attrs, name) : NULL;
    if (a) lua_pushstring(L, a->value);
    else lua_pushnil(L);
    return 1;
}

static int node_attrs(lua_State *L) {
    const GumboVector *attrs = attributes(check_node(L, 1));
    lua_createtable(L, 0, attrs ? (int)attrs->length : 0);
    for (unsigned i = 0; attrs && i < attrs->length; i++) {
        const GumboAttribute *a = attrs->data[i];
        lua_pushstring(L, a->value);
        lua_setfield(L, -2, a->name);
    }
    return 1;
}

/* Calls add(text) for the text nodes of n's subtree in document order. */
static void each_text(const GumboNode *n, void (*add)(void *, const char *), void *ud) {
    if (is_text(n)) add(ud, n->v.text.text);
    for (const GumboNode *d = css_next(n, n, 0); d; d = css_next(d, n, 0))
        if (is_text(d)) add(ud, d->v.text.text);
}

static void add_raw(void *b, const char *s) { luaL_addstring(b, s); }

static int node_text(lua_State *L) {
    const GumboNode *n = check_node(L, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    each_text(n, add_raw, &b);
    luaL_pushresult(&b);
    return 1;
}

typedef struct {
    luaL_Buffer b;
    int started, space; /* text written; whitespace pending */
} collapser;

static void add_collapsed(void *ud, const char *s) {
    collapser *c = ud;
    for (; *s; s++) {
        if (is_space((unsigned char)*s)) {
            c->space = c->started;
        } else {
            if (c->space) luaL_addchar(&c->b, ' ');
            luaL_addchar(&c->b, *s);
            c->started = 1;
            c->space = 0;
        }
    }
}

static int node_collapsed_text(lua_State *L) {
    const GumboNode *n = check_node(L, 1);
    collapser c = {.started = 0};
    luaL_buffinit(L, &c.b);
    each_text(n, add_collapsed, &c);
    luaL_pushresult(&c.b);
    return 1;
}

/* Serialisation (the HTML fragment serialisation algorithm, simplified). */

static void add_escaped(luaL_Buffer *b, const char *s, int attribute) {
    for (; *s; s++) {
        switch (*s) {
        case '&': luaL_addstring(b, "&amp;"); break;
        case '"': if (attribute) luaL_addstring(b, "&quot;"); else luaL_addchar(b, '"'); break;
        case '<': if (!attribute) luaL_addstring(b, "&lt;"); else luaL_addchar(b, '<'); break;
        case '>': if (!attribute) luaL_addstring(b, "&gt;"); else luaL_addchar(b, '>'); break;
        default: luaL_addchar(b, *s);
        }
    }
}

static int raw_text_parent(const GumboNode *n) {
    if (!n->parent || !css_is_element(n->parent)) return 0;
    switch (n->parent->v.element.tag) {
    case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_XMP: case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_NOEMBED: case GUMBO_TAG_NOFRAMES: case GUMBO_TAG_PLAINTEXT:
        return 1;
    default:
        return 0;
    }
}

/* Writes n's start tag, or the whole of a leaf; returns the children to
 * descend into (NULL for leaves and void elements, which get no end tag). */
static const GumboVector *open_node(const GumboNode *n, luaL_Buffer *b) {
    switch (n->type) {
    case GUMBO_NODE_ELEMENT:
    case GUMBO_NODE_TEMPLATE: {
        luaL_addchar(b, '<');
        add_tag_name(b, n);
        const GumboVector *attrs = &n->v.element.attributes;
        for (unsigned i = 0; i < attrs->length; i++) {
            const GumboAttribute *a = attrs->data[i];
            luaL_addchar(b, ' ');
            luaL_addstring(b, a->name);
            luaL_addstring(b, "=\"");
            add_escaped(b, a->value, 1);
            luaL_addchar(b, '"');
        }
        luaL_addchar(b, '>');
        return n->v.element.tag < GUMBO_TAG_LAST && (tag_flags[n->v.element.tag] & T_VOID)
                   ? NULL : &n->v.element.children;
    }
    case GUMBO_NODE_COMMENT:
        luaL_addstring(b, "<!--");
        luaL_addstring(b, n->v.text.text);
        luaL_addstring(b, "-->");
        return NULL;
    case GUMBO_NODE_CDATA:
        luaL_addstring(b, "<![CDATA[");
        luaL_addstring(b, n->v.text.text);
        luaL_addstring(b, "]]>");
        return NULL;
    case GUMBO_NODE_DOCUMENT:
        return &n->v.document.children;
    default:
        if (raw_text_parent(n)) luaL_addstring(b, n->v.text.text);
        else add_escaped(b, n->v.text.text, 0);
        return NULL;
    }
}

static void close_node(const GumboNode *n, luaL_Buffer *b) {
    if (!css_is_element(n)) return;
    luaL_addstring(b, "</");
    add_tag_name(b, n);
    luaL_addchar(b, '>');
}

/* Iterative pre-order walk writing start tags on the way down and end tags
 * on the way up; outer includes root itself. */
static void serialize(const GumboNode *root, int outer, luaL_Buffer *b) {
    const GumboNode *n = root;
    if (!outer) {
        const GumboVector *ch = css_children(root);
        if (!ch || !ch->length) return;
        n = ch->data[0];
    }
    for (;;) {
        const GumboVector *ch = open_node(n, b);
        if (ch && ch->length) {
            n = ch->data[0];
            continue;
        }
        if (ch) close_node(n, b);
        for (;;) { /* up until a next sibling */
            if (n == root) return;
            const GumboNode *parent = n->parent;
            const GumboVector *siblings = css_children(parent);
            if (n->index_within_parent + 1 < siblings->length) {
                n = siblings->data[n->index_within_parent + 1];
                break;
            }
            n = parent;
            if (n == root && !outer) return;
            close_node(n, b);
        }
    }
}

static int push_html(lua_State *L, int outer) {
    const GumboNode *n = check_node(L, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    serialize(n, outer, &b);
    luaL_pushresult(&b);
    return 1;
}

static int node_inner_html(lua_State *L) { return push_html(L, 0); }
static int node_outer_html(lua_State *L) { return push_html(L, 1); }

static GumboNode *element_sibling(const GumboNode *n, int dir) {
    if (!n->parent) return NULL;
    const GumboVector *ch = css_children(n->parent);
    for (size_t i = n->index_within_parent; dir < 0 ? i-- > 0 : ++i < ch->length;)
        if (css_is_element(ch->data[i])) return ch->data[i];
    return NULL;
}

static int node_parent(lua_State *L) {
    GumboNode *n = check_node(L, 1);
    return push_related(L, css_is_element(n->parent) ? n->parent : NULL);
}

static int node_next(lua_State *L) { return push_related(L, element_sibling(check_node(L, 1), +1)); }
static int node_prev(lua_State *L) { return push_related(L, element_sibling(check_node(L, 1), -1)); }

static int node_children(lua_State *L) {
    const node_ref *self = check_ref(L, 1);
    const GumboVector *ch = css_children(self->node);
    lua_getiuservalue(L, 1, 1);
    lua_newtable(L);
    lua_Integer k = 0;
    for (unsigned i = 0; ch && i < ch->length; i++) {
        if (!css_is_element(ch->data[i])) continue;
        push_node(L, ch->data[i], self->doc, -2);
        lua_rawseti(L, -2, ++k);
    }
    return 1;
}

static int node_comments(lua_State *L) {
    const GumboNode *n = check_node(L, 1);
    lua_newtable(L);
    lua_Integer k = 0;
    for (const GumboNode *d = css_next(n, n, 0); d; d = css_next(d, n, 0)) {
        if (d->type != GUMBO_NODE_COMMENT) continue;
        lua_pushstring(L, d->v.text.text);
        lua_rawseti(L, -2, ++k);
    }
    return 1;
}

static int node_eq(lua_State *L) {
    const node_ref *a = luaL_testudata(L, 1, NODE_MT), *b = luaL_testudata(L, 2, NODE_MT);
    lua_pushboolean(L, a && b && a->node == b->node);
    return 1;
}

static int node_tostring(lua_State *L) {
    const node_ref *r = luaL_checkudata(L, 1, NODE_MT);
    if (!r->doc->out) {
        lua_pushliteral(L, "<closed>");
        return 1;
    }
    const GumboNode *n = r->node;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addchar(&b, '<');
    if (!css_is_element(n)) {
        luaL_addstring(&b, n->type == GUMBO_NODE_COMMENT ? "#comment" : "#text");
    } else {
        add_tag_name(&b, n);
        const GumboAttribute *id = gumbo_get_attribute(&n->v.element.attributes, "id");
        const GumboAttribute *cls = gumbo_get_attribute(&n->v.element.attributes, "class");
        if (id && *id->value) {
            luaL_addchar(&b, '#');
            luaL_addstring(&b, id->value);
        }
        for (const char *s = cls ? cls->value : ""; *s;) {
            while (*s && is_space((unsigned char)*s)) s++;
            if (!*s) break;
            luaL_addchar(&b, '.');
            while (*s && !is_space((unsigned char)*s)) luaL_addchar(&b, *s++);
        }
    }
    luaL_addchar(&b, '>');
    luaL_pushresult(&b);
    return 1;
}

/* ---- selectors ---- */

static int selector_gc(lua_State *L) {
    css_selector **box = luaL_checkudata(L, 1, SELECTOR_MT);
    css_free(*box);
    *box = NULL;
    return 0;
}

/* Compiles (or finds in the per-state cache, upvalue 1) the selector string
 * at index i; leaves its owning userdata on the stack. Cache key 0 holds the
 * number of entries; a full cache is emptied, selectors are cheap to redo. */
static const css_selector *get_selector(lua_State *L, int i) {
    size_t len;
    const char *src = luaL_checklstring(L, i, &len);
    int cache = lua_upvalueindex(1);
    lua_pushvalue(L, i);
    if (lua_rawget(L, cache) == LUA_TUSERDATA) return *(css_selector **)lua_touserdata(L, -1);
    lua_pop(L, 1);
    css_selector **box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    luaL_setmetatable(L, SELECTOR_MT);
    size_t column;
    const char *what;
    *box = css_compile(src, len, &column, &what);
    if (!*box) luaL_error(L, "bad selector '%s' at column %I: %s", src, (lua_Integer)column, what);
    lua_rawgeti(L, cache, 0);
    lua_Integer count = lua_tointeger(L, -1) + 1;
    lua_pop(L, 1);
    if (count > SELECTOR_CACHE_MAX) {
        lua_pushnil(L);
        while (lua_next(L, cache)) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_pushnil(L);
            lua_rawset(L, cache);
        }
        count = 1;
    }
    lua_pushinteger(L, count);
    lua_rawseti(L, cache, 0);
    lua_pushvalue(L, i);
    lua_pushvalue(L, -2);
    lua_rawset(L, cache);
    return *box;
}

typedef struct {
    lua_State *L;
    const document *doc;
    int doc_idx, table_idx;
    lua_Integer count;
    int first_only;
} select_state;

static int emit_node(GumboNode *n, void *ud) {
    select_state *st = ud;
    push_node(st->L, n, st->doc, st->doc_idx);
    if (st->first_only) return 1;
    lua_rawseti(st->L, st->table_idx, ++st->count);
    return 0;
}

/* select/select_one from scope; the document userdata is at doc_idx. */
static int run_select(lua_State *L, GumboNode *scope, const document *doc, int doc_idx, int first_only) {
    doc_idx = lua_absindex(L, doc_idx);
    const css_selector *sel = get_selector(L, 2);
    select_state st = {L, doc, doc_idx, 0, 0, first_only};
    if (!first_only) {
        lua_newtable(L);
        st.table_idx = lua_gettop(L);
    }
    if (css_select(sel, scope, emit_node, &st) == 0 && first_only) lua_pushnil(L);
    return 1;
}

static int node_select_any(lua_State *L, int first_only) {
    const node_ref *r = check_ref(L, 1);
    lua_getiuservalue(L, 1, 1);
    return run_select(L, r->node, r->doc, -1, first_only);
}

static int node_select(lua_State *L) { return node_select_any(L, 0); }
static int node_select_one(lua_State *L) { return node_select_any(L, 1); }

static int node_matches(lua_State *L) {
    const GumboNode *n = check_node(L, 1);
    lua_pushboolean(L, css_matches(get_selector(L, 2), n));
    return 1;
}

static int doc_select_any(lua_State *L, int first_only) {
    document *d = check_document(L, 1);
    return run_select(L, d->out->document, d, 1, first_only);
}

static int doc_select(lua_State *L) { return doc_select_any(L, 0); }
static int doc_select_one(lua_State *L) { return doc_select_any(L, 1); }

static int doc_root(lua_State *L) {
    document *d = check_document(L, 1);
    push_node(L, d->out->root, d, 1);
    return 1;
}

static int doc_title(lua_State *L) {
    document *d = check_document(L, 1);
    const GumboNode *doc = d->out->document;
    for (const GumboNode *n = css_next(doc, doc, 0); n; n = css_next(n, doc, 0)) {
        if (n->type == GUMBO_NODE_ELEMENT && n->v.element.tag == GUMBO_TAG_TITLE &&
            n->v.element.tag_namespace == GUMBO_NAMESPACE_HTML) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            each_text(n, add_raw, &b);
            luaL_pushresult(&b);
            return 1;
        }
    }
    lua_pushnil(L);
    return 1;
}

/* ---- module ---- */

static size_t opt_size(lua_State *L, const char *name, lua_Integer def, lua_Integer min, lua_Integer max) {
    lua_getfield(L, 2, name);
    lua_Integer v = luaL_optinteger(L, -1, def);
    if (v < min || v > max) luaL_error(L, "html.parse: option '%s' out of range", name);
    lua_pop(L, 1);
    return (size_t)v;
}

static void check_options(lua_State *L) {
    if (lua_isnoneornil(L, 2)) return;
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (!key || (strcmp(key, "max_size") && strcmp(key, "max_depth")))
            luaL_error(L, "html.parse: unknown option '%s'", key ? key : luaL_typename(L, -2));
        lua_pop(L, 1);
    }
}

static int l_parse(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    check_options(L);
    int has_opts = lua_istable(L, 2);
    size_t max_size = has_opts ? opt_size(L, "max_size", DEFAULT_MAX_SIZE, 0, (lua_Integer)1 << 32) : DEFAULT_MAX_SIZE;
    size_t max_depth = has_opts ? opt_size(L, "max_depth", DEFAULT_MAX_DEPTH, 1, 1000000) : DEFAULT_MAX_DEPTH;
    if (len > max_size) {
        luaL_pushfail(L);
        lua_pushfstring(L, "html: input too large (%I > %I bytes)", (lua_Integer)len, (lua_Integer)max_size);
        return 2;
    }
    if (too_deep(s, len, max_depth)) {
        luaL_pushfail(L);
        lua_pushfstring(L, "html: nesting deeper than %I", (lua_Integer)max_depth);
        return 2;
    }
    document *d = lua_newuserdatauv(L, sizeof *d, 1);
    d->out = NULL;
    d->size = len;
    luaL_setmetatable(L, DOCUMENT_MT);
    lua_pushvalue(L, 1); /* gumbo's tree points into the input */
    lua_setiuservalue(L, -2, 1);
    d->out = parse_html(s, len);
    if (!d->out) {
        luaL_pushfail(L);
        lua_pushliteral(L, "html: parse failed");
        return 2;
    }
    /* The tree (about 8 times the input) lives outside the Lua heap: tell
     * the collector, or a loop over pages would outrun it. */
    lua_gc(L, LUA_GCSTEP, (int)(len / 128 + 1));
    return 1;
}

/* Parses and frees at once, with no document: the bench's raw-gumbo baseline. */
static int l_parse_only(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    GumboOutput *out = parse_html(s, len);
    if (out) gumbo_destroy_output(&kGumboDefaultOptions, out);
    lua_pushboolean(L, out != NULL);
    return 1;
}

static const luaL_Reg document_methods[] = {
    {"root", doc_root}, {"select", doc_select}, {"select_one", doc_select_one},
    {"title", doc_title}, {"close", doc_close}, {NULL, NULL},
};

static const luaL_Reg document_meta[] = {
    {"__gc", doc_close}, {"__close", doc_close}, {"__tostring", doc_tostring}, {NULL, NULL},
};

static const luaL_Reg node_methods[] = {
    {"tag", node_tag}, {"attr", node_attr}, {"attrs", node_attrs}, {"text", node_text},
    {"collapsed_text", node_collapsed_text}, {"inner_html", node_inner_html},
    {"outer_html", node_outer_html}, {"parent", node_parent}, {"children", node_children},
    {"next", node_next}, {"prev", node_prev}, {"comments", node_comments},
    {"select", node_select}, {"select_one", node_select_one}, {"matches", node_matches},
    {NULL, NULL},
};

static const luaL_Reg node_meta[] = {
    {"__eq", node_eq}, {"__tostring", node_tostring}, {NULL, NULL},
};

static const luaL_Reg module_functions[] = {
    {"parse", l_parse}, {"_parse_only", l_parse_only}, {NULL, NULL},
};

/* A metatable whose __index is a method table sharing the selector cache
 * (upvalue) with the other select functions. */
static void new_class(lua_State *L, const char *name, const luaL_Reg *meta, const luaL_Reg *methods, int cache) {
    luaL_newmetatable(L, name);
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    lua_pushvalue(L, cache);
    luaL_setfuncs(L, methods, 1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

int luaopen_sis_html(lua_State *L) {
    lua_newtable(L); /* the selector cache */
    int cache = lua_gettop(L);
    new_class(L, DOCUMENT_MT, document_meta, document_methods, cache);
    new_class(L, NODE_MT, node_meta, node_methods, cache);
    luaL_newmetatable(L, SELECTOR_MT);
    lua_pushcfunction(L, selector_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newlib(L, module_functions);
    return 1;
}
