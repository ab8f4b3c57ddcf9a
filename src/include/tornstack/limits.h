/*
 * limits.h — every bound the unwinder puts on data it reads from a target.
 *
 * Target memory is untrusted: a garbage pointer can make any chain look
 * endless and any length field look huge.  Each loop over target data stops
 * at one of these named bounds and reports its own error code (error.h), so
 * a cut-short walk says why.  Tests exercise each at limit-1, limit and
 * limit+1: the thread walk's in tests/unit/test_unwind.c, strings and
 * location tables in test_pystr.c and test_linetable.c, the Task walk's in
 * test_task_bounds.c and, at full size (UW_LIMIT_TASKS Tasks),
 * tests/pbt/test_scale.c, composed stacks in test_compose.c, profiles in
 * test_profile.c and test_tvd.c.
 *
 * Every value can be set at compile time (-DUW_LIMIT_TASKS=8); CMake's
 * TORNSTACK_LIMITS sets them for the library, the model, the fuzz targets
 * and the tests at once.  The small-limits preset builds with tiny values,
 * so that the unit and property tests run every limit path.
 */
#ifndef TORNSTACK_LIMITS_H
#define TORNSTACK_LIMITS_H

/* Frames visited per thread, hidden ones (shims, entry frames) included.
 * Peers walk 1024 (CPython 3.14), 1536 (CPython main) to 4096; 2048 covers
 * the default recursion limit (1000) with room for shims.  UW_ERR_LIMIT_FRAMES. */
#ifndef UW_LIMIT_FRAMES
#define UW_LIMIT_FRAMES 2048
#endif

/* Extra walks of one thread in one sample after a torn read (a frame
 * pushed or popped while it was copied).  After the last one the walk is
 * reported cut, with its reason.  A loop that switches Tasks every few
 * microseconds tears about every other walk: with 3 retries a tenth of
 * the samples of such a program lost every Task stack with the walk
 * (docs/tasks.md, "A thread walk cut short"). */
#ifndef UW_THREAD_RETRIES
#define UW_THREAD_RETRIES 8
#endif

/* Extra walks of all the threads of one sample together: every walk of a
 * thread after its first in a phase (its retries after a torn read, its
 * walks again past _run_once, the second round's walks again and their
 * retries).  Each thread still has its own UW_THREAD_RETRIES (or
 * UW_AGAIN_RETRIES), and the sample has this many in all.  The walks of a
 * loop seen for the first time, made again once its epoch is known
 * (src/tasks/walk.c), draw on what is left.  Without it a sample's walks
 * grew as threads x retries, and more in a new loop's first sample,
 * walked twice before its second round: the race fuzzer's first sample of
 * four loops torn on most walks (relaxed memory, where each ordered group
 * of a read is a call) made 33 walks, some 300 of its 527 reads, against
 * the model's bound of 512 reads
 * (corpus/race/regress/violation-local-11d84e07-four-loops-walk-reads). */
#ifndef UW_SAMPLE_RETRIES
#define UW_SAMPLE_RETRIES 16
#endif

/* The same, for a thread walked again later in the sample to find one
 * running Task's place (src/tasks/place.c, the second round): a walk cut
 * there costs that Task its place, not every Task its stack.  On a busy
 * loop such a walk that tore tears again: with 3, of the busy program's
 * second-round walks (3.12.1) half were cut after all three retries, some
 * 12 calls each, and a sample paid 15 calls there (docs/tasks.md). */
#ifndef UW_AGAIN_RETRIES
#define UW_AGAIN_RETRIES 1
#endif

/* Rounds of recovery in one sample: the Tasks the chain check found moved
 * (task_changed_while_read, loop_stepped_while_read) are read again from
 * their objects and checked again, on their own, this many times at most
 * before they are skipped (src/tasks/recover.c).  A round that keeps few
 * of many ends them.  3 at first, not 2: on the race program a third
 * round kept a quarter of the Tasks still skipped after two; a fourth
 * kept few more and cost the model's main job a fifth of its time.  5
 * since a round of a few Tasks goes on whatever it kept
 * (UW_RECOVER_AGAIN): on the race program (3.11.7, record at 100 Hz, 6 s,
 * three runs alternated) 109-118 Task readings of 7,800 were left skipped
 * with 3 rounds, 18-119 (median 24) with 5, and the model's main job took
 * as long.  Where every ordered group of a read is a call of its own, 3
 * still (UW_RECOVER_ROUNDS_SPLIT, docs/tasks.md). */
#ifndef UW_RECOVER_ROUNDS
#define UW_RECOVER_ROUNDS 5
#endif

