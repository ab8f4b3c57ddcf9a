/*
 * layout.c — `tornstack layout MINOR`: the asyncio table tornstack uses
 * for 3.MINOR, as key=value lines (tests/live/check_asyncio_layout.py
 * compares it with live objects).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "internal/asyncio_layout.h"

int ts_cmd_layout(int argc, char **argv)
{
    const uw_asyncio_layout *al;
    long minor;
    char *end = NULL;

    if (argc != 3) {
        fprintf(stderr, "tornstack: usage: tornstack layout MINOR\n");
        return TS_EXIT_USAGE;
    }
    minor = strtol(argv[2], &end, 10);
    al = (end != argv[2] && *end == '\0') ? uw__asyncio_layout_for_minor((int)minor) : NULL;
    if (al == NULL) {
        fprintf(stderr, "tornstack: no asyncio layout for 3.%s\n", argv[2]);
        return TS_EXIT_UNSUPPORTED;
    }
    printf("fut_loop=%d\nfut_state=%d\nfut_size=%d\ntask_fut_waiter=%d\ntask_coro=%d\n"
           "task_name=%d\ntask_size=%d\nstate_pending=%d\nholder_loop=%d\nasend_gen=%d\n"
           "deque_state=%d\nscheduled_tasks=%s\neager_tasks=%s\nrunning_loop_key=%s\n"
           "loop_ready=%s\n",
           al->fut_loop, al->fut_state, al->fut_size, al->task_fut_waiter, al->task_coro,
           al->task_name, al->task_size, al->state_pending, al->holder_loop, al->asend_gen,
           al->deque_state, al->scheduled_tasks, al->eager_tasks ? al->eager_tasks : "",
           al->running_loop_key ? al->running_loop_key : "", al->loop_ready);
    return TS_EXIT_OK;
}
