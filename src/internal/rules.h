/*
 * rules.h — the rules that keep a sample true, each one switchable at build
 * time so that a test can prove it necessary.
 *
 * Every skip rule of the Task walk, every comparison of the chain check and
 * of the thread walk's re-read, the parent precedence and compose's refusals
 * is written with UW_RULE(name), which is 1 unless the library is built with
 * -DTORNSTACK_DROP_RULE_name (CMake: -DTORNSTACK_DROP_RULE=name): such a
 * build is a mutant with that one rule taken out.  scripts/mutate.sh builds
 * each mutant in turn, runs the fast model checks, and reports which kill
 * it; every rule must be killed by one (docs/tasks.md, "Rules proven
 * necessary").  mutate.sh takes the rules from the `RULE name:` lines of
 * this file.
 */
#ifndef TORNSTACK_RULES_H
#define TORNSTACK_RULES_H

#define UW_RULE(name) UW__RULE_##name

/* --- The thread walk's re-read (src/unwind/recheck.c) --- */

/* RULE recheck_innermost_ip: the innermost frame's instruction pointer reads
 * back unchanged too (a call that returned and a new call of the same code
 * in the same slot, between the walk and its re-read). */
#ifdef TORNSTACK_DROP_RULE_recheck_innermost_ip
#define UW__RULE_recheck_innermost_ip 0
#else
#define UW__RULE_recheck_innermost_ip 1
#endif

/* RULE recheck_pointer_first: the current-frame pointer is read back before
 * the frames as well as after them (it may leave the walk's first frame
 * and come back to it, a return and a new call in the same slot, while the
 * frames are read twice). */
#ifdef TORNSTACK_DROP_RULE_recheck_pointer_first
#define UW__RULE_recheck_pointer_first 0
#else
#define UW__RULE_recheck_pointer_first 1
#endif

/* RULE recheck_drop_top_linked: with the bracket unmoved, the frames above
 * the split are dropped (and the split rootward kept) only when the
 * current-frame pointer read on the walk's first frame before and after
 * the re-read: the callback may end without a new one starting (the epoch
 * moves when the next handle is popped), and then _run_once moves on to
 * its next call under a Handle._run frame that still reads as it did. */
#ifdef TORNSTACK_DROP_RULE_recheck_drop_top_linked
#define UW__RULE_recheck_drop_top_linked 0
#else
#define UW__RULE_recheck_drop_top_linked 1
#endif

/* RULE anchor_split_site: a walk the loop's epoch moved under keeps the
 * frames from the split rootward only when the split's caller read, both
 * times, at the call site where a walk proven one instant's found it
 * calling the split frame, or at a call its code shows to be `x._run()`
 * (else _run_once may have moved on to select or to the next handle's
 * popleft under a Handle._run frame left as it was). */
#ifdef TORNSTACK_DROP_RULE_anchor_split_site
#define UW__RULE_anchor_split_site 0
#else
#define UW__RULE_anchor_split_site 1
#endif

/* RULE recheck_unbracketed_split_site: a walk without a bracket (a loop
 * thread past UW_EPOCH_THREADS, or a thread whose epoch could not be read)
 * that found the split keeps it only when the split's caller stands at the
 * call that makes a Handle._run frame (a site remembered from a walk proven
 * one instant's, or one its code shows to be `x._run()`).  Two reads that
 * agree prove nothing when the slot above _run_once went from Handle._run
 * to select and back in between (a return and a new call in the same slot,
 * the current-frame pointer back where it was): two copies torn alike show
 * a popped Handle._run over _run_once at its select, a stack that never
 * was.  Nor may a frame of the loop's own code stand at that call under a
 * frame that is no Handle._run (a select frame left in the slot over
 * _run_once back at its _run() call). */
#ifdef TORNSTACK_DROP_RULE_recheck_unbracketed_split_site
#define UW__RULE_recheck_unbracketed_split_site 0
#else
#define UW__RULE_recheck_unbracketed_split_site 1
#endif

