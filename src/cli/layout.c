/*
 * layout.c — `tornstack layout MINOR`: the asyncio table tornstack uses
 * for 3.MINOR, as key=value lines (tests/live/check_asyncio_layout.py
 * compares it with live objects).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "internal/asyncio_layout.h"
#include "internal/layout.h"

int ts_cmd_layout(int argc, char **argv)
{
    const uw_asyncio_layout *al;
    long minor;
    char *end = NULL;
    const char *arg;

    if (argc != 3) {
        fprintf(stderr, "tornstack: usage: tornstack layout MINOR\n");
        return TS_EXIT_USAGE;
    }
    /* MINOR, or the whole version as users write it: 13 or 3.13 */
    arg = strncmp(argv[2], "3.", 2) == 0 ? argv[2] + 2 : argv[2];
    minor = strtol(arg, &end, 10);
    if (end == arg || *end != '\0' || minor < 0) {
        fprintf(stderr, "tornstack: layout takes a CPython minor version (13 or 3.13), not '%s'\n",
                argv[2]);
        return TS_EXIT_USAGE;
    }
    al = uw__asyncio_layout_for_minor((int)minor);
    if (al == NULL) {
        fprintf(stderr, "tornstack: no asyncio layout for 3.%ld\n", minor);
        return TS_EXIT_UNSUPPORTED;
    }
    printf("fut_loop=%d\nfut_state=%d\nfut_size=%d\ntask_fut_waiter=%d\ntask_coro=%d\n"
           "task_name=%d\ntask_size=%d\nstate_pending=%d\nholder_loop=%d\nasend_gen=%d\n"
           "deque_state=%d\ndeque_len=%d\nscheduled_tasks=%s\neager_tasks=%s\nrunning_loop_key=%s\n"
           "loop_ready=%s\n",
           al->fut_loop, al->fut_state, al->fut_size, al->task_fut_waiter, al->task_coro,
           al->task_name, al->task_size, al->state_pending, al->holder_loop, al->asend_gen,
           al->deque_state, al->deque_len, al->scheduled_tasks,
           al->eager_tasks ? al->eager_tasks : "", al->running_loop_key ? al->running_loop_key : "",
           al->loop_ready);
    printf("awaitee_depth=%d\nfut_callback0=%d\nfut_callbacks=%d\n", al->awaitee_depth,
           al->fut_callback0, al->fut_callbacks);
    if (al->debug_size > 0) {
        /* 3.14+: the Task list and awaited-by fields, and the thread and
         * interpreter fields of the generated table that the .AsyncioDebug
         * block also names (the live check compares all three sources). */
        const uw_layout *l = uw__layout_table_for_minor(al->py_minor);
        size_t n, i;
        const uw_asyncio_debug_field *f = uw__asyncio_debug_fields(&n);
        printf("fut_awaited_by=%d\nfut_is_task=%d\nfut_awaited_by_is_set=%d\ntask_node=%d\n"
               "asyncio_debug_size=%d\n",
               al->fut_awaited_by, al->fut_is_task, al->fut_awaited_by_is_set, al->task_node,
               al->debug_size);
        if (l != NULL)
            printf("tstate_impl_size=%d\ntstate_asyncio_running_loop=%d\n"
                   "tstate_asyncio_running_task=%d\ntstate_asyncio_tasks_head=%d\n"
                   "interp_size=%d\ninterp_asyncio_tasks_head=%d\nllist_next=%d\nllist_prev=%d\n"
                   "tstate_current_frame=%d\ntstate_base_frame=%d\n"
                   "tstate_embedded_base_frame=%d\ngen_iframe=%d\ngen_frame_state=%d\n"
                   "frame_stackpointer=%d\nframe_localsplus=%d\nframe_code=%d\n"
                   "frame_previous=%d\nframe_owner=%d\nstackref_borrow_mask=%d\n"
                   "stackref_tag_bits=%d\nstackref_null=%d\nstate_created=%d\n"
                   "state_suspended=%d\nstate_suspended_yield_from=%d\n"
                   "state_suspended_yield_from_locked=%d\nstate_executing=%d\n"
                   "state_completed=%d\nstate_cleared=%d\nowner_thread=%d\n"
                   "owner_generator=%d\nowner_interpreter=%d\nowner_cstack=%d\n",
                   l->tstate_impl_size, l->tstate_asyncio_running_loop,
                   l->tstate_asyncio_running_task, l->tstate_asyncio_tasks_head, l->interp_size,
                   l->interp_asyncio_tasks_head, l->llist_next, l->llist_prev,
                   l->tstate_current_frame, l->tstate_base_frame, l->tstate_embedded_base_frame,
                   l->gen_iframe, l->gen_frame_state, l->frame_stackpointer, l->frame_localsplus,
                   l->frame_code, l->frame_previous, l->frame_owner, l->stackref_borrow_mask,
                   l->stackref_tag_bits, l->stackref_null, l->state_created, l->state_suspended,
                   l->state_suspended_yield_from, l->state_suspended_yield_from_locked,
                   l->state_executing, l->state_completed, l->state_cleared, l->owner_thread,
                   l->owner_generator, l->owner_interpreter, l->owner_cstack);
        for (i = 0; i < n; i++)
            printf("asyncio_debug.%s=%u\n", f[i].name, (unsigned)f[i].at);
    }
    return TS_EXIT_OK;
}
