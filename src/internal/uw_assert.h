/*
 * uw_assert.h — assertions that stay on.
 *
 * UW_ASSERT(cond) checks cond in every build, NDEBUG or not: the model,
 * the property tests, the fuzzers and `tornstack verify` prove the
 * unwinder right only if its own invariants are checked while they run,
 * and their builds are release builds.  A failed assertion prints the
 * condition and where it is, and aborts.
 *
 * The one way out is to build with TORNSTACK_NO_ASSERT (CMake option of
 * the same name), for a library that will never run any of those: such a
 * build leaves the tests and fuzz targets out, and tornstack-verify
 * refuses to run (uw__require_assertions), as a simulator that cannot
 * check itself proves nothing.
 *
 * Use UW_ASSERT for what cannot happen whatever the target's memory holds;
 * what target memory can make happen is an error code, never an assertion.
 */
#ifndef TORNSTACK_UW_ASSERT_H
#define TORNSTACK_UW_ASSERT_H

#ifdef TORNSTACK_NO_ASSERT
#define UW_ASSERT(cond) ((void)sizeof((cond) ? 1 : 0))
#else
#define UW_ASSERT(cond) ((cond) ? (void)0 : uw__assert_fail(#cond, __FILE__, __LINE__, __func__))
#endif

/* Report a failed assertion on stderr and abort. */
_Noreturn void uw__assert_fail(const char *cond, const char *file, int line, const char *func);

/* 1 when the library was built with assertions, 0 under TORNSTACK_NO_ASSERT. */
int uw__assertions_on(void);

/* For programs that check the unwinder (tornstack-verify): when the library
 * was built without assertions, say so on stderr and exit with status 2. */
void uw__require_assertions(const char *program);

#endif /* TORNSTACK_UW_ASSERT_H */