/* RULE recheck_unbracketed_callee: in a walk without a bracket, a frame of
 * the loop's own code standing at a method call without arguments, `x.M()`,
 * with a frame above it, must be under a frame of code named M.  The same
 * tear as above at another call: the select frame left in its slot over
 * _run_once moved on to its popleft, both copies torn alike. */
#ifdef TORNSTACK_DROP_RULE_recheck_unbracketed_callee
#define UW__RULE_recheck_unbracketed_callee 0
#else
#define UW__RULE_recheck_unbracketed_callee 1
#endif

/* RULE split_site_run_call: a call site read from the split caller's code
 * counts only when the method it calls is named `_run` (call_site.c): the
 * popleft of the next handle is a method call without arguments too. */
#ifdef TORNSTACK_DROP_RULE_split_site_run_call
#define UW__RULE_split_site_run_call 0
#else
#define UW__RULE_split_site_run_call 1
#endif

/* RULE recheck_outer_frame: on 3.11/3.12, a walk from a nested eval loop's
 * cframe must pass the outer eval loop's current frame (a walk that does
 * not started at a pointer the loop's prologue had not set yet: a stale
 * frame's stack). */
#ifdef TORNSTACK_DROP_RULE_recheck_outer_frame
#define UW__RULE_recheck_outer_frame 0
#else
#define UW__RULE_recheck_outer_frame 1
#endif

/* --- The lists of native Tasks (src/tasks/discover_lists.c, 3.14+) --- */

/* RULE list_unlinking: a node whose `prev` is a node being unlinked (that
 * node, as remembered, still names it as `next` and a node taken lately as
 * its `prev`) does not tear the list. */
#ifdef TORNSTACK_DROP_RULE_list_unlinking
#define UW__RULE_list_unlinking 0
#else
#define UW__RULE_list_unlinking 1
#endif

/* --- The chains' remembered RESUMEs (src/tasks/resume.c, 3.11/3.12) --- */

/* RULE resume_memo_same_code: a chain that took a remembered RESUME for
 * an await is trusted only if the code object's cache entry it was
 * remembered with is the one the sample's resolve validated (not another
 * code object made at that address since, whose instruction there may be
 * a plain yield). */
#ifdef TORNSTACK_DROP_RULE_resume_memo_same_code
#define UW__RULE_resume_memo_same_code 0
#else
#define UW__RULE_resume_memo_same_code 1
#endif

/* RULE code_loaded_after_check: a Task whose chain's frames were
 * resolved after the check (src/tasks/chains.c) is trusted only if no
 * code object of them was loaded or reloaded after its chain was read:
 * the check vouches for the code objects its chain held only up to its
 * read, and one freed since may have another at its address. */
#ifdef TORNSTACK_DROP_RULE_code_loaded_after_check
#define UW__RULE_code_loaded_after_check 0
#else
#define UW__RULE_code_loaded_after_check 1
#endif

/* --- Placement and the skip rules (src/tasks/place.c) --- */

/* RULE skip_code_mismatch: a frame at a Task's root-frame address that runs
 * other code does not place it: task_frame_code_mismatch. */
#ifdef TORNSTACK_DROP_RULE_skip_code_mismatch
#define UW__RULE_skip_code_mismatch 0
#else
#define UW__RULE_skip_code_mismatch 1
#endif

/* RULE skip_thread_truncated: a Task that reads as resumed on a thread whose
 * walk was cut is skipped: thread_walk_truncated. */
#ifdef TORNSTACK_DROP_RULE_skip_thread_truncated
#define UW__RULE_skip_thread_truncated 0
#else
#define UW__RULE_skip_thread_truncated 1
#endif

