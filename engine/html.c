/* sis.html: gumbo DOM with lazy node proxies and C-side CSS selectors.
 *
 * A document userdata owns gumbo's tree (in an arena, html_arena.c) and
 * keeps the input string (gumbo points into it) as its user value; every
 * node userdata keeps its document alive through its own user value, so
 * handles never dangle. Input must be UTF-8 (gumbo replaces invalid bytes
 * with U+FFFD): transcode before parsing. Hostile input meets three bounds:
 * the size cap, the nesting pre-scan before gumbo runs (html_prescan.c) and
 * a CPU-time budget for gumbo itself. Every walk over the tree here is
 * iterative.
 *
 * Any allocation may run the collector, and so Lua finalizers, which may
 * call doc:close(): a method that reads the tree after allocating pins its
 * document first (pin_document), and a close meanwhile only marks it closed;
 * the tree goes when the last pin does. */
#include "sis.h"
#include "css.h"
#include "html_arena.h"
#include "html_prescan.h"
#include "options.h"
#include "request.h"

#include <lauxlib.h>

#include <stdlib.h>
#include <string.h>

#define DOCUMENT_MT "sis.html.document"
#define NODE_MT "sis.html.node"
#define SELECTOR_MT "sis.html.selector"
#define POOL_MT "sis.html.pool"
#define PIN_MT "sis.html.pin"

enum { DEFAULT_MAX_SIZE = 8 << 20, DEFAULT_MAX_DEPTH = 400, SELECTOR_CACHE_MAX = 256 };
#define OPEN_TREES_UNNOTICED ((size_t)8 << 20) /* see the end of l_parse */

/* User values: 1 the input string (gumbo points into it), 2 the chunk pool
 * (it outlives the arena), 3 the pin (see pin_document). */
typedef struct document {
    GumboOutput *out; /* NULL once closed */
    size_t size;
    size_t tree_bytes; /* its part of the pool's open_bytes */
    int pins;    /* methods reading the tree right now */
    int closing; /* closed while pinned: the tree goes with the last pin */
    html_arena mem;
} document;

typedef struct node_ref {
    GumboNode *node;
    const document *doc; /* kept alive by the user value */
} node_ref;

/* ---- documents ---- */

static int pool_gc(lua_State *L) {
    html_pool_close(luaL_checkudata(L, 1, POOL_MT));
    return 0;
}

static document *check_document(lua_State *L, int i) {
    document *d = luaL_checkudata(L, i, DOCUMENT_MT);
    if (!d->out) luaL_error(L, "attempt to use a closed document");
    return d;
}

static void release_document(lua_State *L, document *d, int i) {
    d->mem.pool->open_bytes -= d->tree_bytes;
    d->tree_bytes = 0;
    html_arena_release(&d->mem);
    d->closing = 0;
    lua_pushnil(L); /* the input string can go too */
    lua_setiuservalue(L, i, 1);
}

static void close_document(lua_State *L, document *d, int i) {
    if (!d->out) return;
    d->out = NULL;
    if (d->pins) d->closing = 1;
    else release_document(L, d, i);
}

/* Keeps the tree of the document at index i until the calling C function
 * returns or raises: its pin (a to-be-closed value) unpins it then. Allocates
 * nothing, so no finalizer can run between the caller's check and the pin. */
static void pin_document(lua_State *L, int i) {
    document *d = lua_touserdata(L, i);
    lua_getiuservalue(L, i, 3);
    lua_toclose(L, -1);
    d->pins++;
}

