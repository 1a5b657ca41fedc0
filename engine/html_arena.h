/* gumbo's memory for one document, its cap, and the CPU budget of its parse
 * (see html_arena.c). */
#ifndef SIS_HTML_ARENA_H
#define SIS_HTML_ARENA_H

#include <gumbo.h>
#include <setjmp.h>
#include <stddef.h>
#include <time.h>

enum { HTML_ARENA_CLASSES = 9 };

struct html_chunk;
struct html_large;
union html_header;

/* Spare chunks shared by the arenas of one Lua state (so, one thread). */
typedef struct html_pool {
    struct html_chunk *spare;
    size_t count;
    size_t open_bytes; /* the trees of the state's documents not yet released */
    int closed; /* after html_pool_close, released chunks go back to malloc */
} html_pool;

typedef enum {
    HTML_PARSE_OK,
    HTML_PARSE_TOO_SLOW,  /* over its CPU budget */
    HTML_PARSE_NO_MEMORY,
    HTML_PARSE_TOO_BIG,   /* over its memory cap */
    HTML_PARSE_LATE,      /* the REST request it serves ran out of time (request.h) */
    HTML_PARSE_CROWDED,   /* the process's documents hold html_process_cap() already */
} html_parse_failure;

typedef struct html_arena {
    html_pool *pool; /* set by the owner before parsing */
    struct html_chunk *chunks;
    char *bump;
    size_t left;
    union html_header *free_list[HTML_ARENA_CLASSES];
    struct html_large *larges;
    size_t bytes; /* held now (chunks and large blocks), for the cap and the collector */
    size_t cap;   /* bytes the parse may hold: html_memory_cap(len) */
    unsigned long calls;
    struct timespec deadline;
    jmp_buf *abort; /* set while gumbo parses */
    html_parse_failure failure;
} html_arena;

/* The CPU time gumbo may spend on len bytes: 1 s plus 1 s per 2 MB, about
 * ten times what it needs on ordinary pages. */
long html_parse_budget_ms(size_t len);

/* The memory gumbo may hold for a document of len bytes: 48 times its size
 * plus 16 MiB, at most 160 MiB. Ordinary pages take 12 to 40 times their
 * size; a page of 8 MB of <p> would take 110 times, 900 MB. */
size_t html_memory_cap(size_t len);

/* The memory all documents of the process may hold together (every thread,
 * every Lua state): SIS_PARSE_MEMORY MiB, 512 by default. Each document's
 * own cap bounds one hostile page; this bounds many at once (sis serve's
 * workers each parsing one). */
size_t html_process_cap(void);

/* Parses s into the arena. NULL, with a->failure set, when gumbo ran over its
 * CPU budget, its memory cap or out of memory; the caller then releases the
 * arena. */
GumboOutput *html_arena_parse(html_arena *a, const char *s, size_t len);

/* Frees all the arena holds (its first chunks go back to the pool, up to 1
 * MiB; what was mapped goes back to the system). */
void html_arena_release(html_arena *a);

/* Frees the pool's spare chunks; releases after this free theirs. */
void html_pool_close(html_pool *p);

#endif