/* RULE skip_past_epochs: every Task of a loop thread past the epoch bound
 * (asyncio's own loop, its epoch not kept: more loop threads than
 * UW_EPOCH_THREADS) is skipped as epoch_limit.  Without the epoch the
 * chain check's two copies prove nothing across steps: a chain that
 * stepped twice reads the same in both (ABA), and a running Task that
 * finished is replaced by one whose coroutine has the same address and
 * code, so a Task was shown with a chain it never had. */
#ifdef TORNSTACK_DROP_RULE_skip_past_epochs
#define UW__RULE_skip_past_epochs 0
#else
#define UW__RULE_skip_past_epochs 1
#endif

/* RULE skip_not_on_stack: a Task that reads as resumed and is on neither
 * walk is resuming only when nothing was linked above the walk's
 * Handle._run; else running_task_not_on_stack. */
#ifdef TORNSTACK_DROP_RULE_skip_not_on_stack
#define UW__RULE_skip_not_on_stack 0
#else
#define UW__RULE_skip_not_on_stack 1
#endif

/* RULE skip_claimed_twice: two Tasks placed on one frame are both skipped:
 * frame_claimed_twice. */
#ifdef TORNSTACK_DROP_RULE_skip_claimed_twice
#define UW__RULE_skip_claimed_twice 0
#else
#define UW__RULE_skip_claimed_twice 1
#endif

/* RULE skip_running_torn: a resumed Task absent from two walks whose frames
 * above Handle._run moved is skipped: running_task_frames_changed. */
#ifdef TORNSTACK_DROP_RULE_skip_running_torn
#define UW__RULE_skip_running_torn 0
#else
#define UW__RULE_skip_running_torn 1
#endif

/* RULE ab_other_parent: 3.14+, a Task of the sample named as its awaiter
 * in either copy of the check by a Task whose awaited_by is not kept (it
 * changed between the copies, or the object holds another Task by then: a
 * child the sample cannot show) is skipped: awaiter_unknown
 * (awaited_by.c). */
#ifdef TORNSTACK_DROP_RULE_ab_other_parent
#define UW__RULE_ab_other_parent 0
#else
#define UW__RULE_ab_other_parent 1
#endif

/* RULE ab_unread_unknown: 3.14+, a Task whose awaiters were not all read
 * (its awaiter set could not be read, or was cut at
 * UW_LIMIT_GATHER_CHILDREN members, or an edge of it came past
 * UW_LIMIT_AWAITED_BY) is skipped: awaiter_unknown, not shown awaited by
 * fewer Tasks or by none; so is a Task whose edge to a child was not
 * made, its children not all known (awaited_by.c). */
#ifdef TORNSTACK_DROP_RULE_ab_unread_unknown
#define UW__RULE_ab_unread_unknown 0
#else
#define UW__RULE_ab_unread_unknown 1
#endif

/* --- The chain check (src/tasks/check.c) --- */

/* RULE check_copy_a: copy A must read as the walk saw every piece. */
#ifdef TORNSTACK_DROP_RULE_check_copy_a
#define UW__RULE_check_copy_a 0
#else
#define UW__RULE_check_copy_a 1
#endif

/* RULE check_copy_b: copy B must read as copy A. */
#ifdef TORNSTACK_DROP_RULE_check_copy_b
#define UW__RULE_check_copy_b 0
#else
#define UW__RULE_check_copy_b 1
#endif

/* RULE check_ordered_read: the check's read is ordered groups (the epochs,
 * copy A, copy B, the epochs again; the first check also reads the ready
 * deques' lengths in groups of their own, inside the epochs): within one
 * group the reader
 * reads in address order and merges two pieces of one address, which
 * would make copy B copy A's bytes and read the epochs amid the copies. */
#ifdef TORNSTACK_DROP_RULE_check_ordered_read
#define UW__RULE_check_ordered_read 0
#else
#define UW__RULE_check_ordered_read 1
#endif

/* RULE check_epoch: the loop's epoch must not move during the check
 * (loop_stepped_while_read), and must be the walk's for a placed or resuming
 * Task. */
