/* The nesting pre-scan: a cheap model of gumbo's stack of open elements, run
 * before gumbo so that hostile nesting is refused in linear time.
 *
 * Tags are pushed and popped with gumbo's tree-building rules in their
 * simplest form, erring one way only: the model may keep open what gumbo
 * closes (over-counting is harmless), but it must not pop what gumbo keeps
 * open, nor skip as text what gumbo reads as tags, or nesting could hide.
 * Void, raw-text and html/head/body tags never count; elements whose end tag
 * is optional (p, li, td, tr, option, ...) are tracked, so that closing them
 * pops what they contain, but do not count toward the depth. Parser modes the
 * model does not follow (framesets, HTML inside SVG/MathML) switch it to
 * counting every later start tag. The model is a first line only: html.c
 * also bounds the CPU time gumbo may spend. */
#include "html_prescan.h"

#include <gumbo.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    T_FOREIGN = 1 << 11,     /* svg, math: start SVG/MathML content */
    T_IGNORE = 1 << 12,      /* html, head, body: merged, never nested */
    T_REOPENS = 1 << 13,     /* a, nobr, button: a new one closes the open one */
    T_HEADING = 1 << 14,     /* h1..h6 */
    T_BREAKOUT = 1 << 15,    /* an HTML tag that breaks out of SVG/MathML */
};

