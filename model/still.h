/*
 * still.h — fabricate a still process from a description, for the fidelity
 * test: the model must lay out objects exactly as CPython does, so a
 * description of a live scenario, fabricated here and dumped by the
 * unchanged unwinder, must give the same dump as the live process.  The
 * same path fabricates registries of any size up to MM_STILL_TASKS, for
 * the Task walk's scale tests.
 *
 * Description (text, one record per line, tab-separated fields):
 *   loop  QUALNAME  FILE  LINE      the loop thread's frames, innermost first
 *   task  ID  NAME                  a Task (ID: any token, e.g. its hex id)
 *   frame QUALNAME  FILE  LINE      the last Task's coroutines, innermost first
 *   await ID                        the last Task awaits Task ID (fut_waiter);
 *                                   several: a gather future over them
 *   root  K                         the last Task is running: its root
 *                                   coroutine is loop frame K (0: innermost)
 *   link  CHILD PARENT KIND         a record of the hook module's _LINKS
 *                                   (KIND 1 strong, 2 creation)
 *   awaited_by ID                   3.14+: the last Task's task_awaited_by
 *                                   names Task ID; several: a set of them
 *   doctor WORD VALUE               write VALUE (decimal or 0x hex) over
 *                                   a word of the debug blocks checked at
 *                                   attach (mm_fab_debug_word names them:
 *                                   "free_threaded", a _Py_DebugOffsets
 *                                   field, an .AsyncioDebug word)
 * Lines starting with '#' are comments.
 *
 * From 3.14 the Tasks are on the thread's list of native Tasks in the
 * order they are described (not in the WeakSet), each the Future or Task
 * it awaits names it in its own awaited_by, and the innermost running
 * Task is the thread state's running Task.
 */
#ifndef TORNSTACK_MM_STILL_H
#define TORNSTACK_MM_STILL_H

#include <stdio.h>

#include "fabricate.h"
#include "tornstack/reader.h"
#include "tornstack/sample.h"
#include "tornstack/tasks.h"
#include "tornstack/unwind.h"

/* Bounds of a description; a record past one is a format error. */
#define MM_STILL_TASKS 65536 /* Tasks (more than UW_LIMIT_TASKS, to test it) */
#define MM_STILL_FRAMES 64   /* loop frames, and coroutines of one Task */
#define MM_STILL_AWAITS 4096 /* Tasks one Task awaits (a gather's children) */
#define MM_STILL_LINKS 1024  /* hook records */
#define MM_STILL_DOCTOR 16   /* doctored words */

/* A parsed description. */
typedef struct mm_still mm_still;

/* Parse a description.  Returns 0 with *out set (free it with
 * mm_still_free), UW_ERR_FORMAT on a bad or over-long description, or
 * UW_ERR_NOMEM. */
int mm_still_parse(FILE *desc, mm_still **out);
void mm_still_free(mm_still *d);

/* A description fabricated for one version and sampled once.  The sample's
 * frame names point into the unwinder's cache: valid until mm_still_end. */
typedef struct mm_still_run {
    mm_space *sp;
    mm_image im;
    uw_reader reader;
    uw_unwinder *u;
    uw_tasks *t;
    uw_sample s;
    char why[512]; /* why the attach-time checks refused it */
} mm_still_run;

/* Fabricate d for CPython 3.<minor>, pass the attach-time checks a live
 * target passes (mm_fab_attach_check: a doctored block is refused here,
 * its sentence in run->why) and take one sample with the unchanged
 * unwinder (threads, then Tasks found through sys.modules or, 3.14+, the
 * Task lists).  Returns 0 or the error of the fabrication, the checks or
 * the sample; call mm_still_end either way. */
int mm_still_sample(mm_still_run *run, mm_still *d, int minor);
void mm_still_end(mm_still_run *run);

/* Fabricate the description for CPython 3.<minor>, unwind it once and print
 * the JSON dump to out.  Returns 0, UW_ERR_FORMAT on a bad description,
 * or another error (with a sentence in why, when there is one). */
int mm_still_dump(FILE *desc, int minor, FILE *out, char *why, size_t whylen);

#endif