/* __close of the pin (user value 1: its document) */
static int unpin_document(lua_State *L) {
    lua_getiuservalue(L, 1, 1);
    document *d = lua_touserdata(L, -1);
    if (--d->pins == 0 && d->closing) release_document(L, d, lua_gettop(L));
    return 0;
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

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

static int to_lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static node_ref *check_ref(lua_State *L, int i) {
    node_ref *r = luaL_checkudata(L, i, NODE_MT);
    if (!r->doc->out) luaL_error(L, "attempt to use a closed document");
    return r;
}

static GumboNode *check_node(lua_State *L, int i) { return check_ref(L, i)->node; }

/* Past the deadline of the REST request being served (request.h), the tree
 * walks refuse to start: a loop of them (a text per ancestor, a search per
 * input) runs few Lua instructions, so the Lua hook alone would see the
 * deadline late. */
static void check_time(lua_State *L) {
    if (sis_request_left() < 0) luaL_error(L, "html: the request ran out of time");
}

/* The node at index 1 with its document pinned (pushed, with the pin). */
static node_ref *pinned_ref(lua_State *L) {
    check_time(L);
    node_ref *r = check_ref(L, 1);
    lua_getiuservalue(L, 1, 1);
    pin_document(L, lua_gettop(L));
    return r;
}

static GumboNode *pinned_node(lua_State *L) { return pinned_ref(L)->node; }

/* The document at index 1, pinned. */
static document *pinned_document(lua_State *L) {
    check_time(L);
    document *d = check_document(L, 1);
    pin_document(L, 1);
    return d;
}

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
    const GumboNode *n = pinned_node(L);
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
    const char *name = luaL_checkstring(L, 2); /* first: it may allocate */
    const GumboVector *attrs = attributes(check_node(L, 1));
    const GumboAttribute *a = attrs ? gumbo_get_attribute(attrs, name) : NULL;
    if (a) lua_pushstring(L, a->value);
    else lua_pushnil(L);
    return 1;
}

