/* CSS selector compiler and matcher over gumbo trees (see css.h).
 * A selector compiles into linked structures in one arena: a list of complex
 * selectors, each kept as its rightmost compound with links to the left, so
 * matching runs right to left from the candidate element. */
#include "css.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { MAX_NESTING = 16, MAX_COMPOUNDS = 64 };

typedef enum { C_ID, C_CLASS, C_ATTR, C_FIRST, C_LAST, C_NTH, C_NOT, C_CONTAINS } cond_kind;
typedef enum { A_EXISTS, A_EQ, A_PREFIX, A_SUFFIX, A_SUBSTR, A_WORD } attr_op;

typedef struct complex complex;

typedef struct cond {
    struct cond *next;
    cond_kind kind;
    attr_op op;
    const char *name;            /* attribute name, NUL-terminated */
    const char *value;           /* id, class, attribute value or :contains text */
    size_t len;                  /* of value */
    const size_t *kmp;           /* :contains failure table */
    long a, b;                   /* :nth-child(an+b) */
    const complex *list;         /* :not(...) */
} cond;

typedef struct compound {
    struct compound *left;       /* NULL for the leftmost compound */
    char comb;                   /* between left and this one: ' ' '>' '+' '~' */
    int any_tag;                 /* no type selector, or `*` */
    GumboTag tag;
    const char *name;            /* lower-case type name when tag is unknown */
    size_t name_len;
    cond *conds;
} compound;

struct complex {
    complex *next;
    const compound *right;
};

typedef struct block {
    struct block *next;
    size_t used, cap;
    max_align_t data[];
} block;

struct css_selector {
    const complex *list;
    block *blocks;
};

/* ---- compiling ---- */

typedef struct {
    const char *s;
    size_t n, pos;
    css_selector *sel;
    jmp_buf fail;
    size_t err_column;
    const char *err_what;
    int nesting;
} parser;

static void fail_at(parser *p, size_t pos, const char *what) {
    p->err_column = pos + 1;
    p->err_what = what;
    longjmp(p->fail, 1);
}

static void *alloc(parser *p, size_t size) {
    size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    block *b = p->sel->blocks;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > 2048 ? size : 2048;
        b = malloc(sizeof *b + cap);
        if (!b) fail_at(p, p->pos, "out of memory");
        b->used = 0;
        b->cap = cap;
        b->next = p->sel->blocks;
        p->sel->blocks = b;
    }
    void *r = (char *)b->data + b->used;
    b->used += size;
    memset(r, 0, size);
    return r;
}

static int peek(const parser *p) { return p->pos < p->n ? (unsigned char)p->s[p->pos] : -1; }

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

static int skip_space(parser *p) {
    size_t start = p->pos;
    while (is_space(peek(p))) p->pos++;
    return p->pos > start;
}

static int is_ident_char(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c >= 0x80 || c == '\\';
}