#ifdef TORNSTACK_DROP_RULE_check_epoch
#define UW__RULE_check_epoch 0
#else
#define UW__RULE_check_epoch 1
#endif

/* RULE check_cloop_epoch: a loop that calls its callbacks from C (uvloop)
 * has no `_ready` attribute, but its ready deque (the one
 * `collections.deque` among the loop object's first fields) moves before
 * every Task step as asyncio's does: the chain check reads it around its
 * copies, and a Task of such a loop whose deque moved past one step is not
 * kept (loop_stepped_while_read).  Without it a chain that stepped twice
 * between the copies and reads the same (ABA) is kept. */
#ifdef TORNSTACK_DROP_RULE_check_cloop_epoch
#define UW__RULE_check_cloop_epoch 0
#else
#define UW__RULE_check_cloop_epoch 1
#endif

/* RULE check_one_step_bound: a check during which the loop's epoch moved
 * still vouches for its Tasks only if the ready deque's length and count,
 * read around it, show it popped no more handles than were queued when
 * it began: every handle it ran was queued before it, so no Task stepped
 * twice (check.c, uw_one_step). */
#ifdef TORNSTACK_DROP_RULE_check_one_step_bound
#define UW__RULE_check_one_step_bound 0
#else
#define UW__RULE_check_one_step_bound 1
#endif

/* RULE check_pending: the Task must still be pending. */
#ifdef TORNSTACK_DROP_RULE_check_pending
#define UW__RULE_check_pending 0
#else
#define UW__RULE_check_pending 1
#endif

/* RULE check_coro: the Task must still hold the same coroutine. */
#ifdef TORNSTACK_DROP_RULE_check_coro
#define UW__RULE_check_coro 0
#else
#define UW__RULE_check_coro 1
#endif

/* RULE check_state: each coroutine's frame state compared. */
#ifdef TORNSTACK_DROP_RULE_check_state
#define UW__RULE_check_state 0
#else
#define UW__RULE_check_state 1
#endif

/* RULE check_instr: each coroutine's instruction pointer compared. */
#ifdef TORNSTACK_DROP_RULE_check_instr
#define UW__RULE_check_instr 0
#else
#define UW__RULE_check_instr 1
#endif

/* RULE check_code: each coroutine's code object compared. */
#ifdef TORNSTACK_DROP_RULE_check_code
#define UW__RULE_check_code 0
#else
#define UW__RULE_check_code 1
#endif

/* RULE check_depth: each coroutine's value-stack depth compared. */
#ifdef TORNSTACK_DROP_RULE_check_depth
#define UW__RULE_check_depth 0
#else
#define UW__RULE_check_depth 1
#endif

/* RULE check_previous: each coroutine unlinked: its `previous` cleared
 * (unless never started, or a resuming root). */
#ifdef TORNSTACK_DROP_RULE_check_previous
#define UW__RULE_check_previous 0
#else
#define UW__RULE_check_previous 1
#endif

/* RULE check_awaitee: each awaitee's value-stack slot compared. */
#ifdef TORNSTACK_DROP_RULE_check_awaitee
#define UW__RULE_check_awaitee 0
#else
#define UW__RULE_check_awaitee 1
#endif

/* RULE check_chain_end: what a chain stopped at (a Future, a finished
 * coroutine) is still so: its type and a coroutine's state compared. */
#ifdef TORNSTACK_DROP_RULE_check_chain_end
#define UW__RULE_check_chain_end 0
#else
#define UW__RULE_check_chain_end 1
#endif

/* RULE check_end_owner: what a chain stopped at as a coroutine with no
 * frame of its own (its frame's owner not the generator) still has none:
 * the owner compared too. */
#ifdef TORNSTACK_DROP_RULE_check_end_owner
#define UW__RULE_check_end_owner 0
#else
#define UW__RULE_check_end_owner 1
#endif