#define BLOCK (T_SPECIAL | T_CLOSES_P)
#define ITEM (T_IMPLIED | T_IMPLIED_END)
#define OUT T_BREAKOUT
static const uint32_t tag_flags[GUMBO_TAG_LAST + 1] = {
    [GUMBO_TAG_HTML] = T_IGNORE | T_SCOPE | T_TSCOPE,
    [GUMBO_TAG_HEAD] = T_IGNORE | OUT,
    [GUMBO_TAG_BODY] = T_IGNORE | OUT,
    /* void */
    [GUMBO_TAG_AREA] = T_VOID, [GUMBO_TAG_BASE] = T_VOID, [GUMBO_TAG_BASEFONT] = T_VOID,
    [GUMBO_TAG_BGSOUND] = T_VOID, [GUMBO_TAG_BR] = T_VOID | OUT, [GUMBO_TAG_COL] = T_VOID,
    [GUMBO_TAG_EMBED] = T_VOID | OUT, [GUMBO_TAG_FRAME] = T_VOID, [GUMBO_TAG_HR] = T_VOID | OUT,
    [GUMBO_TAG_IMAGE] = T_VOID, [GUMBO_TAG_IMG] = T_VOID | OUT, [GUMBO_TAG_INPUT] = T_VOID,
    [GUMBO_TAG_KEYGEN] = T_VOID, [GUMBO_TAG_LINK] = T_VOID, [GUMBO_TAG_META] = T_VOID | OUT,
    [GUMBO_TAG_PARAM] = T_VOID, [GUMBO_TAG_SOURCE] = T_VOID, [GUMBO_TAG_TRACK] = T_VOID,
    [GUMBO_TAG_WBR] = T_VOID, [GUMBO_TAG_MENUITEM] = T_VOID, [GUMBO_TAG_ISINDEX] = T_VOID,
    /* raw text */
    [GUMBO_TAG_SCRIPT] = T_RAW, [GUMBO_TAG_STYLE] = T_RAW, [GUMBO_TAG_TEXTAREA] = T_RAW,
    [GUMBO_TAG_TITLE] = T_RAW | T_SCOPE, [GUMBO_TAG_XMP] = T_RAW, [GUMBO_TAG_IFRAME] = T_RAW,
    [GUMBO_TAG_NOEMBED] = T_RAW, [GUMBO_TAG_NOFRAMES] = T_RAW,
    /* optional end tags */
    [GUMBO_TAG_P] = ITEM | BLOCK | OUT, [GUMBO_TAG_LI] = ITEM | BLOCK | OUT,
    [GUMBO_TAG_DT] = ITEM | BLOCK | OUT, [GUMBO_TAG_DD] = ITEM | BLOCK | OUT,
    [GUMBO_TAG_OPTION] = ITEM, [GUMBO_TAG_OPTGROUP] = ITEM,
    [GUMBO_TAG_RB] = ITEM, [GUMBO_TAG_RP] = ITEM, [GUMBO_TAG_RT] = ITEM, [GUMBO_TAG_RTC] = ITEM,
    /* tables */
    [GUMBO_TAG_TABLE] = T_SPECIAL | T_SCOPE | T_TSCOPE | T_TABLE | OUT,
    [GUMBO_TAG_CAPTION] = T_IMPLIED | T_SPECIAL | T_SCOPE | T_TABLE,
    [GUMBO_TAG_COLGROUP] = T_IMPLIED | T_SPECIAL | T_TABLE,
    [GUMBO_TAG_THEAD] = T_IMPLIED | T_SPECIAL | T_TABLE | T_ROW_ANCHOR,
    [GUMBO_TAG_TBODY] = T_IMPLIED | T_SPECIAL | T_TABLE | T_ROW_ANCHOR,
    [GUMBO_TAG_TFOOT] = T_IMPLIED | T_SPECIAL | T_TABLE | T_ROW_ANCHOR,
    [GUMBO_TAG_TR] = T_IMPLIED | T_SPECIAL | T_TABLE,
    [GUMBO_TAG_TD] = T_IMPLIED | T_SPECIAL | T_SCOPE | T_TABLE,
    [GUMBO_TAG_TH] = T_IMPLIED | T_SPECIAL | T_SCOPE | T_TABLE,
    /* scope boundaries */
    [GUMBO_TAG_TEMPLATE] = T_SPECIAL | T_SCOPE | T_TSCOPE,
    [GUMBO_TAG_APPLET] = T_SPECIAL | T_SCOPE, [GUMBO_TAG_MARQUEE] = T_SPECIAL | T_SCOPE,
    [GUMBO_TAG_OBJECT] = T_SPECIAL | T_SCOPE, [GUMBO_TAG_BUTTON] = T_REOPENS | T_SPECIAL | T_SCOPE,
    /* SVG and MathML */
    [GUMBO_TAG_SVG] = T_FOREIGN, [GUMBO_TAG_MATH] = T_FOREIGN,
    [GUMBO_TAG_FOREIGNOBJECT] = T_SCOPE, [GUMBO_TAG_DESC] = T_SCOPE,
    [GUMBO_TAG_MI] = T_SCOPE, [GUMBO_TAG_MO] = T_SCOPE, [GUMBO_TAG_MN] = T_SCOPE,
    [GUMBO_TAG_MS] = T_SCOPE, [GUMBO_TAG_MTEXT] = T_SCOPE,
    [GUMBO_TAG_ANNOTATION_XML] = T_SCOPE,
    /* blocks (special, close an open <p>) */
    [GUMBO_TAG_H1] = T_HEADING | BLOCK | OUT, [GUMBO_TAG_H2] = T_HEADING | BLOCK | OUT,
    [GUMBO_TAG_H3] = T_HEADING | BLOCK | OUT, [GUMBO_TAG_H4] = T_HEADING | BLOCK | OUT,
    [GUMBO_TAG_H5] = T_HEADING | BLOCK | OUT, [GUMBO_TAG_H6] = T_HEADING | BLOCK | OUT,
    [GUMBO_TAG_OL] = T_LIST | BLOCK | OUT, [GUMBO_TAG_UL] = T_LIST | BLOCK | OUT,
    [GUMBO_TAG_DL] = T_LIST | BLOCK | OUT, [GUMBO_TAG_FORM] = BLOCK,
    [GUMBO_TAG_ADDRESS] = BLOCK, [GUMBO_TAG_ARTICLE] = BLOCK, [GUMBO_TAG_ASIDE] = BLOCK,
    [GUMBO_TAG_BLOCKQUOTE] = BLOCK | OUT, [GUMBO_TAG_CENTER] = BLOCK | OUT,
    [GUMBO_TAG_DETAILS] = BLOCK, [GUMBO_TAG_DIR] = BLOCK, [GUMBO_TAG_DIV] = BLOCK | OUT,
    [GUMBO_TAG_FIELDSET] = BLOCK, [GUMBO_TAG_FIGCAPTION] = BLOCK, [GUMBO_TAG_FIGURE] = BLOCK,
    [GUMBO_TAG_FOOTER] = BLOCK, [GUMBO_TAG_HEADER] = BLOCK, [GUMBO_TAG_HGROUP] = BLOCK,
    [GUMBO_TAG_MAIN] = BLOCK, [GUMBO_TAG_MENU] = BLOCK | OUT, [GUMBO_TAG_NAV] = BLOCK,
    [GUMBO_TAG_PRE] = BLOCK | OUT, [GUMBO_TAG_LISTING] = BLOCK | OUT,
    [GUMBO_TAG_SECTION] = BLOCK, [GUMBO_TAG_SUMMARY] = BLOCK,
    [GUMBO_TAG_SELECT] = T_SPECIAL, [GUMBO_TAG_FRAMESET] = T_SPECIAL,
    [GUMBO_TAG_NOSCRIPT] = T_SPECIAL, [GUMBO_TAG_PLAINTEXT] = T_SPECIAL,
    /* inline */
    [GUMBO_TAG_A] = T_REOPENS, [GUMBO_TAG_NOBR] = T_REOPENS | OUT,
    [GUMBO_TAG_B] = OUT, [GUMBO_TAG_BIG] = OUT, [GUMBO_TAG_CODE] = OUT, [GUMBO_TAG_EM] = OUT,
    [GUMBO_TAG_FONT] = OUT, [GUMBO_TAG_I] = OUT, [GUMBO_TAG_RUBY] = OUT, [GUMBO_TAG_S] = OUT,
    [GUMBO_TAG_SMALL] = OUT, [GUMBO_TAG_SPAN] = OUT, [GUMBO_TAG_STRIKE] = OUT,
    [GUMBO_TAG_STRONG] = OUT, [GUMBO_TAG_SUB] = OUT, [GUMBO_TAG_SUP] = OUT, [GUMBO_TAG_TT] = OUT,
    [GUMBO_TAG_U] = OUT, [GUMBO_TAG_VAR] = OUT,
};