static int hex_value(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t put_utf8(char *out, unsigned long cp) {
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes one backslash escape at p->pos (the backslash) into out. */
static size_t escape(parser *p, char *out) {
    size_t at = p->pos++;
    if (p->pos >= p->n) fail_at(p, at, "expected a character after '\\'");
    int h = hex_value(peek(p));
    if (h < 0) {
        out[0] = p->s[p->pos++];
        return 1;
    }
    unsigned long cp = 0;
    for (int i = 0; i < 6 && (h = hex_value(peek(p))) >= 0; i++, p->pos++) cp = cp * 16 + (unsigned long)h;
    if (is_space(peek(p))) p->pos++;
    return put_utf8(out, cp);
}

/* Reads characters while accept(c) holds, decoding escapes, into a
 * NUL-terminated arena string (lower-cased if asked). Empty is an error.
 * A first pass finds the end and the decoded size, the second decodes. */
static const char *read_run(parser *p, int (*accept)(int), int lower, size_t *len, const char *what) {
    size_t start = p->pos, k = 0;
    char scratch[4];
    while (p->pos < p->n && accept(peek(p))) k += peek(p) == '\\' ? escape(p, scratch) : (p->pos++, 1);
    if (p->pos == start) fail_at(p, start, what);
    size_t end = p->pos;
    char *out = alloc(p, k + 1);
    for (p->pos = start, k = 0; p->pos < end;) {
        if (peek(p) == '\\') {
            k += escape(p, out + k);
        } else {
            char c = p->s[p->pos++];
            out[k++] = lower && c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
        }
    }
    out[k] = '\0';
    if (len) *len = k;
    return out;
}

static const char *ident(parser *p, int lower, size_t *len, const char *what) {
    return read_run(p, is_ident_char, lower, len, what);
}

static int is_bare_value_char(int c) { return !is_space(c) && c != ']' && c != '"' && c != '\''; }

/* A "..." or '...' string with escapes, decoded like read_run. */
static const char *quoted(parser *p, size_t *len) {
    size_t open = p->pos++, start = p->pos, k = 0;
    char q = p->s[open], scratch[4];
    while (p->pos < p->n && p->s[p->pos] != q) k += peek(p) == '\\' ? escape(p, scratch) : (p->pos++, 1);
    if (p->pos >= p->n) fail_at(p, open, "unterminated string");
    size_t end = p->pos;
    char *out = alloc(p, k + 1);
    for (p->pos = start, k = 0; p->pos < end;) k += peek(p) == '\\' ? escape(p, out + k) : (out[k] = p->s[p->pos++], 1);
    p->pos = end + 1;
    out[k] = '\0';
    *len = k;
    return out;
}

static int eat(parser *p, char c) {
    if (peek(p) != c) return 0;
    p->pos++;
    return 1;
}

static void expect(parser *p, char c, const char *what) {
    if (!eat(p, c)) fail_at(p, p->pos, what);
}

static const complex *parse_list(parser *p, int closing);

static void parse_attr(parser *p, cond *c) {
    skip_space(p);
    c->kind = C_ATTR;
    c->name = ident(p, 1, NULL, "expected attribute name");
    skip_space(p);
    static const struct { const char *text; attr_op op; } ops[] = {
        {"=", A_EQ}, {"^=", A_PREFIX}, {"$=", A_SUFFIX}, {"*=", A_SUBSTR}, {"~=", A_WORD},
    };
    c->op = A_EXISTS;
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        size_t l = strlen(ops[i].text);
        if (p->n - p->pos >= l && !memcmp(p->s + p->pos, ops[i].text, l)) {
            c->op = ops[i].op;
            p->pos += l;
            break;
        }
    }
    if (c->op != A_EXISTS) {
        skip_space(p);
        if (peek(p) == '"' || peek(p) == '\'') c->value = quoted(p, &c->len);
        else c->value = read_run(p, is_bare_value_char, 0, &c->len, "expected attribute value");
        skip_space(p);
    }
    expect(p, ']', c->op == A_EXISTS ? "expected ']' or an operator (= ^= $= *= ~=)" : "expected ']'");
}

static long number(parser *p) {
    long v = 0;
    while (peek(p) >= '0' && peek(p) <= '9') {
        if (v < 100000000) v = v * 10 + (peek(p) - '0');
        p->pos++;
    }
    return v;
}

static int starts_word(const parser *p, const char *w) {
    size_t l = strlen(w);
    return p->n - p->pos >= l && !strncasecmp(p->s + p->pos, w, l) &&
           !is_ident_char(p->pos + l < p->n ? (unsigned char)p->s[p->pos + l] : -1);
}

static void parse_nth(parser *p, cond *c) {
    static const char what[] = "expected an+b, odd or even";
    skip_space(p);
    c->kind = C_NTH;
    if (starts_word(p, "odd")) {
        c->a = 2, c->b = 1, p->pos += 3;
    } else if (starts_word(p, "even")) {
        c->a = 2, c->b = 0, p->pos += 4;
    } else {
        long sign = eat(p, '-') ? -1 : (eat(p, '+'), 1);
        size_t digits = p->pos;
        long v = number(p);
        int has_digits = p->pos > digits;
        if (peek(p) == 'n' || peek(p) == 'N') {
            p->pos++;
            c->a = sign * (has_digits ? v : 1);
            skip_space(p);
            if (peek(p) == '+' || peek(p) == '-') {
                long s2 = p->s[p->pos++] == '-' ? -1 : 1;
                skip_space(p);
                digits = p->pos;
                c->b = s2 * number(p);
                if (p->pos == digits) fail_at(p, p->pos, what);
            }
        } else {
            if (!has_digits) fail_at(p, p->pos, what);
            c->b = sign * v;
        }
    }
    skip_space(p);
    expect(p, ')', "expected ')'");
}

static void parse_contains(parser *p, cond *c) {
    skip_space(p);
    c->kind = C_CONTAINS;
    if (peek(p) == '"' || peek(p) == '\'') {
        c->value = quoted(p, &c->len);
        skip_space(p);
    } else {
        size_t start = p->pos;
        while (p->pos < p->n && p->s[p->pos] != ')') p->pos++;
        size_t end = p->pos;
        while (end > start && is_space((unsigned char)p->s[end - 1])) end--;
        if (end == start) fail_at(p, start, "expected text");
        char *v = alloc(p, end - start + 1);
        memcpy(v, p->s + start, end - start);
        c->value = v;
        c->len = end - start;
    }
    expect(p, ')', "expected ')'");
    /* Knuth-Morris-Pratt failure table: :contains streams over text nodes */
    size_t *f = alloc(p, (c->len + 1) * sizeof *f);
    for (size_t i = 1, k = 0; i < c->len; i++) {
        while (k > 0 && c->value[i] != c->value[k]) k = f[k - 1];
        if (c->value[i] == c->value[k]) k++;
        f[i] = k;
    }
    c->kmp = f;
}

static void parse_pseudo(parser *p, cond *c) {
    size_t at = p->pos;
    const char *name = ident(p, 1, NULL, "expected pseudo-class name");
    if (!strcmp(name, "first-child")) {
        c->kind = C_FIRST;
        return;
    }
    if (!strcmp(name, "last-child")) {
        c->kind = C_LAST;
        return;
    }
    int nth = !strcmp(name, "nth-child"), not = !strcmp(name, "not"), contains = !strcmp(name, "contains");
    if (!nth && !not && !contains)
        fail_at(p, at, "unknown pseudo-class (expected first-child, last-child, nth-child, not or contains)");
    expect(p, '(', "expected '('");
    if (nth) {
        parse_nth(p, c);
    } else if (contains) {
        parse_contains(p, c);
    } else {
        if (++p->nesting > MAX_NESTING) fail_at(p, at, "selector nested too deeply");
        c->kind = C_NOT;
        c->list = parse_list(p, ')');
        p->nesting--;
        expect(p, ')', "expected ')'");
    }
}

static int starts_compound(int c) {
    return is_ident_char(c) || c == '*' || c == '#' || c == '.' || c == '[' || c == ':';
}

static compound *parse_compound(parser *p) {
    compound *cp = alloc(p, sizeof *cp);
    cp->any_tag = 1;
    if (eat(p, '*')) {
        /* universal: any_tag stays set */
    } else if (is_ident_char(peek(p))) {
        cp->name = ident(p, 1, &cp->name_len, "expected type name");
        cp->tag = gumbo_tagn_enum(cp->name, (unsigned)cp->name_len);
        cp->any_tag = 0;
    } else if (!starts_compound(peek(p))) {
        fail_at(p, p->pos, "expected selector");
    }
    cond **tail = &cp->conds;
    for (;;) {
        int c = peek(p);
        if (c != '#' && c != '.' && c != '[' && c != ':') break;
        p->pos++;
        cond *k = alloc(p, sizeof *k);
        if (c == '#') {
            k->kind = C_ID;
            k->value = ident(p, 0, &k->len, "expected id");
        } else if (c == '.') {
            k->kind = C_CLASS;
            k->value = ident(p, 0, &k->len, "expected class name");
        } else if (c == '[') {
            parse_attr(p, k);
        } else {
            parse_pseudo(p, k);
        }
        *tail = k;
        tail = &k->next;
    }
    return cp;
}

static const compound *parse_complex(parser *p) {
    compound *right = parse_compound(p);
    for (int count = 1;; count++) {
        size_t before = p->pos;
        int spaced = skip_space(p);
        char comb = 0;
        int c = peek(p);
        if (c == '>' || c == '+' || c == '~') {
            comb = (char)c;
            p->pos++;
            skip_space(p);
        } else if (spaced && starts_compound(c)) {
            comb = ' ';
        } else {
            p->pos = before;
            return right;
        }
        if (count >= MAX_COMPOUNDS) fail_at(p, before, "selector has too many compounds");
        compound *next = parse_compound(p);
        next->left = right;
        next->comb = comb;
        right = next;
    }
}

/* closing is ')' inside :not(...), -1 at the top level. */
static const complex *parse_list(parser *p, int closing) {
    complex *head = NULL, **tail = &head;
    for (;;) {
        skip_space(p);
        complex *cx = alloc(p, sizeof *cx);
        cx->right = parse_complex(p);
        *tail = cx;
        tail = &cx->next;
        skip_space(p);
        if (peek(p) == closing) return head;
        if (!eat(p, ',')) fail_at(p, p->pos, closing == ')' ? "expected ',' or ')'" : "expected ',' or end of selector");
    }
}

void css_free(css_selector *sel) {
    if (!sel) return;
    for (block *b = sel->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(sel);
}

css_selector *css_compile(const char *src, size_t len, size_t *err_column, const char **err_what) {
    parser p = {.s = src, .n = len, .sel = calloc(1, sizeof(css_selector))};
    if (!p.sel) {
        *err_column = 1;
        *err_what = "out of memory";
        return NULL;
    }
    if (setjmp(p.fail)) {
        css_free(p.sel);
        *err_column = p.err_column;
        *err_what = p.err_what;
        return NULL;
    }
    p.sel->list = parse_list(&p, -1);
    return p.sel;
}

/* ---- tree helpers ---- */

int css_is_element(const GumboNode *n) {
    return n && (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE);
}

const GumboVector *css_children(const GumboNode *n) {
    if (css_is_element(n)) return &n->v.element.children;
    if (n->type == GUMBO_NODE_DOCUMENT) return &n->v.document.children;
    return NULL;
}

GumboNode *css_next(const GumboNode *n, const GumboNode *scope, int skip_children) {
    const GumboVector *ch = skip_children ? NULL : css_children(n);
    if (ch && ch->length) return ch->data[0];
    while (n != scope && n->parent) {
        ch = css_children(n->parent);
        size_t i = n->index_within_parent + 1;
        if (i < ch->length) return ch->data[i];
        n = n->parent;
    }
    return NULL;
}

void css_tag_name(const GumboNode *el, const char **name, size_t *len) {
    if (el->v.element.tag != GUMBO_TAG_UNKNOWN) {
        *name = gumbo_normalized_tagname(el->v.element.tag);
        *len = strlen(*name);
        return;
    }
    GumboStringPiece piece = el->v.element.original_tag;
    if (piece.length) gumbo_tag_from_original_text(&piece);
    *name = piece.data ? piece.data : "";
    *len = piece.length;
}

/* ---- matching ---- */

static const GumboNode *parent_element(const GumboNode *n) {
    return css_is_element(n->parent) ? n->parent : NULL;
}

GumboNode *css_sibling(const GumboNode *n, int dir) {
    if (!n->parent) return NULL;
    const GumboVector *ch = css_children(n->parent);
    for (size_t i = n->index_within_parent; dir < 0 ? i-- > 0 : ++i < ch->length;)
        if (css_is_element(ch->data[i])) return ch->data[i];
    return NULL;
}

static int has_word(const char *s, const char *w, size_t wl) {
    if (wl == 0) return 0;
    for (const char *p = s; *p;) {
        while (*p && is_space((unsigned char)*p)) p++;
        const char *start = p;
        while (*p && !is_space((unsigned char)*p)) p++;
        if ((size_t)(p - start) == wl && !memcmp(start, w, wl)) return 1;
    }
    return 0;
}

static int match_attr(const cond *c, const GumboNode *el) {
    const GumboAttribute *at = gumbo_get_attribute(&el->v.element.attributes, c->name);
    if (!at) return 0;
    const char *v = at->value;
    size_t vl = strlen(v);
    switch (c->op) {
    case A_EXISTS: return 1;
    case A_EQ: return vl == c->len && !memcmp(v, c->value, vl);
    case A_PREFIX: return c->len && vl >= c->len && !memcmp(v, c->value, c->len);
    case A_SUFFIX: return c->len && vl >= c->len && !memcmp(v + vl - c->len, c->value, c->len);
    case A_SUBSTR: return c->len && memmem(v, vl, c->value, c->len) != NULL;
    case A_WORD: return has_word(v, c->value, c->len);
    }
    return 0;
}

static int contains_text(const cond *c, const GumboNode *el) {
    size_t k = 0, m = c->len;
    if (m == 0) return 1;
    for (const GumboNode *n = css_next(el, el, 0); n; n = css_next(n, el, 0)) {
        if (n->type != GUMBO_NODE_TEXT && n->type != GUMBO_NODE_WHITESPACE && n->type != GUMBO_NODE_CDATA)
            continue;
        for (const char *t = n->v.text.text; *t; t++) {
            while (k > 0 && *t != c->value[k]) k = c->kmp[k - 1];
            if (*t == c->value[k] && ++k == m) return 1;
        }
    }
    return 0;
}

static int nth_position(const GumboNode *el) {
    int pos = 1;
    for (const GumboNode *s = css_sibling(el, -1); s; s = css_sibling(s, -1)) pos++;
    return pos;
}

static int match_list(const complex *list, const GumboNode *el);

static int match_cond(const cond *c, const GumboNode *el) {
    switch (c->kind) {
    case C_ID: {
        const GumboAttribute *at = gumbo_get_attribute(&el->v.element.attributes, "id");
        return at && strlen(at->value) == c->len && !memcmp(at->value, c->value, c->len);
    }
    case C_CLASS: {
        const GumboAttribute *at = gumbo_get_attribute(&el->v.element.attributes, "class");
        return at && has_word(at->value, c->value, c->len);
    }
    case C_ATTR: return match_attr(c, el);
    case C_FIRST: return css_sibling(el, -1) == NULL;
    case C_LAST: return css_sibling(el, +1) == NULL;
    case C_NTH: {
        long d = nth_position(el) - c->b;
        if (c->a == 0) return d == 0;
        return d / c->a >= 0 && d % c->a == 0;
    }
    case C_NOT: return !match_list(c->list, el);
    case C_CONTAINS: return contains_text(c, el);
    }
    return 0;
}

static int match_compound(const compound *cp, const GumboNode *el) {
    if (!cp->any_tag) {
        if (el->v.element.tag != cp->tag) return 0;
        if (cp->tag == GUMBO_TAG_UNKNOWN) {
            const char *name;
            size_t len;
            css_tag_name(el, &name, &len);
            if (len != cp->name_len || strncasecmp(name, cp->name, len)) return 0;
        }
    }
    for (const cond *c = cp->conds; c; c = c->next)
        if (!match_cond(c, el)) return 0;
    return 1;
}

/* Matching right to left can backtrack: `x * * *` tries every chain of
 * ancestors, exponential in the compounds. A failure says how far to back
 * off instead (as browsers do, e.g. Servo's selectors crate): when a compound
 * cannot match anywhere up the tree, no other choice further right helps. */
typedef enum {
    MATCHED,
    RETRY_SIBLING,    /* try the next candidate of a `~` or descendant combinator */
    RETRY_DESCENDANT, /* only another ancestor (a descendant combinator) may help */
    NO_MATCH,         /* nothing can: the whole selector fails here */
} match_result;

/* Recurses once per compound (at most MAX_COMPOUNDS), never per tree level. */
static match_result match_from(const compound *cp, const GumboNode *el) {
    if (!match_compound(cp, el)) return RETRY_SIBLING;
    if (!cp->left) return MATCHED;
    int up = cp->comb == ' ' || cp->comb == '>';
    const GumboNode *n = up ? parent_element(el) : css_sibling(el, -1);
    for (; n; n = up ? parent_element(n) : css_sibling(n, -1)) {
        match_result r = match_from(cp->left, n);
        if (r == MATCHED || r == NO_MATCH || cp->comb == '+') return r;
        if (cp->comb == '>') return RETRY_DESCENDANT;
        if (r == RETRY_DESCENDANT && cp->comb == '~') return r;
    }
    return up ? NO_MATCH : RETRY_DESCENDANT;
}

static int match_list(const complex *list, const GumboNode *el) {
    for (const complex *cx = list; cx; cx = cx->next)
        if (match_from(cx->right, el) == MATCHED) return 1;
    return 0;
}

int css_matches(const css_selector *sel, const GumboNode *node) {
    return css_is_element(node) && match_list(sel->list, node);
}

size_t css_select(const css_selector *sel, const GumboNode *scope,
                  int (*emit)(GumboNode *node, void *ud), void *ud) {
    size_t count = 0;
    for (GumboNode *n = css_next(scope, scope, 0); n; n = css_next(n, scope, 0)) {
        if (!css_is_element(n) || !match_list(sel->list, n)) continue;
        count++;
        if (emit(n, ud)) break;
    }
    return count;
}
