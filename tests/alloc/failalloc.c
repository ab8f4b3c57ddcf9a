/*
 * failalloc.c — see failalloc.h.
 *
 * The live blocks are a set of pointers in an open-addressed table of
 * FA_SLOTS entries (linear probing, a tombstone for a freed entry).  The
 * operations the tests run stay far below it; a table that fills up aborts
 * the test rather than forget a block.
 */
#include "failalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void __real_free(void *p);

#define FA_SLOTS (1u << 18)
#define FA_GONE ((void *)1)

static struct {
    int on;
    uint64_t fail_at, n;
    int failed;
    size_t live, used; /* live blocks; slots not empty (tombstones included) */
} fa;
static void *fa_tab[FA_SLOTS];

static size_t fa_hash(const void *p)
{
    return (size_t)(((uint64_t)(uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull >> 46) & (FA_SLOTS - 1);
}

static void fa_remember(void *p)
{
    size_t i = fa_hash(p);

    if (fa.used >= FA_SLOTS - FA_SLOTS / 8) {
        fprintf(stderr, "failalloc: more than %u blocks live at once\n", FA_SLOTS - FA_SLOTS / 8);
        abort();
    }
    while (fa_tab[i] != NULL && fa_tab[i] != FA_GONE)
        i = (i + 1) & (FA_SLOTS - 1);
    if (fa_tab[i] == NULL)
        fa.used++;
    fa_tab[i] = p;
    fa.live++;
}

/* Forget p; 1 if it was remembered. */
static int fa_forget(void *p)
{
    size_t i = fa_hash(p);

    while (fa_tab[i] != NULL) {
        if (fa_tab[i] == p) {
            fa_tab[i] = FA_GONE;
            fa.live--;
            return 1;
        }
        i = (i + 1) & (FA_SLOTS - 1);
    }
    return 0;
}

/* Count one allocation; 1 when it is the one to fail. */
static int fa_fails_now(void)
{
    if (!fa.on)
        return 0;
    fa.n++;
    if (fa.n == fa.fail_at) {
        fa.failed = 1;
        return 1;
    }
    return 0;
}

void fa_start(uint64_t fail_at)
{
    memset(fa_tab, 0, sizeof fa_tab);
    memset(&fa, 0, sizeof fa);
    fa.fail_at = fail_at;
    fa.on = 1;
}

void fa_stop(void)
{
    fa.on = 0;
}

uint64_t fa_allocs(void)
{
    return fa.n;
}

int fa_failed(void)
{
    return fa.failed;
}

size_t fa_live(void)
{
    return fa.live;
}

void *__wrap_malloc(size_t n)
{
    void *p;

    if (fa_fails_now())
        return NULL;
    p = __real_malloc(n);
    if (p != NULL && fa.on)
        fa_remember(p);
    return p;
}

void *__wrap_calloc(size_t k, size_t n)
{
    void *p;

    if (fa_fails_now())
        return NULL;
    p = __real_calloc(k, n);
    if (p != NULL && fa.on)
        fa_remember(p);
    return p;
}

/* realloc(NULL, n) is an allocation; resizing a remembered block keeps it
 * remembered under its new address, an unremembered one stays so. */
void *__wrap_realloc(void *p, size_t n)
{
    void *q;
    int known;

    if (fa_fails_now())
        return NULL; /* p is left as it was */
    known = p != NULL && fa.on && fa_forget(p);
    q = __real_realloc(p, n);
    if (q == NULL) {
        if (known)
            fa_remember(p);
        return NULL;
    }
    if (fa.on && (p == NULL || known))
        fa_remember(q);
    return q;
}

char *__wrap_strdup(const char *s)
{
    char *p;

    if (fa_fails_now())
        return NULL;
    p = __real_strdup(s);
    if (p != NULL && fa.on)
        fa_remember(p);
    return p;
}

void __wrap_free(void *p)
{
    if (p != NULL && fa.on)
        (void)fa_forget(p);
    __real_free(p);
}
