/*
 * error.h — the unwinder's error and reason codes.
 *
 * Every fallible function returns 0 or one of these negative codes; results
 * travel through out-parameters.  The same codes double as the reason a walk
 * was cut short (uw_thread.truncated): a walk that hit the frame bound says
 * UW_ERR_LIMIT_FRAMES, one that met a cycle says UW_ERR_CYCLE.  Each code has
 * a sentence (uw_strerror) for people and a stable short name (uw_errname)
 * for JSON output and scripts.  errno is never part of the API.
 */
#ifndef TORNSTACK_ERROR_H
#define TORNSTACK_ERROR_H

#define UW_ERRORS(X)                                                                               \
    X(UW_ERR_NOMEM, -1, "nomem", "out of memory")                                                  \
    X(UW_ERR_INVALID_ARG, -2, "invalid_arg", "invalid argument")                                   \
    X(UW_ERR_READ_FAULT, -3, "read_fault",                                                         \
      "target address is not mapped (garbage or freed pointer)")                                   \
    X(UW_ERR_READ_SHORT, -4, "read_short", "read of target memory came back short")                \
    X(UW_ERR_NO_PROCESS, -5, "no_process", "no such process")                                      \
    X(UW_ERR_PERMISSION, -6, "permission", "permission denied reading the process")                \
    X(UW_ERR_NOT_PYTHON, -7, "not_python", "not a Python process (no _PyRuntime found)")           \
    X(UW_ERR_UNSUPPORTED_VERSION, -8, "unsupported_version",                                       \
      "unsupported Python version (3.11 to 3.15 are supported)")                                   \
    X(UW_ERR_DEBUG_OFFSETS, -9, "debug_offsets_mismatch",                                          \
      "the target's debug offsets disagree with the layout tables")                                \
    X(UW_ERR_ELF_MALFORMED, -10, "elf_malformed", "malformed ELF file")                            \
    X(UW_ERR_ELF_NOT_FOUND, -11, "elf_not_found", "ELF symbol or section not found")               \
    X(UW_ERR_IO, -12, "io", "input/output error")                                                  \
    X(UW_ERR_BAD_LAYOUT, -13, "bad_layout", "layout table is inconsistent")                        \
    X(UW_ERR_LINETABLE, -14, "linetable_malformed", "malformed location table")                    \
    X(UW_ERR_STRING, -15, "string_malformed", "malformed string object")                           \
    X(UW_ERR_BAD_CODE, -16, "bad_code_object",                                                     \
      "frame points at something that is not a code object")                                       \
    X(UW_ERR_BAD_FRAME, -17, "bad_frame", "frame has an impossible owner")                         \
    X(UW_ERR_CYCLE, -18, "cycle", "cycle in a chain of target pointers")                           \
    X(UW_ERR_LIMIT_FRAMES, -19, "frame_limit", "frame chain longer than UW_LIMIT_FRAMES")          \
    X(UW_ERR_LIMIT_THREADS, -20, "thread_limit", "more threads than UW_LIMIT_THREADS")             \
    X(UW_ERR_LIMIT_INTERPRETERS, -21, "interpreter_limit",                                         \
      "more interpreters than UW_LIMIT_INTERPRETERS")                                              \
    X(UW_ERR_CAPACITY, -22, "capacity", "more items than the caller's buffer holds")               \
    X(UW_ERR_LIMIT_CHUNK_SIZE, -23, "chunk_size", "data-stack chunk size outside its bounds")      \
    X(UW_ERR_LIMIT_STRING, -24, "string_limit",                                                    \
      "string longer than UW_LIMIT_STRING_CHARS (truncated)")                                      \
    X(UW_ERR_LIMIT_LINETABLE, -25, "linetable_limit",                                              \
      "location table longer than UW_LIMIT_LINETABLE_BYTES")                                       \
    X(UW_ERR_DEPTH, -26, "depth", "stopped at the requested maximum depth")                        \
    X(UW_ERR_READ_BUDGET, -27, "read_budget", "read budget of the sample exhausted")               \
    X(UW_ERR_MAPS, -28, "maps_malformed", "malformed /proc/PID/maps line")                         \
    X(UW_ERR_BAD_THREAD, -29, "bad_thread", "thread state is inconsistent")                        \
    X(UW_ERR_FORMAT, -30, "format", "malformed input file")                                        \
    X(UW_ERR_NOT_FOUND, -31, "not_found", "key or attribute not found")                            \
    X(UW_ERR_BAD_OBJECT, -32, "bad_object", "object is not of the expected type")                  \
    X(UW_ERR_LIMIT_DICT, -33, "dict_limit", "dict larger than UW_LIMIT_DICT_ENTRIES")              \
    X(UW_ERR_LIMIT_SET, -34, "set_limit", "set table larger than UW_LIMIT_SET_SLOTS")              \
    X(UW_ERR_LIMIT_TASKS, -35, "task_limit", "more tasks than UW_LIMIT_TASKS")                     \
    X(UW_ERR_LIMIT_AWAIT, -36, "await_limit", "await chain longer than UW_LIMIT_AWAIT_CHAIN")      \
    X(UW_ERR_LIMIT_LINKS, -37, "link_limit", "link chain longer than UW_LIMIT_LINK_CHAIN")         \
    X(UW_ERR_LIMIT_GATHER, -38, "gather_limit", "gather future with too many children or nesting") \
    X(UW_ERR_LINK_CYCLE, -39, "link_cycle", "cycle in the Task parent links")                      \
    X(UW_ERR_AWAIT_CYCLE, -40, "await_cycle", "cycle in a coroutine await chain")                  \
    X(UW_SKIP_NOT_ON_STACK, -41, "running_task_not_on_stack",                                      \
      "Task reads as running but its coroutine frame is not on the thread stack")                  \
    X(UW_SKIP_CODE_MISMATCH, -42, "task_frame_code_mismatch",                                      \
      "frame at the running Task's coroutine address runs other code")                             \
    X(UW_SKIP_CLAIMED_TWICE, -43, "frame_claimed_twice",                                           \
      "a thread-stack frame is claimed by two running Tasks")                                      \
    X(UW_SKIP_BAD_CORO, -44, "bad_coroutine",                                                      \
      "Task's coroutine fails its type or frame-owner check")                                      \
    X(UW_SKIP_THREAD_TRUNCATED, -45, "thread_walk_truncated",                                      \
      "the thread walk was cut short, so running Tasks cannot be placed")                          \
    X(UW_SKIP_UNCLAIMED, -46, "unclaimed_coroutine_frames",                                        \
      "coroutine frames above Handle._run belong to no running Task")                              \
    X(UW_SKIP_TASK_UNREADABLE, -47, "task_unreadable", "Task object could not be read")            \
    X(UW_ERR_INCOMPLETE, -49, "incomplete",                                                        \
      "walk ended before the thread's first frame (a frame unlinked while read)")                  \
    X(UW_SKIP_TASK_CHANGED, -48, "task_changed_while_read",                                        \
      "the Task or a coroutine of its chain changed while it was being read")                      \
    X(UW_SKIP_RUNNING_TORN, -50, "running_task_frames_changed",                                    \
      "the running Task's frames changed while the thread was walked, twice")                      \
    X(UW_SKIP_LOOP_STEPPED, -51, "loop_stepped_while_read",                                        \
      "the loop started callbacks while the Task's chain was read and checked")                    \
    X(UW_ERR_LIMIT_STACK, -52, "stack_limit", "composed stack longer than UW_LIMIT_STACK_ITEMS")   \
    X(UW_ERR_UNSUPPORTED_BUILD, -53, "unsupported_build",                                          \
      "unsupported CPython build (free-threaded, or a pre-release the layout tables do not "       \
      "describe)")                                                                                 \
    X(UW_ERR_LIMIT_PROFILE_STACKS, -54, "profile_stack_limit",                                     \
      "profile holds UW_LIMIT_PROFILE_STACKS distinct stacks already")                             \
    X(UW_ERR_LIMIT_PROFILE_FRAMES, -55, "profile_frame_limit",                                     \
      "profile holds UW_LIMIT_PROFILE_FRAMES distinct frames already")                             \
    X(UW_ERR_LIMIT_PROFILE_ITEMS, -56, "profile_item_limit",                                       \
      "profile's stacks hold UW_LIMIT_PROFILE_ITEMS frames already")                               \
    X(UW_ERR_LIMIT_LABEL, -57, "label_limit",                                                      \
      "folded frame label longer than UW_LIMIT_FOLDED_LABEL")                                      \
    X(UW_ERR_LIMIT_COUNT, -58, "count_limit", "sample count above UW_LIMIT_PROFILE_COUNT")         \
    X(UW_ERR_NOT_BUILT, -59, "not_built",                                                          \
      "this output format was not built in (see docs/output.md)")                                  \
    X(UW_ERR_PTRACE, -60, "ptrace_refused",                                                        \
      "the target's threads cannot be stopped (ptrace refused)")                                   \
    X(UW_ERR_STOP_TIMEOUT, -61, "stop_timeout",                                                    \
      "a thread of the target did not stop within UW_PAUSE_STOP_TIMEOUT_MS")                       \
    X(UW_ERR_LIMIT_TVD_TOTAL, -62, "compare_count_limit",                                          \
      "a count, or one compared profile's counts together, past UW_TVD_LIMIT_TOTAL")               \
    X(UW_ERR_TASK_LIST_CYCLE, -63, "task_list_cycle",                                              \
      "a list of native Tasks (3.14+) loops without coming back to its head")                      \
    X(UW_ERR_LIMIT_TASK_LIST, -64, "task_list_limit",                                              \
      "a list of native Tasks (3.14+) longer than UW_LIMIT_TASK_LIST")                             \
    X(UW_ERR_TASK_LIST_TORN, -65, "task_list_torn",                                                \
      "a list of native Tasks (3.14+) changed while it was followed, every time it was tried")     \
    X(UW_ERR_TASK_LIST_ROUNDS, -66, "task_list_rounds",                                            \
      "lists of native Tasks (3.14+) not followed to their ends within UW_LIMIT_TASK_LIST_ROUNDS " \
      "reads, or the sample's UW_LIMIT_TASK_LIST_READS (the next sample goes on)")                 \
    X(UW_SKIP_NO_PURE_STACK, -67, "pure_stack_not_found",                                          \
      "the thread walk was cut short: no pure Python stack roots the Task's stack")                \
    X(UW_SKIP_STALE_PLACE, -68, "loop_stepped_since_walk",                                         \
      "the loop started a callback between the thread walk and the check: what ran at the walk "   \
      "is not vouched for")                                                                        \
    X(UW_SKIP_AWAITER_UNKNOWN, -69, "awaiter_unknown",                                             \
      "a Task of its loop began to await something not read, or (3.14+) named it as its awaiter "  \
      "in one copy of the check only: which Tasks await it, or which it awaits, is not known")     \
    X(UW_ERR_ENTERING_EVAL, -70, "thread_entering_eval",                                           \
      "the thread was entering or leaving the eval loop (3.11/3.12): its cframe was published "    \
      "without its current frame")                                                                 \
    X(UW_SKIP_EPOCH_LIMIT, -71, "epoch_limit",                                                     \
      "more loop threads than UW_EPOCH_THREADS: the thread was walked without its loop's epoch, "  \
      "so nothing vouches for the chains of that loop's Tasks")                                    \
    X(UW_ERR_NO_CLOCK, -72, "no_clock",                                                            \
      "no run clock for the thread at this point of the sample (the reader has none, or has "      \
      "read memory already)")                                                                      \
    X(UW_ERR_LIMIT_CANDIDATES, -73, "candidate_limit",                                             \
      "more registry entries or Task-list nodes than UW_LIMIT_TASK_CANDIDATES: those past it "     \
      "are not read")                                                                              \
    X(UW_ERR_LIMIT_AWAITED_BY, -74, "awaited_by_limit",                                            \
      "3.14+: more awaiting links than UW_LIMIT_AWAITED_BY, or a Task awaited by more than "       \
      "UW_LIMIT_GATHER_CHILDREN Tasks: the Tasks on either side of a link not read are skipped")   \
    X(UW_ERR_LIMIT_REGISTRIES, -75, "registry_limit",                                              \
      "more interpreters with a running asyncio loop in one sample than UW_REGISTRY_CACHE: the "   \
      "Tasks of those past it are not read")                                                       \
    X(UW_ERR_LIMIT_LINK_RECORDS, -76, "link_record_limit",                                         \
      "more links than UW_LIMIT_LINK_RECORDS: the embedder's table is full, or the hook module's " \
      "buffer holds more records (the first are read)")                                            \
    X(UW_ERR_LIMIT_TVD_LINE, -77, "compare_line_limit",                                            \
      "a line of a compared profile longer than UW_TVD_LIMIT_LINE_BYTES")                          \
    X(UW_ERR_LIMIT_TVD_LINES, -78, "compare_lines_limit",                                          \
      "a compared profile of more lines than UW_TVD_LIMIT_LINES")                                  \
    X(UW_ERR_LIMIT_TVD_STACKS, -79, "compare_stack_limit",                                         \
      "more distinct stacks in the compared profiles than UW_TVD_LIMIT_STACKS")                    \
    X(UW_ERR_LIMIT_PROFILE_STRINGS, -80, "profile_string_limit",                                   \
      "more distinct names in a profile than its frame and stack bounds allow "                    \
      "(2 x UW_LIMIT_PROFILE_FRAMES + 2 x UW_LIMIT_PROFILE_STACKS + 1), or one of 4 GiB")

enum uw_error {
    UW_OK = 0,
#define UW_ERR_ENUM(name, value, tag, text) name = value,
    UW_ERRORS(UW_ERR_ENUM)
#undef UW_ERR_ENUM
        UW_ERR_MIN_ = -81
};

/* A sentence describing code (0 gives "success"). Never NULL. */
const char *uw_strerror(int code);

/* A short stable identifier ("frame_limit"); "ok" for 0, "unknown" else. */
const char *uw_errname(int code);

#endif /* TORNSTACK_ERROR_H */
