/*
 * plain.c — a Task that began to await a Future that holds no Task.
 *
 * A Task whose chain moved between its read and the check shows no links,
 * and when its fut_waiter at the check is neither nothing nor a Task of the
 * sample, what it awaits is not known: a gather made since could hold any
 * Task of its loop, so those with no known awaiter are skipped
 * (awaiter_unknown, edges.c).  Most such waiters hold nothing: a stream
 * waiting for data, a sleep, a lock.  A Future that is not a gather links
 * no Task under its awaiter in what the walk shows (only a gather's
 * children are read; from 3.14 the awaited side records its awaiter
 * itself, awaited_by.c), so a Task awaiting one at the check awaits no
 * Task then.
 *
 * The waiter's type is read after the check, and must be the type of the
 * object the check saw there.  One vectored read straight after the
 * check, three ordered groups: [epochs][each waiter's ob_type][epochs].  A
 * waiter counts as plain when its loop's epoch read, in both groups, what
 * both readings of the check read, and its type makes a Future that is
 * not a gather (types.c).  Why that is enough: with the epoch unmoved from
 * the check's first reading to this read's last, no callback started in
 * between, so the Task ran in that span only if its step was already
 * running when it began.  Then it resumed before the check (fut_waiter is
 * cleared when a step begins and set when it suspends), and the waiter the
 * check read is either the one it resumed from, which was done, and a done
 * gather holds no pending Task, or the one it suspended on, which it holds
 * to the end of the span.  If it did not run, it held the waiter the whole
 * span.  Held, the object cannot have been freed and its address reused,
 * so the type read is its type (rule plain_waiter_epoch: without the
 * epochs a gather made at a freed Future's address is taken for it).
 *
 * Bounds: one piece per Task of the sample (UW_LIMIT_TASKS) and two per
 * loop epoch (UW_TASK_EPOCHS); the types' verdicts are cached (types.c).
 * Only the first check's verdicts are so resolved: a recovery round reads
 * its Tasks at another instant, and the flag is cleared with the rest of
 * a Task's verdict (check.c).
 */
#include "internal/rules.h"
#include "internal/uw_assert.h"
#include "tasks_int.h"
#include "tornstack/error.h"

/* Would edges.c call what w awaits at the check unknown, for want of its
 * waiter's kind?  Its links moved, and its fut_waiter then was an object
 * that is no Task of the sample. */
static int uw_waiter_open(const uw_tasks *t, const uw_task_work *w)
{
    return !w->links_ok && w->waiter_now != UW_WAITER_UNKNOWN && w->waiter_now != 0 &&
           uw__task_find(t, w->waiter_now) < 0;
}

/* Which Tasks' waiters are so read: those edges.c would call unknown,
 * on a loop whose epoch stood through the check (otherwise the check gave
 * no instant to speak of).  They are listed first (`who`, with their
 * epoch's place), so the second epoch reading goes after their types; an
 * epoch or type that did not read leaves the Task as it was. */
int uw__plain_waiters(uw_tasks *t)
{
    uint64_t ea[UW_TASK_EPOCHS], eb[UW_TASK_EPOCHS];
    const size_t ne = t->n_ep;
    size_t i, k, n = 0, end[3];
    uint8_t *types;
    uw_iov *iov;
    size_t *who;
    int rc;

    UW_ASSERT(!t->recovering && ne <= UW_TASK_EPOCHS);
    if ((rc = uw__view_reserve(&t->sc.idx, 2 * t->n_work)) != 0)
        return rc;
    who = UW__SIZE(&t->sc.idx);
    for (i = 0; i < t->n_work; i++) {
        const uw_task_epoch *e = uw__epoch_of(t, t->work[i].thread);
        t->work[i].waiter_plain = 0;
        if (uw_waiter_open(t, &t->work[i]) && e != NULL && !e->moved) {
            who[2 * n] = i;
            who[2 * n + 1] = (size_t)(e - t->ep);
            n++;
        }
    }
    if (n == 0)
        return 0;
    if ((rc = uw__view_reserve(&t->sc.iov, n + 2 * ne)) != 0 ||
        (rc = uw__view_reserve(&t->sc.bytes, 8 * n)) != 0)
        return rc;
    iov = UW__IOV(&t->sc.iov);
    types = (uint8_t *)t->sc.bytes.p;
    for (k = 0; k < ne; k++) {
        iov[k] = (uw_iov){t->ep[k].counter, &ea[k], 8, 0};
        iov[ne + n + k] = (uw_iov){t->ep[k].counter, &eb[k], 8, 0};
    }
    for (i = 0; i < n; i++)
        iov[ne + i] = (uw_iov){t->work[who[2 * i]].waiter_now + (uint64_t)t->l->object_type,
                               types + 8 * i, 8, 0};
    end[0] = ne;
    end[1] = ne + n;
    end[2] = 2 * ne + n;
    (void)uw_readv_groups(t->r, iov, 2 * ne + n, end, 3);
    for (i = 0; i < n; i++) {
        const uw_task_epoch *e = &t->ep[who[2 * i + 1]];
        int still;

        k = who[2 * i + 1];
        still = iov[k].status == 0 && iov[ne + n + k].status == 0 && ea[k] == e->a && eb[k] == e->a;
        if (iov[ne + i].status != 0 || (UW_RULE(plain_waiter_epoch) && !still))
            continue;
        t->work[who[2 * i]].waiter_plain =
            uw__type_kind(t, uw__u64(types + 8 * i)) == UW_KIND_FUTURE;
    }
    return 0;
}
