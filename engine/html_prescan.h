/* The nesting pre-scan that runs before gumbo (see html_prescan.c). */
#ifndef SIS_HTML_PRESCAN_H
#define SIS_HTML_PRESCAN_H

#include <stddef.h>

/* 1 if the HTML in s[0..n) may nest deeper than max_depth elements, 0 if not,
 * -1 when memory is short. Linear time: hostile input is refused before
 * gumbo spends super-linear time (or its recursive destroy) on it. */
int html_too_deep(const char *s, size_t n, size_t max_depth);

/* 1 for the void elements (br, img, input, ...): no content, no end tag. */
int html_is_void(int tag);

#endif