/* Thread states per interpreter.  UW_ERR_LIMIT_THREADS. */
#ifndef UW_LIMIT_THREADS
#define UW_LIMIT_THREADS 4096
#endif

/* Interpreters per runtime.  UW_ERR_LIMIT_INTERPRETERS. */
#ifndef UW_LIMIT_INTERPRETERS
#define UW_LIMIT_INTERPRETERS 256
#endif

/* Data-stack chunks copied per thread walk, the current one included.
 * CPython's own reader copies up to 4096; a deep recursion needs about one
 * chunk per 90 frames, so 8 cover the common case.  Reaching the bound is
 * not a loss: frames in older chunks are then read one at a time, and the
 * walk stays bounded by UW_LIMIT_FRAMES. */
#ifndef UW_LIMIT_CHUNKS
#define UW_LIMIT_CHUNKS 8
#endif

/* Size of one data-stack chunk: CPython allocates 16 KiB and doubles for
 * big frames; its reader refuses more than 16 MiB.  UW_ERR_LIMIT_CHUNK_SIZE. */
#ifndef UW_DATA_STACK_CHUNK_SIZE
#define UW_DATA_STACK_CHUNK_SIZE (16 * 1024)
#endif
#ifndef UW_LIMIT_CHUNK_BYTES
#define UW_LIMIT_CHUNK_BYTES (16 * 1024 * 1024)
#endif

/* Code points kept of a name or file name; longer ones are cut and the frame
 * says so (UW_FRAME_NAME_TRUNCATED).  CPython's reader caps at 1024 too. */
#ifndef UW_LIMIT_STRING_CHARS
#define UW_LIMIT_STRING_CHARS 1024
#endif

/* Bytes of one location table.  CPython's own reader stops at 65536
 * entries; an entry takes 1 to about 20 bytes, and real functions stay far
 * below 512 KiB.  UW_ERR_LIMIT_LINETABLE. */
#ifndef UW_LIMIT_LINETABLE_BYTES
#define UW_LIMIT_LINETABLE_BYTES (512 * 1024)
#endif

/* Entries scanned in one dict (sys.modules, module globals, instance
 * dicts).  UW_ERR_LIMIT_DICT (in the sample's tasks_error when it hides
 * asyncio's registry). */
#ifndef UW_LIMIT_DICT_ENTRIES
#define UW_LIMIT_DICT_ENTRIES 65536
#endif

/* Slots of one set table (mask + 1); CPython's own reader refuses a mask
 * of 1<<20 or more.  UW_ERR_LIMIT_SET. */
#ifndef UW_LIMIT_SET_SLOTS
#define UW_LIMIT_SET_SLOTS (1 << 20)
#endif

/* Tasks read per interpreter and sample; CPython bounds its waiter walk at
 * 16384 tasks.  UW_ERR_LIMIT_TASKS. */
#ifndef UW_LIMIT_TASKS
#define UW_LIMIT_TASKS 16384
#endif

/* Candidate Task addresses per interpreter and sample: the registry sets'
 * entries once dead weakrefs are dropped, and from 3.14 the nodes of the
 * lists of native Tasks.  Candidates are not all Tasks that count: a done
 * Task still referenced, a dead weakref the WeakSet has not dropped yet, a
 * Task of a loop no thread runs.  So the live-Task bound (UW_LIMIT_TASKS,
 * task_limit) is applied to the Tasks kept, and the candidates have a
 * bound of their own above it; past it the rest are not read
 * (UW_ERR_LIMIT_CANDIDATES). */
#ifndef UW_LIMIT_TASK_CANDIDATES
#define UW_LIMIT_TASK_CANDIDATES (2 * UW_LIMIT_TASKS)
#endif

/* Nodes followed over the lists of native Tasks of one interpreter (3.14+:
 * each thread's, and the interpreter's list of Tasks of exited threads).
 * Past UW_LIMIT_TASKS Tasks the lists are still followed, without keeping
 * the Tasks, to tell a program with too many Tasks (UW_ERR_LIMIT_TASKS)
 * from lists that do not end within this bound (UW_ERR_LIMIT_TASK_LIST);
 * a list that loops elsewhere than through its head gives
 * UW_ERR_TASK_LIST_CYCLE. */
#define UW_LIMIT_TASK_LIST (2 * UW_LIMIT_TASKS)

/* Reads one sample spends following the lists of native Tasks past the
 * nodes it remembers from the last sample (a read takes the next unknown
 * node of every list, with the allocator pool around it).  Lists not at
 * their ends then give UW_ERR_TASK_LIST_ROUNDS with the Tasks found so
 * far; the next sample goes on from there.  Keeps a sample's reads within
 * a few hundred however the first sample meets the lists. */
