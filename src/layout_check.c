/*
 * layout_check.c — every offset read into a fixed buffer, checked once at
 * attach (layout_check.h).
 *
 * One section per reader.  Each check names the buffer, the bytes read into
 * it, and the fields then taken out of those bytes; a field is in when
 * offset + width <= bytes read <= buffer size.
 */
#include "internal/layout_check.h"

#include <stdint.h>

#include "internal/pyobj.h"
#include "internal/pystr.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

/* A field of `width` bytes at `off` lies within the first `len` bytes. */
static int uw_in(int32_t off, size_t width, size_t len)
{
    return off >= 0 && (size_t)off + width <= len;
}

/* `read` bytes, a size from the table, fit a buffer of `buf` bytes. */
static int uw_fits(int32_t read, size_t buf)
{
    return read > 0 && (size_t)read <= buf;
}

/* --- the thread walk ----------------------------------------------------------- */

/* Thread state: tstate_size bytes (3.13+: up to the running loop, 3.14+:
 * the running Task, in _PyThreadStateImpl) copied into a buffer of
 * tstate_buf, which must hold a whole _PyThreadStateImpl (3.15's is 1104
 * bytes, its base frame included); then next, ids, dict, data-stack chunk
 * and top, cframe (3.11/3.12), the running loop and Task taken out of it. */
static int uw_check_tstate(const uw_layout *l, size_t tstate_buf)
{
    const struct {
        int32_t off, width;
    } f[] = {{l->tstate_asyncio_running_loop, 8}, {l->tstate_asyncio_running_task, 8}};
    size_t len = (size_t)l->tstate_size, i;

    if (l->tstate_impl_size != UW_ABSENT && !uw_fits(l->tstate_impl_size, tstate_buf))
        return 0;
    for (i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (f[i].off == UW_ABSENT)
            continue;
        if (!uw_in(f[i].off, (size_t)f[i].width, tstate_buf))
            return 0;
        if ((size_t)f[i].off + (size_t)f[i].width > len)
            len = (size_t)f[i].off + (size_t)f[i].width;
    }
    return uw_fits(l->tstate_size, tstate_buf) && len <= tstate_buf &&
           uw_in(l->tstate_next, 8, len) && uw_in(l->tstate_dict, 8, len) &&
           uw_in(l->tstate_thread_id, 8, len) && uw_in(l->tstate_native_thread_id, 8, len) &&
           uw_in(l->tstate_datastack_chunk, 8, len) && uw_in(l->tstate_datastack_top, 8, len) &&
           (l->tstate_cframe == UW_ABSENT || uw_in(l->tstate_cframe, 8, len));
}

/* Frames: frame_size bytes copied into buffers of frame_buf (and into
 * chunk copies, from chunk_data on); code, previous, instruction, owner
 * and stack depth taken out (uw__layout_check keeps them in frame_size). */
static int uw_check_frame(const uw_layout *l, size_t frame_buf)
{
    return uw_fits(l->frame_size, frame_buf) &&
           (size_t)l->chunk_data + (size_t)l->frame_size <= UW_DATA_STACK_CHUNK_SIZE;
}

/* Code objects: code_size bytes copied (buffers sized by the layout), the
 * identity fields taken out (uw__code_ident_parse). */
static int uw_check_code(const uw_layout *l)
{
    size_t len = (size_t)l->code_size;

    return l->code_size > 0 && uw_in(l->object_type, 8, len) && uw_in(l->code_name, 8, len) &&
           uw_in(l->code_units, 8, len);
}

int uw__layout_check_thread_walk(const uw_layout *l, size_t tstate_buf, size_t frame_buf)
{
    int rc = uw__layout_check(l);

    if (rc != 0)
        return rc;
    if (!uw_check_tstate(l, tstate_buf) || !uw_check_frame(l, frame_buf) || !uw_check_code(l))
        return UW_ERR_BAD_LAYOUT;
    return 0;
}

/* --- the object readers ------------------------------------------------------- */

/* str headers: unicode_ascii_data bytes into UW_PYSTR_HEAD (pystr.c) and
 * UW_PYOBJ_STR_HEAD (str keys, pyobj.c); type, length and state out. */
static int uw_check_str(const uw_layout *l)
{
    size_t len = (size_t)l->unicode_ascii_data;

    return uw_fits(l->unicode_ascii_data, UW_PYSTR_HEAD) &&
           uw_fits(l->unicode_ascii_data, UW_PYOBJ_STR_HEAD) && uw_in(l->object_type, 8, len) &&
           uw_in(l->unicode_length, 8, len) && uw_in(l->unicode_state, 4, len);
}

/* A keys object's header in the order tasks/deps.c compares it by: the
 * reference count (a word) first, the geometry bytes (log2 size, log2
 * index bytes, kind) after it, then, each a word, dk_usable and
 * dk_nentries right before the indices. */
