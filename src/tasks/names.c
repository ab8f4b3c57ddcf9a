/*
 * names.c — each Task's name: a str, or (3.12+) an int counter shown as
 * "Task-N".
 *
 * The name objects of all Tasks are read in one vectored call,
 * UW_NAME_WINDOW bytes each, which holds the header and the characters of
 * a short name.  A longer name is read again with exactly the bytes it
 * needs, all such names in one more call.  A window that could not be read
 * (the object ends near the end of a mapping) is read again as the
 * smallest object a name can be, an int of one digit (`Task-N`), then, for
 * a str, as its header, then exactly: at most four calls.
 * Names are cut at UW_TASK_NAME_MAX bytes, at a UTF-8 character boundary;
 * an unreadable name shows as "?".  Each Task keeps how many bytes of its
 * name object the name came from (name_len): the chain check reads them
 * again, twice, decodes them the same way (uw__name_decode) and keeps the
 * Task only if both give the name shown and the Task still points at that
 * object (check.c).  Names are read before the check for that reason.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal/pyobj.h"
#include "internal/pystr.h"
#include "tasks_int.h"
#include "tornstack/error.h"

/* Characters read of a long name: enough to fill UW_TASK_NAME_MAX bytes. */
#define UW_NAME_CHARS UW_TASK_NAME_MAX

/* Copy a name, cutting it at a UTF-8 character boundary to fit. */
static void uw_name_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
            n--; /* do not split a multi-byte character */
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int uw__name_decode(const uw_tasks *t, const uint8_t *o, size_t len, char *out, size_t cap,
                    size_t *need)
{
    const uw_layout *l = t->l;
    char buf[UW_PYSTR_MAX_UTF8];
    uw_pystr_header h;
    uint64_t type;
    int64_t v;
    size_t n;

    *need = (size_t)l->unicode_ascii_data;
    if (len < (size_t)l->object_type + 8)
        return 1;
    type = uw__u64(o + l->object_type);
    if (type == t->t->types.long_ && type != 0) {
        int rc = uw__long_parse(l, o, len, &v);
        if (rc == UW_ERR_READ_SHORT) {
            *need = (size_t)l->long_digits + 8; /* two digits at most */
            return len < *need ? 1 : -1;
        }
        if (rc != 0)
            return -1;
        snprintf(out, cap, "Task-%" PRId64, v);
        return 0;
    }
    if (type != t->t->types.str || type == 0)
        return -1;
    if (len < (size_t)l->unicode_ascii_data)
        return 1;
    if (uw__pystr_parse_header(l, o, len, &h) != 0 || h.length < 0)
        return -1;
    n = h.length > UW_NAME_CHARS ? UW_NAME_CHARS : (size_t)h.length;
    *need = (size_t)h.data_off + n * h.kind;
    if (*need > len)
        return 1;
    if (uw__pystr_to_utf8(o + h.data_off, n, h.kind, h.ascii, buf, sizeof buf, NULL) != 0)
        return -1;
    uw_name_copy(out, cap, buf);
    return 0;
}

/* Queue the name reads of every Task still waiting for its name (`need`
 * bytes each, in the bytes view from 0): returns how many. */
static int uw_names_queue(uw_tasks *t, const size_t *need, size_t *n)
{
    size_t i, off = 0;
    int rc;

    *n = 0;
    for (i = 0; i < t->n_work; i++)
        off += need[i];
    if ((rc = uw__view_reserve(&t->sc.iov, t->n_work)) != 0 ||
        (rc = uw__view_reserve(&t->sc.bytes, off)) != 0)
        return rc;
    for (i = 0, off = 0; i < t->n_work; i++) {
        if (need[i] == 0)
            continue;
        rc = uw__put_iov(&t->sc.iov, (*n)++,
                         (uw_iov){t->work[i].name_obj, t->sc.bytes.p + off, need[i], 0});
        if (rc != 0)
            return rc;
        off += need[i];
    }
    return 0;
}

/* The fewest bytes a name object takes: an int of one digit. */
static size_t uw_name_min(const uw_tasks *t)
{
    return (size_t)t->l->long_digits + 4;
}

/* Decode what was read; `need` becomes what each Task still needs (0 when
 * done: named, or given up). */
static void uw_names_take(uw_tasks *t, uw_sample *s, size_t *need, int last)
{
    size_t i, k = 0;

    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        const uw_iov *piece;
        size_t more = 0;
        int rc;
        if (need[i] == 0)
            continue;
        piece = &UW__IOV(&t->sc.iov)[k++];
        if (piece->status != 0) {
            /* near the end of a mapping: as the smallest name object */
            need[i] = !last && piece->len > uw_name_min(t) ? uw_name_min(t) : 0;
            continue;
        }
        rc = uw__name_decode(t, piece->dst, piece->len, s->tasks[w->out].name,
                             sizeof s->tasks[w->out].name, &more);
        if (rc == 0) {
            w->name_len = piece->len;
            need[i] = 0;
        } else {
            need[i] = rc == 1 && !last && more > piece->len ? more : 0;
        }
    }
}

/* Every Task's name: its window, then what longer names need.  Bound:
 * four reads, UW_NAME_CHARS characters a name. */
int uw__read_names(uw_tasks *t, uw_sample *s)
{
    size_t i, n, *need;
    int rc, round;

    if ((rc = uw__view_reserve(&t->sc.need, t->n_work)) != 0)
        return rc;
    need = UW__SIZE(&t->sc.need);
    for (i = 0; i < t->n_work; i++) {
        if (t->recovering && !t->work[i].recheck) {
            need[i] = 0; /* a recovery round reads only its own Tasks' */
            continue;
        }
        snprintf(s->tasks[t->work[i].out].name, sizeof s->tasks[0].name, "?");
        t->work[i].name_len = 0;
        need[i] = t->work[i].name_obj != 0 ? UW_NAME_WINDOW : 0;
    }
    for (round = 0; round < 4; round++) {
        if ((rc = uw_names_queue(t, need, &n)) != 0)
            return rc;
        if (n == 0)
            break;
        (void)uw_readv(t->r, UW__IOV(&t->sc.iov), n);
        uw_names_take(t, s, need, round == 3);
    }
    return 0;
}