/* Stack entries: a GumboTag, or UNKNOWN_BIT | a hash of the lower-case name;
 * NO_TAG is never on the stack. */
#define UNKNOWN_BIT 0x80000000u
#define NO_TAG ((uint32_t)GUMBO_TAG_LAST)

enum { NS_HTML, NS_SVG, NS_MATH };

typedef struct {
    const char *s;
    size_t n, pos;
    uint32_t *stack;
    unsigned char *ns; /* each entry's namespace */
    size_t depth, cap; /* entries on the stack, its capacity */
    size_t counted;    /* entries that count toward the nesting estimate */
    size_t max_depth;
    size_t budget; /* stack entries left to visit in searches */
} prescan;

static uint32_t flags_of(uint32_t tag) { return tag & UNKNOWN_BIT ? 0 : tag_flags[tag]; }

/* The SVG and MathML elements that bound scopes (and inside which, except in
 * annotation-xml, start tags follow HTML rules). */
static int foreign_boundary(uint32_t tag, int ns) {
    if (ns == NS_SVG) return tag == GUMBO_TAG_FOREIGNOBJECT || tag == GUMBO_TAG_DESC || tag == GUMBO_TAG_TITLE;
    return tag == GUMBO_TAG_MI || tag == GUMBO_TAG_MO || tag == GUMBO_TAG_MN || tag == GUMBO_TAG_MS ||
           tag == GUMBO_TAG_MTEXT || tag == GUMBO_TAG_ANNOTATION_XML;
}

/* An entry's flags: by tag for HTML elements; SVG/MathML elements are only
 * scope boundaries (the few above) or nothing. */
static uint32_t entry_flags(const prescan *ps, size_t i) {
    if (ps->ns[i] == NS_HTML) return flags_of(ps->stack[i]);
    return foreign_boundary(ps->stack[i], ps->ns[i]) ? T_SCOPE | T_SPECIAL : 0;
}

