/*
 * call_site.c — is a frame's instruction the call `x._run()`?
 *
 * A walk the loop's epoch moved under keeps the loop's pure Python stack
 * only when the split's caller (asyncio's _run_once) stands, in both
 * reads, at the call that makes a Handle._run frame (recheck.c, rule
 * anchor_split_site): at its popleft or its select the stack [.., _run_once
 * at that line, Handle._run] never existed, though a popped Handle._run
 * frame still reads above it.  recheck.c remembers such call sites from
 * walks proven one instant's, but a loop whose callbacks are shorter than
 * a walk never gives one (every walk sees the epoch move), and its Task
 * stacks were all dropped as pure_stack_not_found.
 *
 * The call site can be read from the code instead.  The handle call is
 * `handle._run()`: an attribute load of the name `_run` as a method
 * (LOAD_METHOD on 3.11; LOAD_ATTR with its method bit after), PRECALL 0 on
 * 3.11, CALL 0, each followed by its inline cache entries.  A frame making
 * that call has its instruction pointer on the CALL (3.13+, which keeps the
 * instruction being run) or on its last cache entry (3.11/3.12, which keep
 * the last unit they stepped over).  Specialized forms fold to their base
 * instruction through the interpreter's own table (the layout's
 * opcode_deopt).  The instructions are read back from the instruction
 * pointer at the fixed distances that sequence has; a unit before the
 * attribute load that folds to EXTENDED_ARG would widen its oparg, so it
 * is refused.  The name is co_names[oparg >> method_name_shift], compared
 * with "_run" (rule split_site_run_call).
 *
 * That the bytecode was read after the frame does not matter: a code
 * object's instructions never change but for specialization, which the
 * fold undoes (an instrumented CALL folds to itself and is refused).  A
 * verdict is kept per code-cache load (the entry's serial, which a code
 * object freed and reloaded at the same address changes) and instruction:
 * UW_CALL_SITES of them, the oldest replaced.
 *
 * Reads: one vectored read of the units and the co_names pointer, two of
 * the tuple (its header, its items up to the name's index: at most 256,
 * no EXTENDED_ARG; pyobj.c uw__tuple_items), two of the name (header,
 * text: uw__str_equals); only for a verdict not kept.
 */
#include "internal/pyobj.h"
#include "internal/rules.h"
#include "internal/uw_assert.h"
#include "tornstack/error.h"
#include "unwind_int.h"

/* Units from the attribute load to the CALL's last cache, at most: three
 * instructions of at most 16 caches each (the layout check bounds them),
 * and the unit before. */
#define UW_CALL_SITE_UNITS (1 + 3 * 17)

static unsigned uw_unit_op(const uint8_t *units, size_t i)
{
    return units[2 * i];
}

static unsigned uw_unit_arg(const uint8_t *units, size_t i)
{
    return units[2 * i + 1];
}

/* Does the unit fold to base opcode op? */
static int uw_unit_is(const uw_layout *l, const uint8_t *units, size_t i, int32_t op)
{
    return l->opcode_deopt[uw_unit_op(units, i)] == (uint8_t)op;
}

/* Read and judge: *is_site 1 when instruction ip of the code object at
 * code (units code units long) is the CALL of `x._run()`.  0, or a read
 * error (nothing judged). */
static int uw_call_site_read(uw_unwinder *u, uint64_t code, int64_t units, uint64_t ip,
                             int *is_site)
{
    const uw_layout *l = u->l;
    const uint64_t base = code + (uint64_t)l->code_adaptive;
    const uw_pyctx pc = {u->r, l, &u->t.types};
    uint8_t buf[2 * UW_CALL_SITE_UNITS];
    uint64_t names = 0, items[256]; /* up to index 255: no EXTENDED_ARG */
    int64_t s, k_call, k_pre, k_meth, k_first;
    size_t n_units, n_items;
    unsigned index;
    uw_iov iov[2];
    int rc;

    *is_site = 0;
    if (ip < base || ((ip - base) & 1) != 0)
        return 0;
    s = (int64_t)((ip - base) / 2);
    if (s >= units)
        return 0;
    k_call = s - (l->instr_is_prev ? l->caches_call : 0);
    k_pre = l->opcode_precall != UW_ABSENT ? k_call - 1 - l->caches_precall : k_call;
    k_meth = k_pre - 1 - l->caches_method;
    if (k_meth < 0)
        return 0;
    k_first = k_meth > 0 ? k_meth - 1 : k_meth; /* the unit that might widen */
    n_units = (size_t)(s - k_first + 1);
    UW_ASSERT(n_units <= UW_CALL_SITE_UNITS);
    iov[0] = (uw_iov){base + 2 * (uint64_t)k_first, buf, 2 * n_units, 0};
    iov[1] = (uw_iov){code + (uint64_t)l->code_names, &names, 8, 0};
    rc = uw_readv(u->r, iov, 2);
    if (rc != 0)
        return rc;
    k_call -= k_first;
    k_pre -= k_first;
    k_meth -= k_first;
    if (!uw_unit_is(l, buf, (size_t)k_call, l->opcode_call) ||
        uw_unit_arg(buf, (size_t)k_call) != 0)
        return 0;
    if (l->opcode_precall != UW_ABSENT && (!uw_unit_is(l, buf, (size_t)k_pre, l->opcode_precall) ||
                                           uw_unit_arg(buf, (size_t)k_pre) != 0))
        return 0;
    if (!uw_unit_is(l, buf, (size_t)k_meth, l->opcode_method))
        return 0;
    if (k_meth > 0 && uw_unit_is(l, buf, 0, l->opcode_extended_arg))
        return 0;
    if (l->method_name_shift > 0 && (uw_unit_arg(buf, (size_t)k_meth) & 1u) == 0)
        return 0; /* an attribute load, not a method's */
    index = uw_unit_arg(buf, (size_t)k_meth) >> l->method_name_shift;
    if (!UW_RULE(split_site_run_call)) {
        *is_site = 1;
        return 0;
    }
    if (names == 0)
        return 0;
    rc = uw__tuple_items(&pc, names, items, (size_t)index + 1, &n_items);
    if (rc != 0 && rc != UW_ERR_CAPACITY)
        return rc == UW_ERR_BAD_OBJECT ? 0 : rc;
    if (n_items <= index || items[index] == 0)
        return 0;
    rc = uw__str_equals(&pc, items[index], "_run");
    if (rc < 0)
        return rc;
    *is_site = rc;
    return 0;
}

/* Is the split's caller, standing at ip in code (an entry of this
 * sample's code cache), at the call that makes a Handle._run frame?  A
 * read error or a code object without an entry is no. */
int uw__split_call_site(uw_unwinder *u, uint64_t code, uint64_t ip)
{
    uw_code_info *e = code != 0 ? uw__code_for(u, code) : NULL;
    size_t i;
    int is_site;

    if (e == NULL || e->serial == 0)
        return 0;
    for (i = 0; i < u->n_call_sites; i++)
        if (u->call_site[i].serial == e->serial && u->call_site[i].ip == ip)
            return u->call_site[i].is_site;
    if (uw_call_site_read(u, code, e->id.units, ip, &is_site) != 0)
        return 0;
    i = u->n_call_sites < UW_CALL_SITES ? u->n_call_sites++ : u->next_call_site;
    u->next_call_site = (i + 1) % UW_CALL_SITES;
    u->call_site[i].serial = e->serial;
    u->call_site[i].ip = ip;
    u->call_site[i].is_site = is_site;
    return is_site;
}
