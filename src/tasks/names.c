/*
 * names.c — each Task's name: a str, or (3.12+) an int counter shown as
 * "Task-N".
 *
 * The name objects of all Tasks are read in one vectored call,
 * UW_NAME_WINDOW bytes each, which holds the header and the characters of
 * a short name; a longer name is read whole (pystr.c), and one near the
 * end of a mapping (the window could not be read) is read exactly.  Names
 * are cut at UW_TASK_NAME_MAX bytes, at a UTF-8 character boundary; an
 * unreadable name shows as "?".
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal/pyobj.h"
#include "internal/pystr.h"
#include "tasks_int.h"
#include "tornstack/error.h"

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

/* The name object at obj, read exactly (its window could not be read). */
static void uw_name_exact(uw_tasks *t, uint64_t obj, uw_task_sample *ts)
{
    char buf[UW_PYSTR_MAX_UTF8];
    uint64_t type;
    int64_t v;
    int trunc = 0;

    if (uw__obj_type(&t->pc, obj, &type) != 0)
        return;
    if (type == t->t->types.long_ && type != 0) {
        if (uw__long_value(&t->pc, obj, &v) == 0)
            snprintf(ts->name, sizeof ts->name, "Task-%" PRId64, v);
    } else if (type == t->t->types.str && type != 0 &&
               uw__pystr_read(t->r, t->l, obj, buf, sizeof buf, &trunc) == 0) {
        uw_name_copy(ts->name, sizeof ts->name, buf);
    }
}

/* The name object at obj from its window o. */
static void uw_name_window(uw_tasks *t, uint64_t obj, const uint8_t *o, uw_task_sample *ts)
{
    const uw_layout *l = t->l;
    uint64_t type = uw__u64(o + l->object_type);
    char buf[UW_PYSTR_MAX_UTF8];
    uw_pystr_header h;
    int64_t v;
    int trunc = 0;

    if (type == t->t->types.long_ && type != 0) {
        if (uw__long_parse(l, o, UW_NAME_WINDOW, &v) == 0)
            snprintf(ts->name, sizeof ts->name, "Task-%" PRId64, v);
        return;
    }
    if (type != t->t->types.str || type == 0 ||
        uw__pystr_parse_header(l, o, UW_NAME_WINDOW, &h) != 0)
        return;
    if (h.data_off + (size_t)h.length * h.kind <= UW_NAME_WINDOW) {
        if (uw__pystr_to_utf8(o + h.data_off, (size_t)h.length, h.kind, h.ascii, buf, sizeof buf,
                              NULL) == 0)
            uw_name_copy(ts->name, sizeof ts->name, buf);
    } else if (uw__pystr_read(t->r, l, obj, buf, sizeof buf, &trunc) == 0) {
        uw_name_copy(ts->name, sizeof ts->name, buf);
    }
}

/* Every Task's name window in one read (UW_NAME_WINDOW bytes each),
 * then each name decoded from it, or read exactly where the window could
 * not be read. */
int uw__read_names(uw_tasks *t, uw_sample *s)
{
    size_t i;
    int rc;

    if ((rc = uw__view_reserve(&t->sc.iov, t->n_work)) != 0 ||
        (rc = uw__view_reserve(&t->sc.bytes, t->n_work * UW_NAME_WINDOW)) != 0)
        return rc;
    for (i = 0; i < t->n_work; i++) {
        uint8_t *dst = uw__bytes(&t->sc.bytes, i * UW_NAME_WINDOW, UW_NAME_WINDOW);
        rc = dst != NULL
                 ? uw__put_iov(&t->sc.iov, i, (uw_iov){t->work[i].name_obj, dst, UW_NAME_WINDOW, 0})
                 : UW_ERR_CAPACITY;
        if (rc != 0)
            return rc;
    }
    (void)uw_readv(t->r, UW__IOV(&t->sc.iov), t->n_work);
    for (i = 0; i < t->n_work; i++) {
        uw_task_sample *ts = &s->tasks[t->work[i].out];
        snprintf(ts->name, sizeof ts->name, "?");
        if (UW__IOV(&t->sc.iov)[i].status != 0)
            uw_name_exact(t, t->work[i].name_obj, ts); /* near the end of a mapping */
        else
            uw_name_window(t, t->work[i].name_obj, t->sc.bytes.p + i * UW_NAME_WINDOW, ts);
    }
    return 0;
}