static int entry_counts(const prescan *ps, size_t i) { return !(entry_flags(ps, i) & T_IMPLIED); }

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static uint32_t top(const prescan *ps) { return ps->depth ? ps->stack[ps->depth - 1] : NO_TAG; }

static int top_ns(const prescan *ps) { return ps->depth ? ps->ns[ps->depth - 1] : NS_HTML; }

static uint32_t top_flags(const prescan *ps) { return ps->depth ? entry_flags(ps, ps->depth - 1) : 0; }

static void pop_to(prescan *ps, size_t depth) {
    while (ps->depth > depth)
        if (entry_counts(ps, --ps->depth)) ps->counted--;
}

static void pop(prescan *ps) { pop_to(ps, ps->depth - 1); }

static void push(prescan *ps, uint32_t tag, int ns) {
    if (ps->depth == ps->cap) { /* only uncounted entries can pile up this far */
        ps->counted = SIZE_MAX;
        return;
    }
    ps->ns[ps->depth] = (unsigned char)ns;
    ps->stack[ps->depth] = tag;
    if (entry_counts(ps, ps->depth++)) ps->counted++;
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
        uint32_t f = entry_flags(ps, i);
        if (ps->stack[i] == tag || (f & want)) return i + 1;
        if (f & stop) return 0;
    }
    return 0;
}

/* Pops through the topmost open `tag` (or entry with a `want` flag) if it
 * comes before a `stop` entry. */
static void close_open(prescan *ps, uint32_t tag, uint32_t want, uint32_t stop) {
    size_t at = find_open(ps, tag, want, stop);
    if (at) pop_to(ps, at - 1);
}

/* <li>, <dt>, <dd>: close an open item unless a special element other than
 * address, div or p comes first. */
static void close_item(prescan *ps, uint32_t a, uint32_t b) {
    for (size_t i = ps->depth; i-- > 0 && spend(ps);) {
        uint32_t t = ps->stack[i];
        if (t == a || t == b) {
            pop_to(ps, i);
            return;
        }
        if ((entry_flags(ps, i) & T_SPECIAL) && t != GUMBO_TAG_ADDRESS && t != GUMBO_TAG_DIV && t != GUMBO_TAG_P)
            return;
    }
}

/* Where a table part goes: right above its row (cells), its section (rows)
 * or its table; 0 outside a table, where gumbo ignores table parts. */
static size_t table_anchor(prescan *ps, uint32_t tag) {
    int cell = tag == GUMBO_TAG_TD || tag == GUMBO_TAG_TH;
    uint32_t want = T_TSCOPE | (cell || tag == GUMBO_TAG_TR ? T_ROW_ANCHOR : 0);
    return find_open(ps, cell ? GUMBO_TAG_TR : NO_TAG, want, 0);
}

/* gumbo follows SVG/MathML rules for a start tag while the current node is a
 * foreign element, except in integration points (annotation-xml never gets
 * that far: it ends the model); MathML's mi, mo, ... keep mglyph and
 * malignmark as MathML. */
static int foreign_rules(const prescan *ps, uint32_t tag) {
    int ns = top_ns(ps);
    if (ns == NS_HTML) return 0;
    if (!foreign_boundary(top(ps), ns)) return 1;
    return ns == NS_MATH && (tag == GUMBO_TAG_MGLYPH || tag == GUMBO_TAG_MALIGNMARK);
}

/* In a select (the select or its options on top) gumbo ignores most tags;
 * returns the select's stack position (index + 1) or 0. */
static size_t in_select(const prescan *ps) {
    size_t i = ps->depth;
    while (i > 0 && ps->depth - i < 2 && (ps->stack[i - 1] == GUMBO_TAG_OPTION || ps->stack[i - 1] == GUMBO_TAG_OPTGROUP))
        i--;
    return i > 0 && ps->stack[i - 1] == GUMBO_TAG_SELECT && ps->ns[i - 1] == NS_HTML ? i : 0;
}