/* RULE check_name: the Task's name pointer and name object compared
 * (decoded). */
#ifdef TORNSTACK_DROP_RULE_check_name
#define UW__RULE_check_name 0
#else
#define UW__RULE_check_name 1
#endif

/* RULE check_links: the Task's fut_waiter and everything what it awaits was
 * read from compared. */
#ifdef TORNSTACK_DROP_RULE_check_links
#define UW__RULE_check_links 0
#else
#define UW__RULE_check_links 1
#endif

/* RULE check_hook: the hook records linking the Task compared. */
#ifdef TORNSTACK_DROP_RULE_check_hook
#define UW__RULE_check_hook 0
#else
#define UW__RULE_check_hook 1
#endif

/* RULE skip_stale_place: a placed Task needs its loop in the callback of its
 * walk: loop_stepped_since_walk. */
#ifdef TORNSTACK_DROP_RULE_skip_stale_place
#define UW__RULE_skip_stale_place 0
#else
#define UW__RULE_skip_stale_place 1
#endif

/* RULE resuming_proof: a resuming Task needs its thread's current frame
 * still the walk's, in the callback of its walk; else its place is stale:
 * loop_stepped_since_walk (it may not have run in the sample at all). */
#ifdef TORNSTACK_DROP_RULE_resuming_proof
#define UW__RULE_resuming_proof 0
#else
#define UW__RULE_resuming_proof 1
#endif

/* RULE pure_idle_same_callback: an idle loop's whole stack is a pure
 * Python stack for the chains checked only in the callback period of its
 * walk. */
#ifdef TORNSTACK_DROP_RULE_pure_idle_same_callback
#define UW__RULE_pure_idle_same_callback 0
#else
#define UW__RULE_pure_idle_same_callback 1
#endif

/* RULE pure_idle_still: the idle loop's stack (a walk that met no
 * Handle._run) is composed on only if the thread's current frame reads
 * back as the walk's in both copies of the check: _run_once moves the
 * epoch before it calls Handle._run, so the epoch cannot tell a walk just
 * before a callback from one after it. */
#ifdef TORNSTACK_DROP_RULE_pure_idle_still
#define UW__RULE_pure_idle_still 0
#else
#define UW__RULE_pure_idle_still 1
#endif

/* RULE pure_idle_still_instr: and the instruction of the idle loop's
 * innermost frame reads back as the walk's in both copies: a callback
 * popped before the walk can run and return before the check, leaving
 * _run_once current again (the same pointer, the same epoch) but past the
 * call it stood at. */
#ifdef TORNSTACK_DROP_RULE_pure_idle_still_instr
#define UW__RULE_pure_idle_still_instr 0
#else
#define UW__RULE_pure_idle_still_instr 1
#endif

/* RULE pure_check_epoch: the loop's stack read between the check's copies
 * (src/tasks/check.c, uw_pure_mid_judge) is taken only when the loop's
 * epoch read just before it and just after it is the same: no handle was
 * popped or queued in between, so the loop stood in one callback, or in
 * none, while its frames were read twice. */
#ifdef TORNSTACK_DROP_RULE_pure_check_epoch
#define UW__RULE_pure_check_epoch 0
#else
#define UW__RULE_pure_check_epoch 1
#endif

/* RULE pure_check_links: ... and every frame from _run_once rootward names
 * the skeleton's next frame as its caller (a frame that merely runs the
 * same code at the same address may be a copy the stack left behind). */
#ifdef TORNSTACK_DROP_RULE_pure_check_links
#define UW__RULE_pure_check_links 0
#else
#define UW__RULE_pure_check_links 1
#endif

/* RULE pure_check_site: ... a callback is taken only from a _run_once
 * standing at a call that makes Handle._run and not the thread's current
 * frame (with nothing above it, the frame in its callee's slot is one
 * that returned, or one not yet made), */
