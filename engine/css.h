/* CSS selectors over a gumbo tree, usable from C without Lua.
 *
 * Supported: type `td`, `*`, `#id`, `.class`, `[a]`, `[a=v]`, `[a^=v]`, `[a$=v]`,
 * `[a*=v]`, `[a~=v]` (v quoted or bare), combinators ` ` `>` `+` `~`,
 * `:first-child`, `:last-child`, `:nth-child(an+b|odd|even)`, `:not(list)`,
 * `:contains(text)` (substring of the element's text) and lists `a, b`.
 * Type and attribute names are ASCII case-insensitive; values are not.
 * A compiled selector is immutable (safe to share between threads), and no
 * function here recurses on the tree, only on the selector's own nesting. */
#ifndef SIS_CSS_H
#define SIS_CSS_H

#include <gumbo.h>
#include <stddef.h>

typedef struct css_selector css_selector;

/* Compiles the len bytes at src. On failure returns NULL, sets *err_column to
 * the 1-based column of the problem and *err_what to a static description
 * ("expected class name", ...); *err_what is "out of memory" on OOM. */
css_selector *css_compile(const char *src, size_t len, size_t *err_column, const char **err_what);
void css_free(css_selector *sel);

/* 1 if the element matches; ancestors and siblings anywhere in the document
 * count for combinators (like Element.matches). Non-elements never match. */
int css_matches(const css_selector *sel, const GumboNode *node);

/* Calls emit(node, ud) for every matching element strictly inside scope, in
 * document order, each once; stops early when emit returns nonzero. Returns
 * the number of emitted nodes. emit may longjmp (a Lua error): nothing leaks. */
size_t css_select(const css_selector *sel, const GumboNode *scope,
                  int (*emit)(GumboNode *node, void *ud), void *ud);

/* Tree helpers shared with the DOM binding. */

/* The children of an element, template or document node, or NULL. */
const GumboVector *css_children(const GumboNode *node);
/* 1 for element and template nodes. */
int css_is_element(const GumboNode *node);
/* The next node in document order inside scope's subtree (scope excluded),
 * descending into n's children unless skip_children; NULL at the end. */
GumboNode *css_next(const GumboNode *n, const GumboNode *scope, int skip_children);
/* The nearest element sibling before (dir < 0) or after (dir > 0) n, or NULL. */
GumboNode *css_sibling(const GumboNode *n, int dir);
/* The element's tag name as written for unknown tags (case as in the source),
 * lower case for known ones. */
void css_tag_name(const GumboNode *el, const char **name, size_t *len);

#endif
