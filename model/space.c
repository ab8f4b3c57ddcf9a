/*
 * space.c — pages in an open-addressing hash table keyed by page number;
 * a bump heap with LIFO free lists per 16-byte size class (see space.h).
 */
#include "space.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal/uw_assert.h"
#include "tornstack/error.h"

#define MM_CLASSES 512 /* 16-byte classes up to 8 KiB; larger: own pages */
#define MM_DM 256      /* pages in the lookup cache */

typedef struct mm_page {
    uint64_t pno; /* page number + 1; 0 = empty slot */
    uint8_t *mem;
} mm_page;

typedef struct mm_free_block {
    uint64_t addr;
    struct mm_free_block *next;
} mm_free_block;

struct mm_space {
    mm_page *pages;
    size_t cap, count;
    uint64_t heap_top, image_top, big_top;
    mm_free_block *free_lists[MM_CLASSES];
    /* The page looked up last (a read or a store mostly lands on the page
     * of the one before), and a direct-mapped cache of recent pages: a
     * cache, not state; reset whenever pages go. */
    uint64_t hot_pno;
    uint8_t *hot_mem;
    uint64_t dm_pno[MM_DM];
    uint8_t *dm_mem[MM_DM];
};

static size_t mm_slot(const mm_space *s, uint64_t pno)
{
    return (size_t)((pno * 0x9e3779b97f4a7c15ull) >> 20) & (s->cap - 1);
}

static mm_page *mm_find(const mm_space *s, uint64_t pno)
{
    size_t i = mm_slot(s, pno), n;
    for (n = 0; n < s->cap; n++, i = (i + 1) & (s->cap - 1)) {
        if (s->pages[i].pno == 0)
            return NULL;
        if (s->pages[i].pno == pno + 1)
            return &s->pages[i];
    }
    return NULL;
}

/* The memory of page pno, NULL when unmapped.  Called from readers too:
 * the cache fields are the only thing written through a const space. */
static uint8_t *mm_page_mem(const mm_space *s, uint64_t pno)
{
    mm_space *w = (mm_space *)(uintptr_t)s;
    const mm_page *pg;

    if (s->hot_mem != NULL && s->hot_pno == pno)
        return s->hot_mem;
    if (s->dm_mem[pno % MM_DM] != NULL && s->dm_pno[pno % MM_DM] == pno) {
        w->hot_pno = pno;
        w->hot_mem = s->dm_mem[pno % MM_DM];
        return w->hot_mem;
    }
    pg = mm_find(s, pno);
    if (pg == NULL)
        return NULL;
    w->hot_pno = pno;
    w->hot_mem = pg->mem;
    w->dm_pno[pno % MM_DM] = pno;
    w->dm_mem[pno % MM_DM] = pg->mem;
    return pg->mem;
}

static int mm_grow(mm_space *s)
{
    mm_page *old = s->pages;
    size_t oldcap = s->cap, i;
    s->cap = oldcap ? 2 * oldcap : 1024;
    s->pages = calloc(s->cap, sizeof *s->pages);
    if (s->pages == NULL)
        return UW_ERR_NOMEM;
    for (i = 0; i < oldcap; i++) {
        if (old[i].pno != 0) {
            size_t j = mm_slot(s, old[i].pno - 1);
            while (s->pages[j].pno != 0)
                j = (j + 1) & (s->cap - 1);
            s->pages[j] = old[i];
        }
    }
    free(old);
    return 0;
}

int mm_space_new(mm_space **out)
{
    mm_space *s = calloc(1, sizeof *s);
    if (s == NULL || mm_grow(s) != 0) {
        free(s);
        return UW_ERR_NOMEM;
    }
    s->heap_top = MM_HEAP_BASE;
    s->image_top = MM_IMAGE_BASE;
    /* big blocks: the upper half of the heap area, below the data stack
     * (MM_HEAP_BASE + 4 GiB is MM_STACK_BASE: they would overlap) */
    s->big_top = MM_HEAP_BASE + (1ull << 31);
    *out = s;
    return 0;
}