#ifdef TORNSTACK_DROP_RULE_pure_check_site
#define UW__RULE_pure_check_site 0
#else
#define UW__RULE_pure_check_site 1
#endif

/* RULE pure_check_slot: ... and whose callee's slot holds a frame that
 * names it as its caller and runs Handle._run. */
#ifdef TORNSTACK_DROP_RULE_pure_check_slot
#define UW__RULE_pure_check_slot 0
#else
#define UW__RULE_pure_check_slot 1
#endif

/* RULE pure_check_still_below: ... and only the current frame of an idle
 * loop (_run_once, or the loop's own code in its callee's slot) may read
 * at another instruction in the second copy than in the first; every
 * frame below it must read the same in both (one that moved returned and
 * was entered again, or made a call: the stack from the first copy may
 * not have stood). */
#ifdef TORNSTACK_DROP_RULE_pure_check_still_below
#define UW__RULE_pure_check_still_below 0
#else
#define UW__RULE_pure_check_still_below 1
#endif

/* RULE recover_idle_stands: a Task of a thread shown on an idle loop's
 * stack is kept from a recovery round only if the round's check read that
 * very stack standing between its copies (recover.c, check.c
 * uw_pure_round_judge): the idle loop's stack holds only while no callback
 * runs, which the first check proved for its own instants, not for a
 * later round's. */
#ifdef TORNSTACK_DROP_RULE_recover_idle_stands
#define UW__RULE_recover_idle_stands 0
#else
#define UW__RULE_recover_idle_stands 1
#endif

/* --- Links and parents (src/tasks/edges.c) --- */

/* RULE skip_awaiter_unknown: when a Task of a loop began to await something
 * not read, the Tasks of that loop with no known awaiter are skipped:
 * awaiter_unknown. */
#ifdef TORNSTACK_DROP_RULE_skip_awaiter_unknown
#define UW__RULE_skip_awaiter_unknown 0
#else
#define UW__RULE_skip_awaiter_unknown 1
#endif

/* RULE plain_waiter_epoch: a waiter read after the check is called a Future
 * that holds no Task only while its loop's epoch stands from the check's
 * first reading to the type's read (src/tasks/plain.c): otherwise the
 * object at that address may be another one since. */
#ifdef TORNSTACK_DROP_RULE_plain_waiter_epoch
#define UW__RULE_plain_waiter_epoch 0
#else
#define UW__RULE_plain_waiter_epoch 1
#endif

/* RULE gather_cut_unsure: a Task whose gather list a bound cut (more
 * children than UW_LIMIT_GATHER_CHILDREN, nesting past
 * UW_LIMIT_GATHER_NESTING, gathers past UW_GATHER_NODES_MAX) may await
 * Tasks past the cut: the Tasks of its loop with no known awaiter are
 * skipped (awaiter_unknown) rather than shown awaited by nobody. */
#ifdef TORNSTACK_DROP_RULE_gather_cut_unsure
#define UW__RULE_gather_cut_unsure 0
#else
#define UW__RULE_gather_cut_unsure 1
#endif

/* RULE parent_awaiter_first: the parent is the awaiter before the strong
 * link. */
#ifdef TORNSTACK_DROP_RULE_parent_awaiter_first
#define UW__RULE_parent_awaiter_first 0
#else
#define UW__RULE_parent_awaiter_first 1
#endif

/* RULE parent_strong_first: the strong link comes before the creation link. */
#ifdef TORNSTACK_DROP_RULE_parent_strong_first
#define UW__RULE_parent_strong_first 0
#else
#define UW__RULE_parent_strong_first 1
#endif

/* --- Recovery (src/tasks/recover.c) --- */

/* RULE recover_same_task: a Task read again is kept only while it is the
 * same Task: its object names the same name object, which decodes to the
 * name first shown (a Task freed and made again at the same address, its
 * coroutine too, is another Task, whose frames would go under the first
 * one's name and links). */