#define UW_LIMIT_TASK_LIST_ROUNDS 320

/* ... and the sample's reads (its thread walks', discovery's so far)
 * past which no more rounds or attempts are read: the same
 * UW_ERR_TASK_LIST_ROUNDS.  A torn world (four loop threads, stores seen
 * out of order) can spend a hundred and more reads on its walks, and the
 * rounds then took the sample past 512 reads; on a live program the walks
 * take a few dozen and the rounds bound is met first. */
#define UW_LIMIT_TASK_LIST_READS 384

/* Awaiting links read from Tasks' awaited_by (3.14+: one awaiter, or a set
 * of them) per sample; links beyond are not made. */
#define UW_LIMIT_AWAITED_BY 65536

/* Coroutines followed down one Task's await chain (echion: 250).
 * UW_ERR_LIMIT_AWAIT. */
#ifndef UW_LIMIT_AWAIT_CHAIN
#define UW_LIMIT_AWAIT_CHAIN 250
#endif

/* Tasks followed up one parent chain (awaiter, strong or creation link)
 * (echion: 250).  UW_ERR_LIMIT_LINKS. */
#ifndef UW_LIMIT_LINK_CHAIN
#define UW_LIMIT_LINK_CHAIN 250
#endif

/* Children read from one gather future (the first ones are linked), and
 * gather futures nested inside one another (see UW_LIMIT_GATHER_ITEMS for
 * all gathers together).  UW_ERR_LIMIT_GATHER, in the
 * sample's tasks_error. */
#ifndef UW_LIMIT_GATHER_CHILDREN
#define UW_LIMIT_GATHER_CHILDREN 16384
#endif
#ifndef UW_LIMIT_GATHER_NESTING
#define UW_LIMIT_GATHER_NESTING 32
#endif

/* Items read from gather lists in one sample, over every gather and every
 * recovery round.  Each item that is not a Task of the sample costs a read
 * of its type, so a few long lists of plain futures could otherwise fill
 * the links' scratch memory (tasks_int.h sizes it from this bound).  A
 * list met past it is cut like one longer than UW_LIMIT_GATHER_CHILDREN:
 * its first items are linked, UW_ERR_LIMIT_GATHER in tasks_error. */
#ifndef UW_LIMIT_GATHER_ITEMS
#define UW_LIMIT_GATHER_ITEMS 65536
#endif

/* Items of one composed stack (frames of the loop, of every ancestor Task
 * and of the leaf Task, plus markers); compose.h.  UW_ERR_LIMIT_STACK. */
#ifndef UW_LIMIT_STACK_ITEMS
#define UW_LIMIT_STACK_ITEMS 65536
#endif

/* Types examined, the object's own and its bases, when deciding whether a
 * type is a Task (or a gather future, two types from _asyncio.Future): a
 * type found no closer is not one, and its objects are not Tasks. */
#ifndef UW_LIMIT_TYPE_BASES
#define UW_LIMIT_TYPE_BASES 16
#endif

/* Links in the API's table, and records read from the hook module's links
 * buffer (the first ones).  UW_ERR_LIMIT_LINK_RECORDS (from uw_tasks_link;
 * in the sample's tasks_error for the buffer). */
#ifndef UW_LIMIT_LINK_RECORDS
#define UW_LIMIT_LINK_RECORDS 65536
#endif

/* A profile (profile.h) aggregates composed stacks: at most this many
 * distinct stacks (UW_ERR_LIMIT_PROFILE_STACKS), distinct frames
 * (UW_ERR_LIMIT_PROFILE_FRAMES), and frames summed over its distinct stacks
 * (UW_ERR_LIMIT_PROFILE_ITEMS).  A stack past a bound is dropped and
 * counted under that reason; the rest of the recording is kept. */
#ifndef UW_LIMIT_PROFILE_STACKS
#define UW_LIMIT_PROFILE_STACKS (1u << 22)
#endif
#ifndef UW_LIMIT_PROFILE_FRAMES
#define UW_LIMIT_PROFILE_FRAMES (1u << 22)
#endif
#ifndef UW_LIMIT_PROFILE_ITEMS
#define UW_LIMIT_PROFILE_ITEMS (1u << 28)
#endif

/* Counts of one stack and of a whole profile stay exact as JSON numbers
 * (speedscope, HTML): at most 2^53.  UW_ERR_LIMIT_COUNT. */
