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
 * also bounds the CPU time gumbo may spend.
 *
 * Formatting elements (b, i, a, font, ...) need gumbo's list of active
 * formatting elements: one closed by a block's end (<p><b></p>) is reopened
 * before the next text or inline tag, so without the list a page of
 * <p><b id=N></p> nests N deep unseen. The model keeps the list and reopens
 * at the same points; where it cannot know gumbo's list (Noah's ark compares
 * attributes), the entry is marked unsure: reopened, never closed by a tag. */
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
    T_FORMAT = 1 << 16,      /* a formatting element (the active list) */
    T_MARKER = 1 << 17,      /* puts a marker in the active list */
};

#define BLOCK (T_SPECIAL | T_CLOSES_P)
#define ITEM (T_IMPLIED | T_IMPLIED_END)
#define OUT T_BREAKOUT
#define FMT (T_FORMAT | OUT)
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
    [GUMBO_TAG_CAPTION] = T_IMPLIED | T_SPECIAL | T_SCOPE | T_TABLE | T_MARKER,
    [GUMBO_TAG_COLGROUP] = T_IMPLIED | T_SPECIAL | T_TABLE,
    [GUMBO_TAG_THEAD] = T_IMPLIED | T_SPECIAL | T_TABLE | T_ROW_ANCHOR,
    [GUMBO_TAG_TBODY] = T_IMPLIED | T_SPECIAL | T_TABLE | T_ROW_ANCHOR,
    [GUMBO_TAG_TFOOT] = T_IMPLIED | T_SPECIAL | T_TABLE | T_ROW_ANCHOR,
    [GUMBO_TAG_TR] = T_IMPLIED | T_SPECIAL | T_TABLE,
    [GUMBO_TAG_TD] = T_IMPLIED | T_SPECIAL | T_SCOPE | T_TABLE | T_MARKER,
    [GUMBO_TAG_TH] = T_IMPLIED | T_SPECIAL | T_SCOPE | T_TABLE | T_MARKER,
    /* scope boundaries */
    [GUMBO_TAG_TEMPLATE] = T_SPECIAL | T_SCOPE | T_TSCOPE | T_MARKER,
    [GUMBO_TAG_APPLET] = T_SPECIAL | T_SCOPE | T_MARKER, [GUMBO_TAG_MARQUEE] = T_SPECIAL | T_SCOPE | T_MARKER,
    [GUMBO_TAG_OBJECT] = T_SPECIAL | T_SCOPE | T_MARKER, [GUMBO_TAG_BUTTON] = T_REOPENS | T_SPECIAL | T_SCOPE,
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
    [GUMBO_TAG_A] = T_FORMAT, [GUMBO_TAG_NOBR] = FMT,
    [GUMBO_TAG_B] = FMT, [GUMBO_TAG_BIG] = FMT, [GUMBO_TAG_CODE] = FMT, [GUMBO_TAG_EM] = FMT,
    [GUMBO_TAG_FONT] = FMT, [GUMBO_TAG_I] = FMT, [GUMBO_TAG_RUBY] = OUT, [GUMBO_TAG_S] = FMT,
    [GUMBO_TAG_SMALL] = FMT, [GUMBO_TAG_SPAN] = OUT, [GUMBO_TAG_STRIKE] = FMT,
    [GUMBO_TAG_STRONG] = FMT, [GUMBO_TAG_SUB] = OUT, [GUMBO_TAG_SUP] = OUT, [GUMBO_TAG_TT] = FMT,
    [GUMBO_TAG_U] = FMT, [GUMBO_TAG_VAR] = OUT,
};

/* Stack entries: a GumboTag, or UNKNOWN_BIT | a hash of the lower-case name;
 * NO_TAG is never on the stack. */
#define UNKNOWN_BIT 0x80000000u
#define NO_TAG ((uint32_t)GUMBO_TAG_LAST)
#define MARKER NO_TAG       /* a marker in the active list */
#define NONE UINT32_MAX     /* no active entry; an active entry off the stack */

