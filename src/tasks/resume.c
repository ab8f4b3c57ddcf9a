/*
 * resume.c — where a suspended coroutine goes on, remembered per code
 * object: the RESUME that tells an await from a plain yield.
 *
 * On 3.11 and 3.12 a suspended coroutine's state does not say whether it
 * awaits (frame.h), and every chain level reads the RESUME after its
 * YIELD_VALUE to know (chains.c, uw_awaitee_queue): two bytes inside the
 * code object, on a page of code the chains' snapshot then holds too.  On
 * the busy program (3.12.1, 530 Tasks) those pages were some 270 of the
 * snapshot's 680, 1.3 MB a sample.  An await's RESUME is written by the
 * compiler; the interpreter rewrites only its opcode (quickened,
 * instrumented), never its location bits, and a rewritten one is taken as
 * an await as before (uw__gen_await_at_resume).  So the two bytes of a
 * RESUME are remembered by its address, with the code object they lie in
 * and the serial of that code object's cache entry, and read again only
 * when the code object may be another one.
 *
 * Remembered: a RESUME read for real when the code cache held an entry
 * for its code object then (a serial), once the sample's resolve
 * (uw__frames_from_copies, after the chains) validated that very entry:
 * the object at that address was the one named by the entry when read,
 * and still is.  Used: when the entry the cache holds for the code object
 * at the chain read has that serial; the use is noted, and after resolve
 * each use whose code object's entry was not validated with that serial
 * (reloaded: another code object now stands there, or none) leaves its
 * Task untrusted (resume_stale: the chain check skips it as changed).  A
 * still process never meets that: its code objects stay.
 *
 * Bounds: UW_RESUME_SLOTS remembered RESUMEs (open addressing,
 * UW_RESUME_PROBE slots looked at; a new one replaces the slot it hashes
 * to), and UW_TASK_FRAMES_MAX uses and reads noted a chain read (past
 * them a RESUME is read for real, and not remembered).
 */
#include <stdlib.h>

#include "internal/rules.h"
#include "tasks_int.h"

/* The slot where a lookup of `at` begins. */
static size_t uw_resume_home(uint64_t at)
{
    return (size_t)((at >> 1) * 0x9e3779b97f4a7c15ull >> 40) & (UW_RESUME_SLOTS - 1);
}

/* The slot holding `at`, or SIZE_MAX. */
static size_t uw_resume_find(const uw__resume_slot *m, uint64_t at)
{
    size_t h = uw_resume_home(at), k;

    for (k = 0; k < UW_RESUME_PROBE; k++, h = (h + 1) & (UW_RESUME_SLOTS - 1))
        if (m[h].at == at && m[h].state != UW_RESUME_EMPTY)
            return h;
    return SIZE_MAX;
}

int uw__resume_recall(uw_tasks *t, size_t task, uint64_t code, uint64_t at, uint8_t out[2])
{
    uw__resume_use *use;
    uint64_t serial;
    size_t h;

    if (t->resume == NULL || (h = uw_resume_find(t->resume, at)) == SIZE_MAX)
        return 0;
    if (t->resume[h].state != UW_RESUME_KNOWN || t->resume[h].code != code)
        return 0;
    serial = uw__code_serial(t->u, code, 0);
    if (serial == 0 || serial != t->resume[h].serial ||
        uw__view_reserve(&t->sc.rs_used, t->n_resume_used + 1) != 0)
        return 0;
    use = (uw__resume_use *)(void *)t->sc.rs_used.p + t->n_resume_used++;
    *use = (uw__resume_use){task, code, serial};
    out[0] = t->resume[h].op;
    out[1] = t->resume[h].arg;
    t->resume_recalled++;
    return 1;
}

void uw__resume_read(uw_tasks *t, uint64_t code, uint64_t at, const uint8_t b[2])
{
    const uint64_t serial = uw__code_serial(t->u, code, 0);
    size_t h, k;

    if (serial == 0)
        return; /* no entry to vouch for it after resolve */
    if (t->resume == NULL && (t->resume = calloc(UW_RESUME_SLOTS, sizeof *t->resume)) == NULL)
        return;
    if (uw__view_reserve(&t->sc.rs_read, t->n_resume_read + 1) != 0)
        return;
    if ((h = uw_resume_find(t->resume, at)) == SIZE_MAX) {
        h = uw_resume_home(at);
        for (k = 0; k < UW_RESUME_PROBE && t->resume[h].state != UW_RESUME_EMPTY; k++)
            h = (h + 1) & (UW_RESUME_SLOTS - 1);
        if (k == UW_RESUME_PROBE)
            h = uw_resume_home(at); /* full: the newest takes its home */
    }
    t->resume[h] = (uw__resume_slot){at, code, serial, b[0], b[1], UW_RESUME_READ};
    UW__SIZE(&t->sc.rs_read)[t->n_resume_read++] = h;
}

void uw__resume_settle(uw_tasks *t)
{
    const uw__resume_use *use = (const uw__resume_use *)(const void *)t->sc.rs_used.p;
    size_t k;

    for (k = 0; k < t->n_resume_used; k++)
        if (UW_RULE(resume_memo_same_code) &&
            uw__code_serial(t->u, use[k].code, 1) != use[k].serial)
            t->work[use[k].task].resume_stale = 1;
    for (k = 0; k < t->n_resume_read; k++) {
        uw__resume_slot *m = &t->resume[UW__SIZE(&t->sc.rs_read)[k]];
        if (m->state != UW_RESUME_READ)
            continue; /* replaced since, or settled already */
        m->state =
            uw__code_serial(t->u, m->code, 1) == m->serial ? UW_RESUME_KNOWN : UW_RESUME_EMPTY;
    }
    t->n_resume_used = 0;
    t->n_resume_read = 0;
}

void uw__resume_free(uw_tasks *t)
{
    free(t->resume);
    t->resume = NULL;
}