/* From here on every "<letter" counts as an element that stays open. */
static void count_the_rest(prescan *ps) {
    for (size_t i = ps->pos; i + 1 < ps->n && ps->counted <= ps->max_depth; i++) {
        const char *lt = memchr(ps->s + i, '<', ps->n - i - 1);
        if (!lt) break;
        i = (size_t)(lt - ps->s);
        if (is_alpha((unsigned char)ps->s[i + 1])) ps->counted++;
    }
    ps->pos = ps->n;
}

/* Returns 1 when the element was inserted as HTML (its text may be raw). */
static int start_tag(prescan *ps, uint32_t tag, int self_closing) {
    uint32_t f = flags_of(tag);
    if (foreign_rules(ps, tag)) {
        /* Inside SVG/MathML everything nests and "/>" closes; an HTML tag
         * breaks out, and annotation-xml may hold HTML: not modelled. */
        if ((f & T_BREAKOUT) || tag == GUMBO_TAG_ANNOTATION_XML) {
            count_the_rest(ps);
            return 0;
        }
        if (!self_closing) push(ps, tag, top_ns(ps)); /* even <svg> in MathML stays MathML */
        return 0;
    }
    size_t select = in_select(ps);
    if (select) { /* gumbo keeps only these tags in a select */
        if (tag == GUMBO_TAG_SELECT || tag == GUMBO_TAG_INPUT || tag == GUMBO_TAG_KEYGEN ||
            tag == GUMBO_TAG_TEXTAREA || (f & T_TABLE)) {
            pop_to(ps, select - 1); /* they end the select first (table parts do in a table; see end_tag) */
            if (tag == GUMBO_TAG_SELECT) return 0;
        } else if (tag != GUMBO_TAG_OPTION && tag != GUMBO_TAG_OPTGROUP && tag != GUMBO_TAG_SCRIPT &&
                   tag != GUMBO_TAG_TEMPLATE) {
            return 0;
        }
    }
    if (f & (T_VOID | T_IGNORE)) return 0;
    if (f & T_FOREIGN) {
        if (!self_closing) push(ps, tag, tag == GUMBO_TAG_SVG ? NS_SVG : NS_MATH);
        return 0;
    }
    if (tag == GUMBO_TAG_FRAMESET) { /* frameset documents: not modelled */
        count_the_rest(ps);
        return 0;
    }
    if (f & T_CLOSES_P) close_open(ps, GUMBO_TAG_P, 0, T_SCOPE);
    if ((f & T_HEADING) && (top_flags(ps) & T_HEADING)) pop(ps);
    if (f & T_REOPENS) close_open(ps, tag, 0, T_SCOPE | T_SPECIAL);
    switch (tag) {
    case GUMBO_TAG_LI: close_item(ps, GUMBO_TAG_LI, GUMBO_TAG_LI); break;
    case GUMBO_TAG_DT:
    case GUMBO_TAG_DD: close_item(ps, GUMBO_TAG_DT, GUMBO_TAG_DD); break;
    case GUMBO_TAG_OPTGROUP:
        if (top(ps) == GUMBO_TAG_OPTION) pop(ps);
        if (top(ps) == GUMBO_TAG_OPTGROUP) pop(ps);
        break;
    case GUMBO_TAG_OPTION:
        if (top(ps) == GUMBO_TAG_OPTION) pop(ps);
        break;
    case GUMBO_TAG_RB:
    case GUMBO_TAG_RP:
    case GUMBO_TAG_RT:
    case GUMBO_TAG_RTC:
        if (find_open(ps, GUMBO_TAG_RUBY, 0, T_SCOPE))
            while (top_flags(ps) & T_IMPLIED_END) pop(ps);
        break;
    case GUMBO_TAG_FORM: /* gumbo ignores a form inside a form */
        if (find_open(ps, GUMBO_TAG_FORM, 0, 0)) return 0;
        break;
    default:
        break;
    }
    if ((f & T_TABLE) && tag != GUMBO_TAG_TABLE) {
        size_t at = table_anchor(ps, tag);
        if (!at) return 0;
        pop_to(ps, at);
    }
    push(ps, tag, NS_HTML);
    return 1;
}