void mm_space_free(mm_space *s)
{
    size_t i;
    if (s == NULL)
        return;
    for (i = 0; i < s->cap; i++)
        free(s->pages[i].mem);
    for (i = 0; i < MM_CLASSES; i++) {
        while (s->free_lists[i] != NULL) {
            mm_free_block *b = s->free_lists[i];
            s->free_lists[i] = b->next;
            free(b);
        }
    }
    free(s->pages);
    free(s);
}

int mm_space_map(mm_space *s, uint64_t addr, size_t len)
{
    uint64_t p, first = addr / MM_PAGE, last = (addr + len + MM_PAGE - 1) / MM_PAGE;
    for (p = first; p < last; p++) {
        size_t i;
        if (mm_find(s, p) != NULL)
            continue;
        if (2 * (s->count + 1) > s->cap && mm_grow(s) != 0)
            return UW_ERR_NOMEM;
        i = mm_slot(s, p);
        while (s->pages[i].pno != 0)
            i = (i + 1) & (s->cap - 1);
        s->pages[i].mem = calloc(1, MM_PAGE);
        if (s->pages[i].mem == NULL)
            return UW_ERR_NOMEM;
        s->pages[i].pno = p + 1;
        s->count++;
    }
    return 0;
}

void mm_space_unmap(mm_space *s, uint64_t addr, size_t len)
{
    uint64_t p, first = addr / MM_PAGE, last = (addr + len + MM_PAGE - 1) / MM_PAGE;
    s->hot_mem = NULL;
    memset(s->dm_mem, 0, sizeof s->dm_mem);
    /* Unmapping leaves a tombstone-free table only if rebuilt: rebuild. */
    for (p = first; p < last; p++) {
        mm_page *pg = mm_find(s, p);
        if (pg != NULL) {
            free(pg->mem);
            pg->mem = NULL;
        }
    }
    {
        mm_page *old = s->pages;
        size_t oldcap = s->cap, i;
        s->pages = calloc(oldcap, sizeof *s->pages);
        UW_ASSERT(s->pages != NULL);
        s->count = 0;
        for (i = 0; i < oldcap; i++) {
            if (old[i].pno != 0 && old[i].mem != NULL) {
                size_t j = mm_slot(s, old[i].pno - 1);
                while (s->pages[j].pno != 0)
                    j = (j + 1) & (s->cap - 1);
                s->pages[j] = old[i];
                s->count++;
            }
        }
        free(old);
    }
}

int mm_space_read(const mm_space *s, uint64_t addr, void *dst, size_t len)
{
    uint8_t *d = dst;
    size_t done = 0;

    if (addr < 4096)
        return UW_ERR_READ_FAULT;
    if (addr % MM_PAGE + len <= MM_PAGE) { /* the common case: one page */
        const uint8_t *mem = mm_page_mem(s, addr / MM_PAGE);
        if (mem == NULL)
            return UW_ERR_READ_FAULT;
        memcpy(d, mem + addr % MM_PAGE, len);
        return 0;
    }
    while (done < len) {
        uint64_t a = addr + done;
        const uint8_t *mem;
        size_t off, n;
        if (a < addr) /* wrapped */
            return done ? UW_ERR_READ_SHORT : UW_ERR_READ_FAULT;
        mem = mm_page_mem(s, a / MM_PAGE);
        if (mem == NULL)
            return done ? UW_ERR_READ_SHORT : UW_ERR_READ_FAULT;
        off = (size_t)(a % MM_PAGE);
        n = MM_PAGE - off < len - done ? MM_PAGE - off : len - done;
        memcpy(d + done, mem + off, n);
        done += n;
    }
    return 0;
}

size_t mm_space_readable(const mm_space *s, uint64_t addr, size_t len)
{
    size_t done = 0;

    if (addr < 4096)
        return 0;
    while (done < len) {
        uint64_t a = addr + done;
        size_t n;
        if (a < addr || mm_page_mem(s, a / MM_PAGE) == NULL)
            break;
        n = MM_PAGE - (size_t)(a % MM_PAGE);
        done += n;
    }
    return done < len ? done : len;
}

