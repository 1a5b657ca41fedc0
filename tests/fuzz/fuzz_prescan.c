/* libFuzzer target: the nesting pre-scan (engine/html_prescan.c) against
 * gumbo itself. The pre-scan bounds gumbo's stack of open elements, which
 * the tree shows only in part: gumbo also takes elements off the middle of
 * its stack (</form>, a second <a>, the adoption agency), leaving them in
 * the tree as ancestors of what follows. So the property is a bound with
 * room for that: whatever the pre-scan lets through at max_depth D parses
 * into a tree where no node has more than 2 D counted ancestors (elements
 * the pre-scan counts: not html/head/body, not the ones whose end tag is
 * optional, nor forms, which </form> may leave at every level). A model that
 * pops what gumbo keeps open lets nesting grow with the input, past any such
 * bound. See tests/fuzz/README.md. */
#include "html_arena.h"
#include "html_prescan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { MAX_DEPTH = 8 };

/* Elements the pre-scan counts toward the depth (html_prescan.c's tag
 * table: T_IGNORE and T_IMPLIED are not counted). */
static int counted(const GumboNode *n) {
    if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE) return 0;
    if (n->v.element.tag_namespace != GUMBO_NAMESPACE_HTML) return 1;
    switch (n->v.element.tag) {
    case GUMBO_TAG_HTML: case GUMBO_TAG_HEAD: case GUMBO_TAG_BODY:
    case GUMBO_TAG_P: case GUMBO_TAG_LI: case GUMBO_TAG_DT: case GUMBO_TAG_DD:
    case GUMBO_TAG_OPTION: case GUMBO_TAG_OPTGROUP: case GUMBO_TAG_RB: case GUMBO_TAG_RP:
    case GUMBO_TAG_RT: case GUMBO_TAG_RTC: case GUMBO_TAG_CAPTION: case GUMBO_TAG_COLGROUP:
    case GUMBO_TAG_THEAD: case GUMBO_TAG_TBODY: case GUMBO_TAG_TFOOT: case GUMBO_TAG_TR:
    case GUMBO_TAG_TD: case GUMBO_TAG_TH: case GUMBO_TAG_FORM:
        return 0;
    default:
        return 1;
    }
}

static const GumboVector *children(const GumboNode *n) {
    if (n->type == GUMBO_NODE_DOCUMENT) return &n->v.document.children;
    if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE) return &n->v.element.children;
    return NULL;
}

/* The most counted ancestors any node has (iterative: trees may be deep). */
static size_t deepest(const GumboNode *doc) {
    typedef struct { const GumboNode *node; size_t above; } item;
    size_t cap = 1024, n = 0, most = 0;
    item *stack = malloc(cap * sizeof *stack);
    if (!stack) abort();
    stack[n++] = (item){doc, 0};
    while (n) {
        item it = stack[--n];
        if (it.above > most) most = it.above;
        const GumboVector *ch = children(it.node);
        size_t below = it.above + (size_t)counted(it.node);
        for (unsigned i = 0; ch && i < ch->length; i++) {
            if (n == cap && !(stack = realloc(stack, (cap *= 2) * sizeof *stack))) abort();
            stack[n++] = (item){ch->data[i], below};
        }
    }
    free(stack);
    return most;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    int deep = html_too_deep(s, size, MAX_DEPTH);
    if (deep < 0) abort();
    if (deep) return 0;
    static html_pool pool;
    html_arena arena = {.pool = &pool};
    GumboOutput *out = html_arena_parse(&arena, s, size);
    size_t most = out ? deepest(out->document) : 0;
    html_arena_release(&arena);
    if (most > 2 * MAX_DEPTH) {
        fprintf(stderr, "fuzz: prescan let through a tree %zu deep (max_depth %d)\n", most, MAX_DEPTH);
        abort();
    }
    return 0;
}