static int node_attrs(lua_State *L) {
    const GumboVector *attrs = attributes(pinned_node(L));
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
    const GumboNode *n = pinned_node(L);
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
    const GumboNode *n = pinned_node(L);
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
        return html_is_void(n->v.element.tag) ? NULL : &n->v.element.children;
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
    const GumboNode *n = pinned_node(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    serialize(n, outer, &b);
    luaL_pushresult(&b);
    return 1;
}

static int node_inner_html(lua_State *L) { return push_html(L, 0); }
static int node_outer_html(lua_State *L) { return push_html(L, 1); }

static int node_parent(lua_State *L) {
    GumboNode *n = check_node(L, 1);
    return push_related(L, css_is_element(n->parent) ? n->parent : NULL);
}

static int node_next(lua_State *L) { return push_related(L, css_sibling(check_node(L, 1), +1)); }
static int node_prev(lua_State *L) { return push_related(L, css_sibling(check_node(L, 1), -1)); }

static int node_children(lua_State *L) {
    const node_ref *self = pinned_ref(L);
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
    const GumboNode *n = pinned_node(L);
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
    const GumboNode *n = pinned_node(L);
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
    const node_ref *r = pinned_ref(L);
    lua_getiuservalue(L, 1, 1);
    return run_select(L, r->node, r->doc, -1, first_only);
}

static int node_select(lua_State *L) { return node_select_any(L, 0); }
static int node_select_one(lua_State *L) { return node_select_any(L, 1); }

static int node_matches(lua_State *L) {
    const GumboNode *n = pinned_node(L);
    lua_pushboolean(L, css_matches(get_selector(L, 2), n));
    return 1;
}

static int doc_select_any(lua_State *L, int first_only) {
    document *d = pinned_document(L);
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
    document *d = pinned_document(L);
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

static int l_parse(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    static const char *const options[] = {"max_size", "max_depth", NULL};
    sis_check_options(L, 2, options);
    size_t max_size = (size_t)sis_opt_integer(L, 2, "max_size", DEFAULT_MAX_SIZE, 0, (lua_Integer)1 << 31);
    size_t max_depth = (size_t)sis_opt_integer(L, 2, "max_depth", DEFAULT_MAX_DEPTH, 1, 1000000);
    if (len > max_size) {
        luaL_pushfail(L);
        lua_pushfstring(L, "html: input too large (%I > %I bytes)", (lua_Integer)len, (lua_Integer)max_size);
        return 2;
    }
    if (sis_request_left() < 0) { /* a REST request out of time: not even the pre-scan */
        luaL_pushfail(L);
        lua_pushliteral(L, "html: parse stopped, the request ran out of time");
        return 2;
    }
    int deep = html_too_deep(s, len, max_depth);
    if (deep < 0) return luaL_error(L, "not enough memory");
    if (deep) {
        luaL_pushfail(L);
        lua_pushfstring(L, "html: nesting deeper than %I", (lua_Integer)max_depth);
        return 2;
    }
    document *d = lua_newuserdatauv(L, sizeof *d, 3);
    memset(d, 0, sizeof *d);
    d->size = len;
    d->mem.pool = lua_touserdata(L, lua_upvalueindex(1));
    luaL_setmetatable(L, DOCUMENT_MT);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_setiuservalue(L, -2, 2);
    lua_newuserdatauv(L, 0, 1);
    luaL_setmetatable(L, PIN_MT);
    lua_pushvalue(L, -2);
    lua_setiuservalue(L, -2, 1);
    lua_setiuservalue(L, -2, 3);
    d->out = html_arena_parse(&d->mem, s, len);
    if (!d->out) {
        html_parse_failure why = d->mem.failure;
        html_arena_release(&d->mem);
        luaL_pushfail(L);
        if (why == HTML_PARSE_TOO_SLOW)
            lua_pushfstring(L, "html: parse over its CPU time budget (%I ms)", (lua_Integer)html_parse_budget_ms(len));
        else if (why == HTML_PARSE_LATE)
            lua_pushliteral(L, "html: parse stopped, the request ran out of time");
        else if (why == HTML_PARSE_TOO_BIG)
            lua_pushfstring(L, "html: parse over its memory cap (%I MB for %I bytes)",
                            (lua_Integer)(html_memory_cap(len) >> 20), (lua_Integer)len);
        else if (why == HTML_PARSE_CROWDED)
            lua_pushfstring(L, "html: parse refused: the open documents of the process hold %I MB "
                            "(SIS_PARSE_MEMORY)", (lua_Integer)(html_process_cap() >> 20));
        else
            lua_pushliteral(L, "html: out of memory");
        return 2;
    }
    /* The tree lives outside the Lua heap, which the collector does not
     * see: a loop over pages that leaves its documents to the collector
     * would outrun it. While other documents hold more than a few MiB of
     * trees, each parse is a collection step as large as its tree;
     * documents closed when read (<close>, as the shipped parsers do) leave
     * no work to the collector, and cost it none. */
    html_pool *pool = d->mem.pool;
    if (pool->open_bytes > OPEN_TREES_UNNOTICED) lua_gc(L, LUA_GCSTEP, (int)(d->mem.bytes >> 10) + 1);
    d->tree_bytes = d->mem.bytes;
    pool->open_bytes += d->tree_bytes;
    return 1;
}

/* gumbo alone (its own allocator and destroy, no pre-scan, no document):
 * the bench's baseline. */
static int l_parse_only(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    GumboOptions opts = kGumboDefaultOptions;
    opts.max_errors = 0;
    gumbo_destroy_output(&opts, gumbo_parse_with_options(&opts, s, len));
    return 0;
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
    luaL_newmetatable(L, PIN_MT);
    lua_pushcfunction(L, unpin_document);
    lua_setfield(L, -2, "__close");
    lua_pop(L, 1);
    luaL_newlibtable(L, module_functions);
    html_pool *p = lua_newuserdatauv(L, sizeof *p, 0); /* the chunk pool, shared by parse */
    memset(p, 0, sizeof *p);
    luaL_newmetatable(L, POOL_MT);
    lua_pushcfunction(L, pool_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    luaL_setfuncs(L, module_functions, 1);
    return 1;
}