static int uw_keys_header_ordered(const uw_layout *l)
{
    return l->dictkeys_log2_size >= 8 && l->dictkeys_log2_size <= l->dictkeys_log2_index_bytes &&
           l->dictkeys_log2_index_bytes <= l->dictkeys_kind &&
           l->dictkeys_kind + 1 <= l->dictkeys_nentries - 8 &&
           l->dictkeys_nentries + 8 <= l->dictkeys_indices;
}

/* dicts, dict keys, sets, lists and ints: a prefix of each into
 * UW_PYOBJ_HEAD bytes (pyobj.c), fields out of that prefix. */
static int uw_check_containers(const uw_layout *l)
{
    size_t keys = (size_t)l->dictkeys_indices, dict = (size_t)l->dict_values + 8;
    size_t set = (size_t)l->set_table + 8, list = (size_t)l->list_items + 8;
    size_t lng = (size_t)l->long_digits + 8;

    return uw_fits(l->dictkeys_indices, UW_PYOBJ_HEAD) && uw_in(l->dictkeys_log2_size, 1, keys) &&
           uw_in(l->dictkeys_log2_index_bytes, 1, keys) && uw_in(l->dictkeys_kind, 1, keys) &&
           uw_in(l->dictkeys_nentries, 8, keys) && uw_keys_header_ordered(l) &&
           uw_in(l->dict_values, 8, UW_PYOBJ_HEAD) && uw_in(l->object_type, 8, dict) &&
           uw_in(l->dict_keys, 8, dict) && uw_in(l->set_table, 8, UW_PYOBJ_HEAD) &&
           uw_in(l->object_type, 8, set) && uw_in(l->set_mask, 8, set) &&
           uw_in(l->list_items, 8, UW_PYOBJ_HEAD) && uw_in(l->object_type, 8, list) &&
           uw_in(l->list_size, 8, list) && uw_in(l->long_digits, 8, UW_PYOBJ_HEAD) &&
           uw_in(l->object_type, 8, lng) && uw_in(l->long_tag, 8, lng);
}

int uw__layout_check_objects(const uw_layout *l)
{
    if (l == NULL)
        return UW_ERR_INVALID_ARG;
    if (!uw_check_str(l) || !uw_check_containers(l))
        return UW_ERR_BAD_LAYOUT;
    return 0;
}

/* --- the Task walk ------------------------------------------------------------- */

/* Task objects: task_size bytes each; state, loop, coroutine, waiter and
 * name out.  Futures: fut_size bytes of a gather future's head. */
static int uw_check_task(const uw_layout *l, const uw_asyncio_layout *al)
{
    size_t len = (size_t)al->task_size;

    return al->task_size > 0 && uw_in(l->object_type, 8, len) && uw_in(al->fut_state, 4, len) &&
           uw_in(al->fut_loop, 8, len) && uw_in(al->task_coro, 8, len) &&
           uw_in(al->task_fut_waiter, 8, len) && uw_in(al->task_name, 8, len) && al->fut_size > 0 &&
           al->fut_size <= al->task_size &&
           /* the done callbacks, inside the span the chain check reads
            * (fut_loop .. task_name) */
           al->fut_callback0 > al->fut_loop && al->fut_callbacks > al->fut_loop &&
           al->fut_callback0 + 8 <= al->task_name && al->fut_callbacks + 8 <= al->task_name;
}

/* The windows: a coroutine up to the end of its frame (type, state, and
 * an async_generator_asend's generator); a name object's header (str or
 * int); a registry entry (weakref or Task header); the hook buffer's
 * bytearray header (size and start), then its magic and count; a done
 * callback from its type word to its func_code (a function) or m_self (a
 * builtin method), both past the type. */
static int uw_check_windows(const uw_layout *l, const uw_asyncio_layout *al,
                            const uw__task_windows *w)
{
    size_t coro = (size_t)l->gen_iframe + (size_t)l->frame_size;
    size_t hook = (size_t)l->bytearray_start + 8;

    return coro <= w->coro && uw_in(l->object_type, 8, coro) &&
           uw_in(l->gen_frame_state, 1, coro) && uw_in(al->asend_gen, 8, coro) &&
           uw_in(l->object_type, 8, w->name) && uw_in(l->long_digits, 8, w->name) &&
           uw_fits(l->unicode_ascii_data, w->name) && uw_in(l->object_type, 8, w->weakref) &&
           uw_in(l->weakref_object, 8, w->weakref) && hook <= w->hook &&
           uw_in(l->bytearray_size, 8, hook) && w->hook >= 16 && l->func_code > l->object_type &&
           l->cfunc_self > l->object_type &&
           uw_in(l->func_code, 8, (size_t)l->object_type + w->callable) &&
           uw_in(l->cfunc_self, 8, (size_t)l->object_type + w->callable);
}

int uw__layout_check_task_walk(const uw_layout *l, const uw_asyncio_layout *al,
                               const uw__task_windows *w)
{
    int rc;

    if (l == NULL || al == NULL || w == NULL)
        return UW_ERR_INVALID_ARG;
    rc = uw__layout_check_objects(l);
    if (rc != 0)
        return rc;
    if (!uw_check_task(l, al) || !uw_check_windows(l, al, w))
        return UW_ERR_BAD_LAYOUT;
    return 0;
}
