/*
 * failalloc.h — a failing allocator for the test binaries, in the manner
 * of Lua's ltests.c, without touching the library's source.
 *
 * A binary linked with
 *     -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=free
 * sends every allocation made by its own objects and static libraries
 * (tornstack_core, tornstack_profile, the model, the test helpers) through
 * the __wrap_* functions of failalloc.c; calls made inside shared
 * libraries (libc's stdio, libprotobuf-c, zlib, cmocka) are not wrapped.
 *
 * Between fa_start and fa_stop every allocation is counted, the one
 * numbered fail_at (1-based; 0: none) fails as malloc does (NULL, nothing
 * allocated), and every block allocated and not freed yet is remembered,
 * so that fa_live() says what the code under test leaked.  Blocks that
 * existed before fa_start are not remembered: freeing one is ignored, and
 * resizing one with realloc (which may fail, and is counted) keeps it
 * unremembered.  The tracked window must therefore hold the creation and
 * the destruction of everything the code under test allocates.
 *
 * Single-threaded, like the tests that use it.
 */
#ifndef TORNSTACK_TEST_FAILALLOC_H
#define TORNSTACK_TEST_FAILALLOC_H

#include <stddef.h>
#include <stdint.h>

/* Start counting (and remembering) allocations; fail the fail_at-th. */
void fa_start(uint64_t fail_at);
/* Stop: allocations are plain again.  What was counted stays readable. */
void fa_stop(void);
/* Allocations attempted since fa_start (the failed one included). */
uint64_t fa_allocs(void);
/* 1 when the fail_at-th allocation was reached and failed. */
int fa_failed(void);
/* Blocks allocated since fa_start and not freed. */
size_t fa_live(void);

/* The wrappers the linker sends allocations to. */
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);

#endif /* TORNSTACK_TEST_FAILALLOC_H */
