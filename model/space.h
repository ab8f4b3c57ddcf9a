/*
 * space.h — the model's simulated address space.
 *
 * Sparse and page-granular (4 KiB pages in a hash table), as a process's
 * memory is: reads of unmapped pages, and of anything below 4096, fail with
 * UW_ERR_READ_FAULT; a read that runs into an unmapped page copies what it
 * can and fails with UW_ERR_READ_SHORT, as process_vm_readv does.  The heap
 * allocator reuses freed blocks of the same size class last-in first-out,
 * and freed memory stays mapped: a stale pointer reads whatever now lives
 * there, exactly the hazard the unwinder must survive.
 */
#ifndef TORNSTACK_MM_SPACE_H
#define TORNSTACK_MM_SPACE_H

#include <stddef.h>
#include <stdint.h>

#define MM_PAGE 4096u
#define MM_HEAP_BASE 0x7f3a00000000ull
#define MM_STACK_BASE 0x7f3b00000000ull /* data-stack chunks */
#define MM_IMAGE_BASE 0x7f3c00000000ull /* "libpython" static data: runtime, types */

typedef struct mm_space mm_space;

int mm_space_new(mm_space **out);
void mm_space_free(mm_space *s);

/* Map [addr, addr+len) (rounded out to pages), zero-filled. */
int mm_space_map(mm_space *s, uint64_t addr, size_t len);
void mm_space_unmap(mm_space *s, uint64_t addr, size_t len);

/* 0, UW_ERR_READ_FAULT (nothing readable at addr) or UW_ERR_READ_SHORT. */
int mm_space_read(const mm_space *s, uint64_t addr, void *dst, size_t len);
/* How many bytes from addr (at most len) can be read in one go: 0 below
 * 4096, at an unmapped page, or where the address wraps. */
size_t mm_space_readable(const mm_space *s, uint64_t addr, size_t len);

/* Write to mapped memory; UW_ERR_READ_FAULT if any page is unmapped. */
int mm_space_write(mm_space *s, uint64_t addr, const void *src, size_t len);
/* Clear mapped memory; UW_ERR_READ_FAULT if any page is unmapped. */
int mm_space_zero(mm_space *s, uint64_t addr, size_t len);
void mm_space_put64(mm_space *s, uint64_t addr, uint64_t v);
uint64_t mm_space_get64(const mm_space *s, uint64_t addr);

/* Heap allocation (16-byte aligned, zeroed); freed blocks are reused. */
uint64_t mm_alloc(mm_space *s, size_t size);
/* The same without clearing a reused block: it keeps what its last
 * object left there, as pymalloc's blocks do. */
uint64_t mm_alloc_raw(mm_space *s, size_t size);
/* Blocks of up to 8 KiB go back to their size class's free list (LIFO);
 * bigger ones (MM_BIG_FREE and up) are unmapped, as glibc returns its
 * mmap()ed blocks, so a stale pointer into one faults. */
void mm_free(mm_space *s, uint64_t addr, size_t size);
#define MM_BIG_FREE (128 * 1024)
/* Static data in the image area (never freed). */
uint64_t mm_static(mm_space *s, size_t size);

#endif
