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
 * The verdict keeps the method's name (up to UW_CALL_NAME bytes; a longer
 * one, or one not read, is kept as unknown), for a second question asked
 * of every frame of the loop's own code in a walk without a bracket
 * (recheck.c, rule recheck_unbracketed_callee): a frame at `x.M()` with a
 * frame above it is under M's frame, whatever M is; a frame of another
 * name there was left in the slot (a select frame over _run_once at its
 * popleft).
 *
 * Reads: one vectored read of the units and the co_names pointer, two of
 * the tuple (its header, its items up to the name's index: at most 256,
 * no EXTENDED_ARG; pyobj.c uw__tuple_items), two of the name (header,
 * text: pystr.c uw__pystr_read); only for a verdict not kept.
 */
#include <string.h>

#include "internal/pyobj.h"
#include "internal/pystr.h"
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

/* Read and judge: *method 1 when instruction ip of the code object at
 * code (units code units long) is the CALL of a method without
 * arguments, `x.M()`, with M in name ("" when longer than UW_CALL_NAME
 * bytes or not readable as a str).  0, or a read error (nothing judged). */
static int uw_call_site_read(uw_unwinder *u, uint64_t code, int64_t units, uint64_t ip, int *method,
                             char name[UW_CALL_NAME + 1])
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
    char text[UW_PYSTR_MAX_UTF8];
    size_t len;
    int rc, truncated = 0;

    *method = 0;
    name[0] = '\0';
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
    *method = 1;
    if (names == 0)
        return 0;
    rc = uw__tuple_items(&pc, names, items, (size_t)index + 1, &n_items);
    if (rc != 0 && rc != UW_ERR_CAPACITY)
        return rc == UW_ERR_BAD_OBJECT ? 0 : rc;
    if (n_items <= index || items[index] == 0)
        return 0;
    if (u->t.types.str != 0) {
        uint64_t type = 0;
        rc = uw__obj_type(&pc, items[index], &type);
        if (rc != 0 || type != u->t.types.str)
            return rc;
    }
    rc = uw__pystr_read(u->r, l, items[index], text, sizeof text, &truncated);
    if (rc == UW_ERR_STRING)
        return 0;
    if (rc != 0)
        return rc;
    len = strlen(text);
    if (!truncated && len <= UW_CALL_NAME)
        memcpy(name, text, len + 1);
    return 0;
}

/* The verdict on instruction ip of code (an entry of this sample's code
 * cache), read once per load of the code object and kept; NULL on a read
 * error or for a code object without an entry. */
static const uw__call_verdict *uw_call_verdict(uw_unwinder *u, uint64_t code, uint64_t ip)
{
    uw_code_info *e = code != 0 ? uw__code_for(u, code) : NULL;
    uw__call_verdict *v;
    char name[UW_CALL_NAME + 1];
    size_t i;
    int method;

    if (e == NULL || e->serial == 0)
        return NULL;
    for (i = 0; i < u->n_call_sites; i++)
        if (u->call_site[i].serial == e->serial && u->call_site[i].ip == ip)
            return &u->call_site[i];
    if (uw_call_site_read(u, code, e->id.units, ip, &method, name) != 0)
        return NULL;
    i = u->n_call_sites < UW_CALL_SITES ? u->n_call_sites++ : u->next_call_site;
    u->next_call_site = (i + 1) % UW_CALL_SITES;
    v = &u->call_site[i];
    v->serial = e->serial;
    v->ip = ip;
    v->method = method;
    memcpy(v->name, name, sizeof v->name);
    return v;
}

/* Is the split's caller, standing at ip in code, at the call that makes a
 * Handle._run frame: a method call without arguments named `_run` (rule
 * split_site_run_call; without it, any such call)? */
int uw__split_call_site(uw_unwinder *u, uint64_t code, uint64_t ip)
{
    const uw__call_verdict *v = uw_call_verdict(u, code, ip);

    if (v == NULL || !v->method)
        return 0;
    return !UW_RULE(split_site_run_call) || strcmp(v->name, "_run") == 0;
}

const char *uw__method_call_name(uw_unwinder *u, uint64_t code, uint64_t ip)
{
    const uw__call_verdict *v = uw_call_verdict(u, code, ip);

    return v != NULL && v->method && v->name[0] != '\0' ? v->name : NULL;
}