int mm_space_write(mm_space *s, uint64_t addr, const void *src, size_t len)
{
    const uint8_t *p = src;
    size_t done = 0;

    if (addr % MM_PAGE + len <= MM_PAGE) { /* the common case: one page */
        uint8_t *mem = mm_page_mem(s, addr / MM_PAGE);
        if (mem == NULL)
            return UW_ERR_READ_FAULT;
        memcpy(mem + addr % MM_PAGE, src, len);
        return 0;
    }
    while (done < len) {
        uint64_t a = addr + done;
        uint8_t *mem = mm_page_mem(s, a / MM_PAGE);
        size_t off, n;
        if (mem == NULL)
            return UW_ERR_READ_FAULT;
        off = (size_t)(a % MM_PAGE);
        n = MM_PAGE - off < len - done ? MM_PAGE - off : len - done;
        memcpy(mem + off, p + done, n);
        done += n;
    }
    return 0;
}

void mm_space_put64(mm_space *s, uint64_t addr, uint64_t v)
{
    int rc = mm_space_write(s, addr, &v, 8);
    UW_ASSERT(rc == 0);
    (void)rc;
}

uint64_t mm_space_get64(const mm_space *s, uint64_t addr)
{
    uint64_t v = 0;
    (void)mm_space_read(s, addr, &v, 8);
    return v;
}

int mm_space_zero(mm_space *s, uint64_t addr, size_t len)
{
    size_t done = 0;
    while (done < len) {
        uint64_t a = addr + done;
        uint8_t *mem = mm_page_mem(s, a / MM_PAGE);
        size_t off, n;
        if (mem == NULL)
            return UW_ERR_READ_FAULT;
        off = (size_t)(a % MM_PAGE);
        n = MM_PAGE - off < len - done ? MM_PAGE - off : len - done;
        memset(mem + off, 0, n);
        done += n;
    }
    return 0;
}

static uint64_t mm_alloc_do(mm_space *s, size_t size, int clear)
{
    size_t cls = (size + 15) / 16;
    uint64_t a;

    if (size == 0)
        cls = 1;
    if (cls < MM_CLASSES && s->free_lists[cls] != NULL) {
        mm_free_block *b = s->free_lists[cls];
        a = b->addr;
        s->free_lists[cls] = b->next;
        free(b);
        if (clear) /* reuse: zeroed as the allocator would */
            (void)mm_space_zero(s, a, cls * 16);
        return a;
    }
    if (cls >= MM_CLASSES) {
        UW_ASSERT(s->big_top + size < MM_STACK_BASE);
        a = s->big_top;
        s->big_top += (size + 2 * MM_PAGE - 1) & ~(uint64_t)(MM_PAGE - 1);
    } else {
        UW_ASSERT(s->heap_top + cls * 16 < MM_HEAP_BASE + (1ull << 31));
        a = s->heap_top;
        s->heap_top += cls * 16;
    }
    if (mm_space_map(s, a, cls * 16) != 0)
        return 0;
    return a;
}

uint64_t mm_alloc(mm_space *s, size_t size)
{
    return mm_alloc_do(s, size, 1);
}

uint64_t mm_alloc_raw(mm_space *s, size_t size)
{
    return mm_alloc_do(s, size, 0);
}

void mm_free(mm_space *s, uint64_t addr, size_t size)
{
    size_t cls = (size + 15) / 16;
    mm_free_block *b;
    if (addr == 0 || cls == 0)
        return;
    if (cls >= MM_CLASSES) {
        if (size >= MM_BIG_FREE) /* whole pages of its own: unmapped */
            mm_space_unmap(s, addr, size);
        return;
    }
    b = malloc(sizeof *b);
    if (b == NULL)
        return;
    b->addr = addr;
    b->next = s->free_lists[cls];
    s->free_lists[cls] = b;
}

uint64_t mm_static(mm_space *s, size_t size)
{
    uint64_t a = s->image_top;
    s->image_top += (size + 63) & ~(uint64_t)63;
    if (mm_space_map(s, a, size) != 0)
        return 0;
    return a;
}