#ifndef UW_LIMIT_PROFILE_COUNT
#define UW_LIMIT_PROFILE_COUNT (1ull << 53)
#endif

/* Bytes of one frame label in a folded file read back (a percent-escaped
 * qualname and file of up to UW_PYSTR_MAX_UTF8 bytes each fit).  The
 * frames of one line are bounded by UW_LIMIT_STACK_ITEMS.
 * UW_ERR_LIMIT_LABEL. */
#ifndef UW_LIMIT_FOLDED_LABEL
#define UW_LIMIT_FOLDED_LABEL 32768
#endif

/* Code objects the cache remembers; past that a new one replaces the one
 * validated longest ago near its hash (src/code_cache.c). */
#ifndef UW_CODE_CACHE_SLOTS
#define UW_CODE_CACHE_SLOTS 4096
#endif

/* Threads of one process held by a blocking session (src/pause/): the
 * same bound as the thread walk's.  UW_ERR_LIMIT_THREADS. */
#ifndef UW_PAUSE_LIMIT_THREADS
#define UW_PAUSE_LIMIT_THREADS UW_LIMIT_THREADS
#endif

/* Passes over /proc/PID/task when attaching: threads created by a thread
 * not attached yet are found by the next pass; the passes stop when one
 * finds nothing new.  A process that keeps creating threads faster than
 * they can be attached fails with UW_ERR_STOP_TIMEOUT after the last. */
#ifndef UW_PAUSE_SCAN_PASSES
#define UW_PAUSE_SCAN_PASSES 64
#endif

/* Time a thread has to report a stop after PTRACE_INTERRUPT (a thread in
 * uninterruptible sleep stops only when it wakes).  UW_ERR_STOP_TIMEOUT. */
#ifndef UW_PAUSE_STOP_TIMEOUT_MS
#define UW_PAUSE_STOP_TIMEOUT_MS 2000
#endif

/* A running thread of a blocking session is stopped by its own CPU-time
 * clock (src/pause/clock.c): after UW_PAUSE_CLOCK_MIN_NS (the least a
 * task-clock timer takes) plus a random part below
 * UW_PAUSE_CLOCK_SPREAD_NS of its CPU time, wide enough to cover many
 * passes of a busy loop; one not stopped so within UW_PAUSE_CLOCK_WAIT_MS
 * (it slept meanwhile) is interrupted instead. */
#ifndef UW_PAUSE_CLOCK_MIN_NS
#define UW_PAUSE_CLOCK_MIN_NS 10000
#endif
#ifndef UW_PAUSE_CLOCK_SPREAD_NS
#define UW_PAUSE_CLOCK_SPREAD_NS 1000000
#endif
#ifndef UW_PAUSE_CLOCK_WAIT_MS
#define UW_PAUSE_CLOCK_WAIT_MS 10
#endif
/* With clocks that count user time only, a thread's kernel share is taken
 * since its clock opened once this many clock ticks of CPU time have
 * passed since, over its whole life before that (src/pause/clock.c) */
#ifndef UW_PAUSE_CLOCK_TICKS_MIN
#define UW_PAUSE_CLOCK_TICKS_MIN 16
#endif

/* Threads whose loop epoch (the Task walk's proof that no callback ran
 * during a walk) is known; when full, a thread that has none gets the
 * entry of one that no longer runs that loop, else none: with more loop
 * threads the ones past the bound are walked without one, and every Task
 * of their loops is skipped as UW_SKIP_EPOCH_LIMIT (rule skip_past_epochs:
 * without the epoch the chain check proves nothing across steps). */
#ifndef UW_EPOCH_THREADS
#define UW_EPOCH_THREADS 64
#endif

/* Folded profiles read by `tornstack compare` (src/profile/tvd.c): bytes
 * of one line, lines of one file, distinct stacks of both files, and the
 * sum of one file's counts (2^62 keeps the exact TVD arithmetic within
 * 128 bits): UW_ERR_LIMIT_TVD_LINE, _LINES, _STACKS and _TOTAL. */
#ifndef UW_TVD_LIMIT_LINE_BYTES
#define UW_TVD_LIMIT_LINE_BYTES (16 * 1024 * 1024)
#endif
#ifndef UW_TVD_LIMIT_LINES
#define UW_TVD_LIMIT_LINES (1L << 28)
#endif
#ifndef UW_TVD_LIMIT_STACKS
#define UW_TVD_LIMIT_STACKS (1 << 20)
#endif
#ifndef UW_TVD_LIMIT_TOTAL
#define UW_TVD_LIMIT_TOTAL (1ULL << 62)
#endif

#endif /* TORNSTACK_LIMITS_H */