/* An entry of the list of active formatting elements. */
typedef struct {
    uint32_t tag; /* a formatting tag or MARKER */
    uint32_t at;  /* its element's stack position, or NONE */
    int unsure;   /* gumbo's list may not have it (see the top) */
} active;

enum { NS_HTML, NS_SVG, NS_MATH };

typedef struct {
    const char *s;
    size_t n, pos;
    uint32_t *stack;
    unsigned char *ns; /* each entry's namespace */
    uint32_t *link;    /* each entry's place in the active list, or NONE */
    active *list;      /* the list of active formatting elements */
    size_t nlist, list_cap;
    size_t off;        /* its elements that are off the stack */
    uint32_t same[GUMBO_TAG_LAST], sure[GUMBO_TAG_LAST]; /* its elements by tag; of them, not unsure */
    int out_of_memory;
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

/* In a select (the select or its options on top) gumbo ignores most tags;
 * returns the select's stack position (index + 1) or 0. */
static size_t in_select(const prescan *ps) {
    size_t i = ps->depth;
    while (i > 0 && ps->depth - i < 2 && (ps->stack[i - 1] == GUMBO_TAG_OPTION || ps->stack[i - 1] == GUMBO_TAG_OPTGROUP))
        i--;
    return i > 0 && ps->stack[i - 1] == GUMBO_TAG_SELECT && ps->ns[i - 1] == NS_HTML ? i : 0;
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

static void set_unsure(prescan *ps, size_t k) {
    if (ps->list[k].unsure) return;
    ps->list[k].unsure = 1;
    ps->sure[ps->list[k].tag]--;
}

/* The counts of an active entry that leaves the list. */
static void forget(prescan *ps, const active *e) {
    if (e->tag == MARKER) return;
    ps->same[e->tag]--;
    if (!e->unsure) ps->sure[e->tag]--;
    if (e->at == NONE) ps->off--;
    else ps->link[e->at] = NONE;
}

/* Clears the active list back through its last marker (a cell, caption,
 * template, applet, marquee or object ends). */
static void clear_to_marker(prescan *ps) {
    while (ps->nlist && spend(ps)) {
        const active *e = &ps->list[--ps->nlist];
        if (e->tag == MARKER) return;
        forget(ps, e);
    }
}

/* Stack entry i leaves the stack: its active entry (if any) is now off it. */
static void leaving(prescan *ps, size_t i) {
    if (entry_counts(ps, i)) ps->counted--;
    uint32_t k = ps->link[i];
    if (k < ps->nlist && ps->list[k].at == i) {
        ps->list[k].at = NONE;
        ps->off++;
    }
    if (ps->ns[i] == NS_HTML && (flags_of(ps->stack[i]) & T_MARKER)) clear_to_marker(ps);
}

static void pop_to(prescan *ps, size_t depth) {
    while (ps->depth > depth) leaving(ps, --ps->depth);
}

static void pop(prescan *ps) { pop_to(ps, ps->depth - 1); }

static void push(prescan *ps, uint32_t tag, int ns) {
    if (ps->depth == ps->cap) { /* only uncounted entries can pile up this far */
        ps->counted = SIZE_MAX;
        return;
    }
    ps->ns[ps->depth] = (unsigned char)ns;
    ps->stack[ps->depth] = tag;
    ps->link[ps->depth] = NONE;
    if (entry_counts(ps, ps->depth++)) ps->counted++;
}

/* Points the active entries of stack entries from i up at their positions. */
static void relink(prescan *ps, size_t i) {
    for (; i < ps->depth && spend(ps); i++)
        if (ps->link[i] < ps->nlist) ps->list[ps->link[i]].at = (uint32_t)i;
}

/* Removes stack entry i from the middle (gumbo does, for </form> and the
 * formatting element of an adoption). */
static void remove_entry(prescan *ps, size_t i) {
    leaving(ps, i);
    size_t above = ps->depth - i - 1;
    memmove(ps->stack + i, ps->stack + i + 1, above * sizeof *ps->stack);
    memmove(ps->ns + i, ps->ns + i + 1, above);
    memmove(ps->link + i, ps->link + i + 1, above * sizeof *ps->link);
    ps->depth--;
    relink(ps, i);
}

/* Appends to the active list (a marker when tag is MARKER, else the
 * element on top of the stack). */
static void add_active(prescan *ps, uint32_t tag) {
    if (ps->nlist == ps->list_cap) { /* grown on demand: most pages need a few */
        active *more = ps->nlist < ps->cap ? realloc(ps->list, 2 * ps->list_cap * sizeof *more) : NULL;
        if (!more) {
            ps->out_of_memory = ps->nlist < ps->cap;
            ps->counted = SIZE_MAX;
            return;
        }
        ps->list = more;
        ps->list_cap *= 2;
    }
    uint32_t at = NONE;
    if (tag != MARKER) {
        at = (uint32_t)(ps->depth - 1);
        ps->link[at] = (uint32_t)ps->nlist;
        ps->same[tag]++;
        ps->sure[tag]++;
    }
    ps->list[ps->nlist++] = (active){tag, at, 0};
}

static void remove_active(prescan *ps, size_t k) {
    forget(ps, &ps->list[k]);
    memmove(ps->list + k, ps->list + k + 1, (ps->nlist - k - 1) * sizeof *ps->list);
    ps->nlist--;
    for (; k < ps->nlist && spend(ps); k++)
        if (ps->list[k].at != NONE) ps->link[ps->list[k].at] = (uint32_t)k;
}

/* A formatting element was pushed: its active entry. Noah's ark: with three
 * identical entries since the last marker, gumbo drops the earliest, but
 * "identical" counts attributes, which the model does not keep: every entry
 * of the tag becomes unsure (counting the whole list, not just since the
 * marker: more unsure, and no search; the sure ones are the latest). */
static void add_formatting(prescan *ps, uint32_t tag) {
    if (ps->same[tag] >= 3)
        for (size_t k = ps->nlist; ps->sure[tag] && k-- > 0 && spend(ps);)
            if (ps->list[k].tag == tag) set_unsure(ps, k);
    add_active(ps, tag);
}

/* gumbo's "reconstruct the active formatting elements": the entries after
 * the last marker or open one are pushed again, in order. An open unsure
 * entry may be missing from gumbo's list, so the model walks past it (more
 * reopened, not fewer) and what it then reopens below it is unsure too. */
static void reconstruct(prescan *ps) {
    if (!ps->off) return;
    size_t k = ps->nlist, unsure_below = 0;
    while (k > 0 && ps->list[k - 1].tag != MARKER && (ps->list[k - 1].at == NONE || ps->list[k - 1].unsure) &&
           spend(ps)) {
        k--;
        if (ps->list[k].at != NONE) unsure_below = k;
    }
    for (; k < ps->nlist && ps->counted <= ps->max_depth; k++) {
        if (ps->list[k].at != NONE) continue;
        if (ps->depth == ps->cap) {
            ps->counted = SIZE_MAX;
            return;
        }
        push(ps, ps->list[k].tag, NS_HTML);
        ps->list[k].at = (uint32_t)(ps->depth - 1);
        ps->link[ps->depth - 1] = (uint32_t)k;
        ps->off--;
        if (k < unsure_below) set_unsure(ps, k);
    }
}

/* The active entry (index + 1) of the last `tag` since the last marker. */
static size_t last_active(prescan *ps, uint32_t tag) {
    for (size_t k = ps->nlist; k > 0 && ps->list[k - 1].tag != MARKER && spend(ps); k--)
        if (ps->list[k - 1].tag == tag) return k;
    return 0;
}

/* The boundaries of gumbo's "has an element in scope" (the model's T_SCOPE
 * has a few more; here more would keep entries gumbo drops). */
static int gumbo_scope(const prescan *ps, size_t i) {
    if (ps->ns[i] != NS_HTML) return foreign_boundary(ps->stack[i], ps->ns[i]);
    switch (ps->stack[i]) {
    case GUMBO_TAG_APPLET: case GUMBO_TAG_CAPTION: case GUMBO_TAG_TABLE: case GUMBO_TAG_TD:
    case GUMBO_TAG_TH: case GUMBO_TAG_MARQUEE: case GUMBO_TAG_OBJECT:
        return 1;
    default:
        return 0;
    }
}

/* gumbo's adoption agency for a formatting end tag (a new <a> or <nobr> runs
 * it too), as far as the model can follow: gumbo acts on the last active
 * entry of the tag. Off the stack, gumbo forgets it. On the stack with no
 * scope boundary above it, gumbo pops it and what is above, or, with blocks
 * above it (at most 7: gumbo gives up after 8 rounds), moves it inside them,
 * which for the stack means it leaves (the model keeps what gumbo moves
 * around: more open, never less). With no entry, gumbo pops the current
 * node if it is such an element, which settles an unsure entry on top too.
 * Returns 1 when the entry is gone. */
static int adopt(prescan *ps, uint32_t tag) {
    size_t k = last_active(ps, tag);
    if (!k || ps->list[k - 1].unsure) {
        uint32_t l = ps->depth ? ps->link[ps->depth - 1] : NONE;
        if (top(ps) != tag || top_ns(ps) != NS_HTML || l != (k ? k - 1 : NONE)) return 0;
        pop(ps);
        if (k) remove_active(ps, k - 1);
        return 1;
    }
    uint32_t at = ps->list[k - 1].at;
    if (at != NONE) {
        size_t blocks = 0;
        for (size_t i = at + 1; i < ps->depth; i++) {
            if (!spend(ps) || gumbo_scope(ps, i)) return 0; /* not in scope: gumbo ignores the tag */
            if (entry_flags(ps, i) & T_SPECIAL) blocks++;
        }
        if (blocks > 7) {
            set_unsure(ps, k - 1);
            return 0;
        }
        if (blocks) remove_entry(ps, at);
        else pop_to(ps, at);
    }
    remove_active(ps, k - 1);
    return 1;
}

static int nobr_in_scope(prescan *ps) {
    for (size_t i = ps->depth; i-- > 0 && spend(ps);) {
        if (ps->stack[i] == GUMBO_TAG_NOBR && ps->ns[i] == NS_HTML) return 1;
        if (gumbo_scope(ps, i)) return 0;
    }
    return 0;
}

/* Character data between tags: gumbo reopens the active formatting elements
 * before inserting it in body (in a table, only for text that is not all
 * whitespace; never in a select, nor in SVG/MathML outside their
 * integration points). NUL bytes are dropped. */
static void saw_text(prescan *ps, size_t from, size_t to) {
    if (!ps->nlist || in_select(ps)) return;
    int ns = top_ns(ps);
    uint32_t t = top(ps);
    if (ns != NS_HTML && !foreign_boundary(t, ns)) return;
    int in_table = ns == NS_HTML && (t == GUMBO_TAG_TABLE || t == GUMBO_TAG_TBODY || t == GUMBO_TAG_TFOOT ||
                                      t == GUMBO_TAG_THEAD || t == GUMBO_TAG_TR);
    for (size_t i = from; i < to; i++) {
        char c = ps->s[i];
        if (c != '\0' && (!in_table || !is_space(c))) {
            reconstruct(ps);
            return;
        }
    }
}

/* Whether gumbo reopens the active formatting elements before inserting an
 * element for this start tag ("any other start tag" does). */
static int reopens_before(uint32_t tag) {
    if (tag & UNKNOWN_BIT) return 1;
    switch (tag) {
    case GUMBO_TAG_HTML: case GUMBO_TAG_HEAD: case GUMBO_TAG_BODY: case GUMBO_TAG_BASE:
    case GUMBO_TAG_BASEFONT: case GUMBO_TAG_BGSOUND: case GUMBO_TAG_MENUITEM: case GUMBO_TAG_LINK:
    case GUMBO_TAG_META: case GUMBO_TAG_NOFRAMES: case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE:
    case GUMBO_TAG_TITLE: case GUMBO_TAG_FRAMESET: case GUMBO_TAG_ADDRESS: case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_ASIDE: case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_CENTER: case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_DIR: case GUMBO_TAG_DIV: case GUMBO_TAG_DL: case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_FIGURE: case GUMBO_TAG_FOOTER: case GUMBO_TAG_HEADER:
    case GUMBO_TAG_HGROUP: case GUMBO_TAG_MENU: case GUMBO_TAG_NAV: case GUMBO_TAG_OL: case GUMBO_TAG_P:
    case GUMBO_TAG_SECTION: case GUMBO_TAG_SUMMARY: case GUMBO_TAG_UL: case GUMBO_TAG_H1:
    case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6:
    case GUMBO_TAG_PRE: case GUMBO_TAG_LISTING: case GUMBO_TAG_FORM: case GUMBO_TAG_LI: case GUMBO_TAG_DD:
    case GUMBO_TAG_DT: case GUMBO_TAG_PLAINTEXT: case GUMBO_TAG_TABLE: case GUMBO_TAG_PARAM:
    case GUMBO_TAG_SOURCE: case GUMBO_TAG_TRACK: case GUMBO_TAG_HR: case GUMBO_TAG_ISINDEX:
    case GUMBO_TAG_TEXTAREA: case GUMBO_TAG_IFRAME: case GUMBO_TAG_NOEMBED: case GUMBO_TAG_RP:
    case GUMBO_TAG_RT: case GUMBO_TAG_CAPTION: case GUMBO_TAG_COL: case GUMBO_TAG_COLGROUP:
    case GUMBO_TAG_FRAME: case GUMBO_TAG_TBODY: case GUMBO_TAG_TD: case GUMBO_TAG_TFOOT: case GUMBO_TAG_TH:
    case GUMBO_TAG_THEAD: case GUMBO_TAG_TR: case GUMBO_TAG_TEMPLATE:
        return 0;
    default:
        return 1;
    }
}

/* The stack position (index + 1) of the topmost HTML element `tag` or entry
 * with a flag in want, unless an entry with a flag in stop comes first; 0 if
 * none. */
static size_t find_open(prescan *ps, uint32_t tag, uint32_t want, uint32_t stop) {
    for (size_t i = ps->depth; i-- > 0;) {
        if (!spend(ps)) return 0;
        uint32_t f = entry_flags(ps, i);
        if ((ps->stack[i] == tag && ps->ns[i] == NS_HTML) || (f & want)) return i + 1;
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
        if ((t == a || t == b) && ps->ns[i] == NS_HTML) {
            pop_to(ps, i);
            return;
        }
        if ((entry_flags(ps, i) & T_SPECIAL) && t != GUMBO_TAG_ADDRESS && t != GUMBO_TAG_DIV && t != GUMBO_TAG_P)
            return;
    }
}

/* Where a table part goes: right above its row (cells), its section (rows)
 * or its table; 0 outside a table, where gumbo ignores table parts. A
 * template takes them only as its first content: after anything else gumbo
 * is in body mode there and ignores them. */
static size_t table_anchor(prescan *ps, uint32_t tag) {
    int cell = tag == GUMBO_TAG_TD || tag == GUMBO_TAG_TH;
    uint32_t want = T_TSCOPE | (cell || tag == GUMBO_TAG_TR ? T_ROW_ANCHOR : 0);
    size_t at = find_open(ps, cell ? GUMBO_TAG_TR : NO_TAG, want, 0);
    return at && ps->stack[at - 1] == GUMBO_TAG_TEMPLATE && at != ps->depth ? 0 : at;
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
    int reopen = reopens_before(tag);
    if (select) { /* gumbo keeps only these tags in a select */
        if (tag == GUMBO_TAG_SELECT || tag == GUMBO_TAG_INPUT || tag == GUMBO_TAG_KEYGEN ||
            tag == GUMBO_TAG_TEXTAREA || ((f & T_TABLE) && find_open(ps, GUMBO_TAG_TABLE, 0, T_TSCOPE))) {
            pop_to(ps, select - 1); /* they end the select first */
            if (tag == GUMBO_TAG_SELECT) return 0;
        } else if (tag != GUMBO_TAG_OPTION && tag != GUMBO_TAG_OPTGROUP && tag != GUMBO_TAG_SCRIPT &&
                   tag != GUMBO_TAG_TEMPLATE) {
            return 0;
        } else {
            reopen = 0; /* the select's own rules reopen nothing */
        }
    }
    if (f & T_IGNORE) return 0;
    if (f & T_VOID) {
        if (reopen) reconstruct(ps);
        return 0;
    }
    if (f & T_FOREIGN) {
        reconstruct(ps);
        if (!self_closing) push(ps, tag, tag == GUMBO_TAG_SVG ? NS_SVG : NS_MATH);
        return 0;
    }
    if (tag == GUMBO_TAG_FRAMESET) { /* frameset documents: not modelled */
        count_the_rest(ps);
        return 0;
    }
    if (f & T_CLOSES_P) close_open(ps, GUMBO_TAG_P, 0, T_SCOPE);
    if ((f & T_HEADING) && (top_flags(ps) & T_HEADING)) pop(ps);
    if (tag == GUMBO_TAG_A) { /* a new <a> ends the open one, whatever adoption did */
        size_t k = last_active(ps, tag);
        if (k && !adopt(ps, tag) && !ps->list[k - 1].unsure) {
            if (ps->list[k - 1].at != NONE) remove_entry(ps, ps->list[k - 1].at);
            remove_active(ps, k - 1);
        }
    } else if (f & T_REOPENS) {
        close_open(ps, tag, 0, T_SCOPE | T_SPECIAL);
    }
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
    if (tag == GUMBO_TAG_TABLE) { /* in a table's own modes (not in a cell), <table> ends it first */
        for (size_t i = ps->depth; i-- > 0 && spend(ps) && ps->ns[i] == NS_HTML;) {
            uint32_t t = ps->stack[i];
            if (t == GUMBO_TAG_TABLE) pop_to(ps, i);
            if (t == GUMBO_TAG_TABLE || t == GUMBO_TAG_TD || t == GUMBO_TAG_TH || t == GUMBO_TAG_CAPTION ||
                t == GUMBO_TAG_TEMPLATE)
                break;
        }
    }
    if (reopen) reconstruct(ps);
    if (tag == GUMBO_TAG_NOBR && nobr_in_scope(ps)) { /* a new <nobr> ends the open one */
        adopt(ps, tag);
        reconstruct(ps);
    }
    push(ps, tag, NS_HTML);
    if (f & T_FORMAT) add_formatting(ps, tag);
    else if (f & T_MARKER) add_active(ps, MARKER);
    return 1;
}

/* gumbo reads every unknown tag as GUMBO_TAG_UNKNOWN: in HTML, an unknown
 * end tag closes the nearest unknown element whatever its name. */
static void end_unknown(prescan *ps) {
    for (size_t i = ps->depth; i-- > 0 && spend(ps);) {
        if (ps->ns[i] == NS_HTML && (ps->stack[i] & UNKNOWN_BIT)) {
            pop_to(ps, i);
            return;
        }
        if (entry_flags(ps, i) & T_SPECIAL) return;
    }
}

/* exact: the tag's raw text is "</name>" (nothing after the name). */
static void end_tag(prescan *ps, uint32_t tag, int exact) {
    uint32_t f = flags_of(tag);
    size_t select = in_select(ps);
    /* Ignored in a select, except that in a table the end tag of an open
     * table part ends the select first (a model left in a select gumbo has
     * left would skip every later tag; one that leaves early would take the
     * next <select>, which gumbo reads as </select>, for a new one) */
    if (select && (f & T_TABLE) && find_open(ps, GUMBO_TAG_TABLE, 0, T_TSCOPE) && find_open(ps, tag, 0, T_TSCOPE))
        pop_to(ps, select - 1);
    else if (select && tag != GUMBO_TAG_OPTION && tag != GUMBO_TAG_OPTGROUP && tag != GUMBO_TAG_SELECT &&
             tag != GUMBO_TAG_TEMPLATE)
        return;
    /* In SVG/MathML gumbo first looks, down to the first HTML element, for a
     * foreign one of that name, compared with the tag's raw text ("</g >"
     * names none); then the HTML rules apply, to HTML elements only. */
    for (size_t i = ps->depth; i > 0 && ps->ns[i - 1] != NS_HTML && spend(ps);)
        if (ps->stack[--i] == tag && exact) {
            pop_to(ps, i);
            return;
        }
    if (tag == GUMBO_TAG_BR) reconstruct(ps); /* </br> is read as <br> */
    if (f & (T_VOID | T_IGNORE)) return;
    if (tag == GUMBO_TAG_FORM) { /* gumbo removes the form alone; what it holds stays open */
        size_t at = find_open(ps, tag, 0, T_SCOPE);
        if (at) remove_entry(ps, at - 1);
        return;
    }
    /* one not in the active list (since the last marker) is "any other end
     * tag" to gumbo, a walk down the stack that the budget must pay for */
    if ((f & T_FORMAT) && (adopt(ps, tag) || last_active(ps, tag))) return;
    if (tag & UNKNOWN_BIT) {
        end_unknown(ps);
        return;
    }
    /* a </p> with no p open makes an empty <p>: gumbo reopens for it */
    if (tag == GUMBO_TAG_P && !find_open(ps, tag, 0, T_SCOPE)) reconstruct(ps);
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
    ps.link = malloc(ps.cap * sizeof *ps.link);
    ps.list_cap = 16;
    ps.list = malloc(ps.list_cap * sizeof *ps.list);
    size_t text = 0; /* where the character data not yet seen starts */
    while (ps.stack && ps.ns && ps.link && ps.list && ps.pos < n && ps.counted <= max_depth) {
        const char *lt = memchr(s + ps.pos, '<', n - ps.pos);
        if (!lt) break;
        size_t at = ps.pos = (size_t)(lt - s);
        if (at_text(&ps, at, "<!--")) {
            saw_text(&ps, text, at);
            skip_comment(&ps);
            text = ps.pos;
            continue;
        }
        if (top_ns(&ps) != NS_HTML && at_text(&ps, at, "<![CDATA[")) {
            saw_text(&ps, text, at);
            skip_past(&ps, "]]>");
            text = ps.pos;
            continue;
        }
        int closing = at_text(&ps, at, "</");
        ps.pos += closing ? 2 : 1;
        if (ps.pos >= n) break;
        if (!is_alpha((unsigned char)s[ps.pos])) {
            if (closing || s[ps.pos] == '!' || s[ps.pos] == '?') { /* bogus comment */
                saw_text(&ps, text, at);
                skip_past(&ps, ">");
                text = ps.pos;
            }
            continue; /* else the '<' is text */
        }
        saw_text(&ps, text, at);
        size_t name = ps.pos;
        while (ps.pos < n && !is_space(s[ps.pos]) && s[ps.pos] != '/' && s[ps.pos] != '>') ps.pos++;
        size_t len = ps.pos - name;
        uint32_t tag = tag_id(s + name, len);
        int self_closing = skip_attributes(&ps);
        text = ps.pos;
        if (self_closing < 0) break; /* gumbo drops a tag the input ends in */
        if (closing) {
            end_tag(&ps, tag, ps.pos == name + len + 1);
        } else if (start_tag(&ps, tag, self_closing)) {
            if (tag == GUMBO_TAG_PLAINTEXT) break; /* the rest is text */
            if (tag == GUMBO_TAG_SCRIPT) skip_script(&ps);
            else if (flags_of(tag) & T_RAW) skip_raw_text(&ps, s + name, len);
            text = ps.pos;
        }
    }
    int deep = -1;
    if (ps.stack && ps.ns && ps.link && ps.list && !ps.out_of_memory) {
        if (ps.counted <= max_depth) saw_text(&ps, text, n);
        deep = ps.counted > max_depth;
    }
    free(ps.stack);
    free(ps.ns);
    free(ps.link);
    free(ps.list);
    return deep;
}

int html_is_void(int tag) { return tag >= 0 && tag < GUMBO_TAG_LAST && (tag_flags[tag] & T_VOID); }
