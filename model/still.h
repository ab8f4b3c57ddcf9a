/*
 * still.h — fabricate a still process from a description, for the fidelity
 * test: the model must lay out objects exactly as CPython does, so a
 * description of a live scenario, fabricated here and dumped by the
 * unchanged unwinder, must give the same dump as the live process.
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
 * Lines starting with '#' are comments.
 */
#ifndef TORNSTACK_MM_STILL_H
#define TORNSTACK_MM_STILL_H

#include <stdio.h>

/* Fabricate the description for CPython 3.<minor>, unwind it once and print
 * the JSON dump to out.  Returns 0, UW_ERR_FORMAT on a bad description,
 * or another error. */
int mm_still_dump(FILE *desc, int minor, FILE *out);

#endif
