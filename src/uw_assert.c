/*
 * uw_assert.c — the failure path of UW_ASSERT, and whether this build has
 * assertions at all (uw_assert.h).
 */
#include "internal/uw_assert.h"

#include <stdio.h>
#include <stdlib.h>

_Noreturn void uw__assert_fail(const char *cond, const char *file, int line, const char *func)
{
    fprintf(stderr, "tornstack: assertion failed: %s (%s:%d, %s)\n", cond, file, line, func);
    fflush(stderr);
    abort();
}

int uw__assertions_on(void)
{
#ifdef TORNSTACK_NO_ASSERT
    return 0;
#else
    return 1;
#endif
}

void uw__require_assertions(const char *program)
{
    if (uw__assertions_on())
        return;
    fprintf(stderr,
            "%s: this build has no assertions (TORNSTACK_NO_ASSERT); a check that cannot "
            "fail proves nothing: rebuild without it (e.g. cmake --preset verify)\n",
            program);
    exit(2);
}
