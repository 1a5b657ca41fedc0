/* gumbo's memory: an arena per document, with a CPU-time budget.
 *
 * gumbo allocates from the arena: power-of-two blocks (16 B to 4 KiB) carved
 * from 32 KiB chunks and recycled through free lists per size, larger blocks
 * from malloc. Dropping the arena frees the whole tree at once, so gumbo's
 * recursive destroy, which overflows the stack on deep trees, never runs.
 * Every 1024 allocations the arena checks the thread's CPU clock and jumps
 * out of a parse that is over its budget, or past the deadline of the REST
 * request it serves; it also jumps out of one over its memory cap, or out of
 * memory (gumbo itself does not check): the parse's
 * partial state is all in the arena. Released chunks wait in a pool for the
 * next document: given back to malloc, they would be trimmed to the OS and
 * faulted in again for every page. Past the first MiB, though, a document
 * gets 1 MiB chunks and its blocks of 64 KiB and more straight from mmap,
 * unmapped when it goes: one hostile page would otherwise leave the worker's
 * RSS at its peak for good (memory freed into malloc stays with malloc). */
#include "html_arena.h"
#include "request.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { CHUNK_SIZE = 32 << 10, LARGE = HTML_ARENA_CLASSES, POOL_MAX = 32 /* chunks: 1 MiB */ };
enum { BUDGET_BASE_MS = 1000, BUDGET_BYTES_PER_MS = 2000 };
#define CAP_PER_BYTE 48
#define CAP_BASE ((size_t)16 << 20)
#define CAP_MAX ((size_t)160 << 20)
#define MAPPED_AFTER ((size_t)1 << 20) /* arena bytes past which chunks are mapped */
#define MAPPED_CHUNK ((size_t)1 << 20)
#define MAPPED_LARGE ((size_t)64 << 10) /* large blocks from this size are mapped */
#define PROCESS_CAP_MIB 512

static atomic_size_t process_bytes; /* the a->bytes of every arena */
static size_t process_cap;
static pthread_once_t process_cap_once = PTHREAD_ONCE_INIT;

static void read_process_cap(void) {
    const char *v = getenv("SIS_PARSE_MEMORY");
    char *end;
    unsigned long long mib = v && *v ? strtoull(v, &end, 10) : 0;
    if (!v || !*v || *end || mib == 0 || mib > ((size_t)-1 >> 20)) mib = PROCESS_CAP_MIB;
    process_cap = (size_t)mib << 20;
}

size_t html_process_cap(void) {
    pthread_once(&process_cap_once, read_process_cap);
    return process_cap;
}

typedef union html_header {
    size_t cls;               /* size class: the block is 16 << cls bytes, or LARGE */
    union html_header *next;  /* in a free list */
    char align[16];           /* keeps the blocks 16-byte aligned */
} header;

typedef struct html_large {
    struct html_large *prev, *next;
    size_t size, mapped; /* 4 words: keeps the blocks 16-byte aligned */
} large;

typedef struct html_chunk {
    struct html_chunk *next;
    size_t size; /* CHUNK_SIZE (malloc, pooled) or MAPPED_CHUNK (mmap) */
    max_align_t data[];
} chunk;

static void *map(size_t n) {
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void fail(html_arena *a, html_parse_failure why) {
    a->failure = why;
    longjmp(*a->abort, 1);
}

static int past(const struct timespec *deadline) {
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return now.tv_sec > deadline->tv_sec || (now.tv_sec == deadline->tv_sec && now.tv_nsec > deadline->tv_nsec);
}

/* Counts n more bytes for a, within its cap and the process's; the caller
 * then allocates them (a failure releases the arena, which uncounts its
 * bytes whether they were allocated or not). */
static void take(html_arena *a, size_t n) {
    if (n > a->cap - a->bytes) fail(a, HTML_PARSE_TOO_BIG);
    size_t cap = html_process_cap();
    if (n > cap || atomic_fetch_add(&process_bytes, n) > cap - n) {
        atomic_fetch_sub(&process_bytes, n);
        fail(a, HTML_PARSE_CROWDED);
    }
    a->bytes += n;
}

static void *large_block(html_arena *a, size_t need) {
    take(a, need);
    int mapped = need >= MAPPED_LARGE;
    large *l = mapped ? map(sizeof *l + need) : malloc(sizeof *l + need);
    if (!l) fail(a, HTML_PARSE_NO_MEMORY);
    l->size = need;
    l->mapped = (size_t)mapped;
    l->prev = NULL;
    l->next = a->larges;
    if (a->larges) a->larges->prev = l;
    a->larges = l;
    header *h = (header *)(l + 1);
    h->cls = LARGE;
    return h + 1;
}

static void new_chunk(html_arena *a) {
    size_t size = a->bytes >= MAPPED_AFTER ? MAPPED_CHUNK : CHUNK_SIZE;
    take(a, size);
    chunk *c = size == CHUNK_SIZE ? a->pool->spare : NULL;
    if (c) {
        a->pool->spare = c->next;
        a->pool->count--;
    } else if (!(c = size == CHUNK_SIZE ? malloc(sizeof *c + size) : map(sizeof *c + size))) {
        fail(a, HTML_PARSE_NO_MEMORY);
    }
    c->size = size;
    c->next = a->chunks;
    a->chunks = c;
    a->bump = (char *)c->data;
    a->left = size;
}

static void free_large(large *l) {
    if (l->mapped) munmap(l, sizeof *l + l->size);
    else free(l);
}

static void *arena_alloc(void *ud, size_t size) {
    html_arena *a = ud;
    if (++a->calls % 1024 == 0) {
        if (past(&a->deadline)) fail(a, HTML_PARSE_TOO_SLOW);
        if (sis_request_left() < 0) fail(a, HTML_PARSE_LATE); /* the Lua hook cannot stop C */
    }
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
        atomic_fetch_sub(&process_bytes, l->size);
        free_large(l);
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
    atomic_fetch_sub(&process_bytes, a->bytes);
    for (chunk *c = a->chunks, *next; c; c = next) {
        next = c->next;
        if (c->size != CHUNK_SIZE) {
            munmap(c, sizeof *c + c->size);
        } else if (pool->closed || pool->count >= POOL_MAX) {
            free(c);
        } else {
            c->next = pool->spare;
            pool->spare = c;
            pool->count++;
        }
    }
    for (large *l = a->larges, *next; l; l = next) {
        next = l->next;
        free_large(l);
    }
    memset(a, 0, sizeof *a);
    a->pool = pool;
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