static void end_tag(prescan *ps, uint32_t tag) {
    uint32_t f = flags_of(tag);
    if (f & (T_VOID | T_IGNORE)) return;
    size_t select = in_select(ps);
    /* Ignored in a select, except a table part's, which ends a select in a
     * table first (a model stuck in a select gumbo has left would skip
     * every later tag, so when in doubt it leaves) */
    if (select && (f & T_TABLE)) pop_to(ps, select - 1);
    else if (select && tag != GUMBO_TAG_OPTION && tag != GUMBO_TAG_OPTGROUP && tag != GUMBO_TAG_SELECT &&
             tag != GUMBO_TAG_TEMPLATE)
        return;
    if (tag == GUMBO_TAG_FORM) { /* gumbo removes the form alone; what it holds stays open */
        size_t at = find_open(ps, tag, 0, T_SCOPE);
        if (!at) return;
        if (entry_counts(ps, at - 1)) ps->counted--;
        memmove(ps->stack + at - 1, ps->stack + at, (ps->depth - at) * sizeof *ps->stack);
        memmove(ps->ns + at - 1, ps->ns + at, ps->depth - at);
        ps->depth--;
        return;
    }
    uint32_t stop = f & T_TABLE ? T_TSCOPE : T_SCOPE;
    if (tag == GUMBO_TAG_LI) stop |= T_LIST;
    if (!(f & T_SPECIAL)) stop |= T_SPECIAL; /* "any other end tag" */
    /* </hN> closes whichever heading is open */
    close_open(ps, tag, f & T_HEADING ? T_HEADING : 0, stop);
}

static uint32_t tag_id(const char *name, size_t len) {
    GumboTag t = len <= 32 ? gumbo_tagn_enum(name, (unsigned)len) : GUMBO_TAG_UNKNOWN;
    if (t != GUMBO_TAG_UNKNOWN) return t;
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        h = (h ^ (uint32_t)(c >= 'A' && c <= 'Z' ? c + 32 : c)) * 16777619u;
    }
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

/* Moves past a comment: it ends at "-->" or "--!>" ("<!-->" and "<!--->" too). */
static void skip_comment(prescan *ps) {
    size_t i = ps->pos + 2; /* the "--" of "<!--" may start the end */
    for (;;) {
        const char *dashes = memmem(ps->s + i, ps->n - i, "--", 2);
        if (!dashes) {
            ps->pos = ps->n;
            return;
        }
        i = (size_t)(dashes - ps->s);
        if (at_text(ps, i, "-->")) {
            ps->pos = i + 3;
            return;
        }
        if (at_text(ps, i, "--!>") && i >= ps->pos + 4) {
            ps->pos = i + 4;
            return;
        }
        i++;
    }
}

int html_too_deep(const char *s, size_t n, size_t max_depth) {
    prescan ps = {.s = s, .n = n, .cap = 4 * max_depth + 64, .max_depth = max_depth, .budget = 16 * n + 65536};
    ps.stack = malloc(ps.cap * sizeof *ps.stack);
    ps.ns = malloc(ps.cap);
    if (!ps.stack || !ps.ns) {
        free(ps.stack);
        free(ps.ns);
        return -1;
    }
    while (ps.pos < n && ps.counted <= max_depth) {
        const char *lt = memchr(s + ps.pos, '<', n - ps.pos);
        if (!lt) break;
        ps.pos = (size_t)(lt - s);
        if (at_text(&ps, ps.pos, "<!--")) {
            skip_comment(&ps);
            continue;
        }
        if (top_ns(&ps) != NS_HTML && at_text(&ps, ps.pos, "<![CDATA[")) {
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
        } else if (start_tag(&ps, tag, self_closing)) {
            if (tag == GUMBO_TAG_PLAINTEXT) break; /* the rest is text */
            if (tag == GUMBO_TAG_SCRIPT) skip_script(&ps);
            else if (flags_of(tag) & T_RAW) skip_raw_text(&ps, s + name, len);
        }
    }
    int deep = ps.counted > max_depth;
    free(ps.stack);
    free(ps.ns);
    return deep;
}

int html_is_void(int tag) { return tag >= 0 && tag < GUMBO_TAG_LAST && (tag_flags[tag] & T_VOID); }