#ifdef TORNSTACK_DROP_RULE_recover_same_task
#define UW__RULE_recover_same_task 0
#else
#define UW__RULE_recover_same_task 1
#endif

/* RULE recover_hook_same: a round keeps no Task unless the hook module's
 * records read, in both copies of its check, as the links shown were
 * decided from (a record added or gone since would give a Task read again
 * the links of another instant than its frames). */
#ifdef TORNSTACK_DROP_RULE_recover_hook_same
#define UW__RULE_recover_hook_same 0
#else
#define UW__RULE_recover_hook_same 1
#endif

/* RULE recover_frozen_links: a Task read again is kept only when every
 * Task it is linked to is of the same instant, or a parent frozen since
 * the first check (its fut_waiter read the same then and now), and no
 * other Task of its loop started or stopped awaiting it unseen. */
#ifdef TORNSTACK_DROP_RULE_recover_frozen_links
#define UW__RULE_recover_frozen_links 0
#else
#define UW__RULE_recover_frozen_links 1
#endif

/* RULE recover_one_awaiter: a Task read again whose awaiter is a Task
 * frozen since the first check (or kept from the round) is kept, whatever
 * another Task's waiter unknown or moved, only when it has that one
 * awaiter at its instant: before 3.14 both copies of its round's check
 * read exactly one done callback (each awaiter relation adds one), from
 * 3.14 its awaited_by names that one Task, not a set (recover.c,
 * uw_held_by). */
#ifdef TORNSTACK_DROP_RULE_recover_one_awaiter
#define UW__RULE_recover_one_awaiter 0
#else
#define UW__RULE_recover_one_awaiter 1
#endif

/* RULE unawaited_no_callbacks: before 3.14, a Task counts as awaited by
 * nothing at its check only when both copies of its span read no done
 * callback (awaiting a Task, gathering it or joining it to a TaskGroup
 * adds one first, and they go only once it is done): only then is it
 * kept from awaiter_unknown (edges.c), and, read again in a windowed
 * recovery round, kept whatever the other Tasks came to await after the
 * first check (recover.c). */
#ifdef TORNSTACK_DROP_RULE_unawaited_no_callbacks
#define UW__RULE_unawaited_no_callbacks 0
#else
#define UW__RULE_unawaited_no_callbacks 1
#endif

/* RULE callback_checked: before 3.14, a Task whose one done callback was
 * found to be one no awaiter adds (run_until_complete's, a set's discard:
 * callbacks.c) counts as awaited by nothing only when both copies of the
 * check hold that callback alone, and read the callable (and its set's
 * type) as it was decided: one freed and another made at its address is
 * not taken for it. */
#ifdef TORNSTACK_DROP_RULE_callback_checked
#define UW__RULE_callback_checked 0
#else
#define UW__RULE_callback_checked 1
#endif

/* --- Composition (src/compose.c) --- */

/* RULE compose_pure_stack: a Task stack is composed only on a pure Python
 * stack that was found (pure_stack_not_found). */
#ifdef TORNSTACK_DROP_RULE_compose_pure_stack
#define UW__RULE_compose_pure_stack 0
#else
#define UW__RULE_compose_pure_stack 1
#endif

/* RULE compose_whole_thread: a thread's own stack is composed only from a
 * whole walk: not cut, its top not dropped. */
#ifdef TORNSTACK_DROP_RULE_compose_whole_thread
#define UW__RULE_compose_whole_thread 0
#else
#define UW__RULE_compose_whole_thread 1
#endif

/* RULE compose_whole_task: a Task's stack is composed only from whole
 * chains: a Task of it whose chain was cut at a bound (await_limit) or at
 * a cycle (await_cycle) gives no stack (its chain's root part never stood
 * alone). */
#ifdef TORNSTACK_DROP_RULE_compose_whole_task
#define UW__RULE_compose_whole_task 0
#else
#define UW__RULE_compose_whole_task 1
#endif

#endif /* TORNSTACK_RULES_H */
