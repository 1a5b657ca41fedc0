/* gumbo's memory: an arena per document, with a CPU-time budget.
 *
 * gumbo allocates from the arena: power-of-two blocks (16 B to 4 KiB) carved
 * from 32 KiB chunks and recycled through free lists per size, larger blocks
 * from malloc. Dropping the arena frees the whole tree at once, so gumbo's
 * recursive destroy, which overflows the stack on deep trees, never runs.
 * Every 1024 allocations the arena checks the thread's CPU clock and jumps
 * out of a parse that is over its budget; it also jumps out of one over its
 * memory cap, or out of memory (gumbo itself does not check): the parse's
 * partial state is all in the arena. Released chunks wait in a pool for the
 * next document: given back to malloc, they would be trimmed to the OS and
 * faulted in again for every page. After a large document, though, the
 * memory goes back to the system (malloc_trim): one hostile page would
 * otherwise leave the worker's RSS at its peak for good. */
#include "html_arena.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK_SIZE = 32 << 10, LARGE = HTML_ARENA_CLASSES, POOL_MAX = 32 /* chunks: 1 MiB */ };
enum { BUDGET_BASE_MS = 1000, BUDGET_BYTES_PER_MS = 2000 };
#define CAP_PER_BYTE 48
#define CAP_BASE ((size_t)16 << 20)
#define CAP_MAX ((size_t)160 << 20)
#define TRIM_AFTER ((size_t)8 << 20) /* an arena this large is given back at release */

typedef union html_header {
    size_t cls;               /* size class: the block is 16 << cls bytes, or LARGE */
    union html_header *next;  /* in a free list */
    char align[16];           /* keeps the blocks 16-byte aligned */
} header;

typedef struct html_large {
    struct html_large *prev, *next;
    size_t size, pad; /* pad: keeps the blocks 16-byte aligned */
} large;

typedef struct html_chunk {
    struct html_chunk *next;
    max_align_t data[];
} chunk;

static void fail(html_arena *a, html_parse_failure why) {
    a->failure = why;
    longjmp(*a->abort, 1);
}

static int past(const struct timespec *deadline) {
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return now.tv_sec > deadline->tv_sec || (now.tv_sec == deadline->tv_sec && now.tv_nsec > deadline->tv_nsec);
}

static void *large_block(html_arena *a, size_t need) {
    if (need > a->cap - a->bytes) fail(a, HTML_PARSE_TOO_BIG);
    large *l = malloc(sizeof *l + need);
    if (!l) fail(a, HTML_PARSE_NO_MEMORY);
    l->size = need;
    l->prev = NULL;
    l->next = a->larges;
    if (a->larges) a->larges->prev = l;
    a->larges = l;
    a->bytes += need;
    header *h = (header *)(l + 1);
    h->cls = LARGE;
    return h + 1;
}

static void new_chunk(html_arena *a) {
    if (CHUNK_SIZE > a->cap - a->bytes) fail(a, HTML_PARSE_TOO_BIG);
    chunk *c = a->pool->spare;
    if (c) {
        a->pool->spare = c->next;
        a->pool->count--;
    } else if (!(c = malloc(sizeof *c + CHUNK_SIZE))) {
        fail(a, HTML_PARSE_NO_MEMORY);
    }
    c->next = a->chunks;
    a->chunks = c;
    a->bump = (char *)c->data;
    a->left = CHUNK_SIZE;
    a->bytes += CHUNK_SIZE;
}

static void *arena_alloc(void *ud, size_t size) {
    html_arena *a = ud;
    if (++a->calls % 1024 == 0 && past(&a->deadline)) fail(a, HTML_PARSE_TOO_SLOW);
    size_t need = size + sizeof(header);
    if (need > (size_t)16 << (HTML_ARENA_CLASSES - 1)) return large_block(a, need);
    size_t cls = 0;
    while ((size_t)16 << cls < need) cls++;
    header *h = a->free_list[cls];
    if (h) {
        a->free_list[cls] = h->next;
    } else {
        size_t block = (size_t)16 << cls;
        if (a->left < block) new_chunk(a);
        h = (header *)a->bump;
        a->bump += block;
        a->left -= block;
    }
    h->cls = cls;
    return h + 1;
}

static void arena_free(void *ud, void *p) {
    if (!p) return;
    html_arena *a = ud;
    header *h = (header *)p - 1;
    if (h->cls == LARGE) {
        large *l = (large *)h - 1;
        if (l->prev) l->prev->next = l->next;
        else a->larges = l->next;
        if (l->next) l->next->prev = l->prev;
        a->bytes -= l->size;
        free(l);
        return;
    }
    size_t cls = h->cls;
    h->next = a->free_list[cls];
    a->free_list[cls] = h;
}

long html_parse_budget_ms(size_t len) { return BUDGET_BASE_MS + (long)(len / BUDGET_BYTES_PER_MS); }

size_t html_memory_cap(size_t len) {
    return len < (CAP_MAX - CAP_BASE) / CAP_PER_BYTE ? CAP_BASE + CAP_PER_BYTE * len : CAP_MAX;
}

GumboOutput *html_arena_parse(html_arena *a, const char *s, size_t len) {
    a->cap = html_memory_cap(len);
    long budget = html_parse_budget_ms(len);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a->deadline);
    a->deadline.tv_sec += budget / 1000;
    a->deadline.tv_nsec += budget % 1000 * 1000000;
    if (a->deadline.tv_nsec >= 1000000000) {
        a->deadline.tv_sec++;
        a->deadline.tv_nsec -= 1000000000;
    }
    jmp_buf abort;
    a->abort = &abort;
    if (setjmp(abort)) return NULL;
    GumboOptions opts = kGumboDefaultOptions;
    opts.allocator = arena_alloc;
    opts.deallocator = arena_free;
    opts.userdata = a;
    opts.max_errors = 0; /* no need to record parse errors nobody reads */
    GumboOutput *out = gumbo_parse_with_options(&opts, s, len);
    a->abort = NULL;
    return out;
}

void html_arena_release(html_arena *a) {
    html_pool *pool = a->pool;
    int large_arena = a->bytes >= TRIM_AFTER;
    for (chunk *c = a->chunks, *next; c; c = next) {
        next = c->next;
        if (pool->closed || pool->count >= POOL_MAX) {
            free(c);
        } else {
            c->next = pool->spare;
            pool->spare = c;
            pool->count++;
        }
    }
    for (large *l = a->larges, *next; l; l = next) {
        next = l->next;
        free(l);
    }
    memset(a, 0, sizeof *a);
    a->pool = pool;
    if (large_arena) malloc_trim(0);
}

void html_pool_close(html_pool *p) {
    for (chunk *c = p->spare, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    p->spare = NULL;
    p->count = 0;
    p->closed = 1;
}
