/*
 * test_profile.c — the profile (src/profile/): interning and aggregation,
 * every bound at -1/0/+1, samples with markers and labels, the folded label
 * escaping, the folded writer and reader round trip and the reader's
 * errors, and what the speedscope, HTML and pprof writers put in their
 * files.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hand_sample.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"
#include "tornstack/profile.h"
#include "tornstack/profile_io.h"

#ifdef TORNSTACK_HAVE_PPROF
#include <zlib.h>

#include "profile.pb-c.h"
#endif

/* --- helpers ------------------------------------------------------------ */

typedef struct memout {
    char *buf;
    size_t len;
    FILE *f;
} memout;

static void mem_open(memout *m)
{
    m->buf = NULL;
    m->len = 0;
    m->f = open_memstream(&m->buf, &m->len);
    assert_non_null(m->f);
}

static void mem_close(memout *m)
{
    assert_int_equal(fclose(m->f), 0);
    m->f = NULL;
}

static FILE *str_in(const char *s, size_t len)
{
    FILE *f = fmemopen((void *)(uintptr_t)s, len, "r");
    assert_non_null(f);
    return f;
}

static uint32_t frame(uw_profile *p, const char *name, const char *file, int64_t line,
                      uw_pframe_kind kind)
{
    uw_pframe f = {0, 0, line, kind};
    uint32_t id;

    assert_int_equal(uw_profile_intern(p, name, strlen(name), &f.name), 0);
    assert_int_equal(uw_profile_intern(p, file, strlen(file), &f.file), 0);
    assert_int_equal(uw_profile_frame(p, &f, &id), 0);
    return id;
}

static uw_plabels labels(uw_profile *p, uint64_t tid, const char *thread, const char *task)
{
    uw_plabels l = {tid, 0, UW_PSTR_NONE};

    assert_int_equal(uw_profile_intern(p, thread, strlen(thread), &l.thread_name), 0);
    if (task != NULL)
        assert_int_equal(uw_profile_intern(p, task, strlen(task), &l.task_name), 0);
    return l;
}

static char *folded_text(const uw_profile *p)
{
    memout m;

    mem_open(&m);
    assert_int_equal(uw_write_folded(m.f, p), 0);
    mem_close(&m);
    return m.buf;
}

static int read_text(uw_profile *p, const char *text, size_t len, const uw_folded_read_options *o,
                     uw_folded_error *err)
{
    FILE *in = str_in(text, len);
    int rc = uw_folded_read(in, p, o, err);
    fclose(in);
    return rc;
}

/* --- escaping ----------------------------------------------------------- */

static void test_escape(void **state)
{
    char raw[256], esc[1024], back[1024];
    size_t i, n;

    (void)state;
    n = uw_label_escape(esc, sizeof esc, "a;b\nc%d\r\x7f", 9);
    assert_string_equal(esc, "a%3Bb%0Ac%25d%0D%7F");
    assert_int_equal(n, strlen(esc));
    /* every byte but NUL reads back */
    for (i = 0; i < 255; i++)
        raw[i] = (char)(i + 1);
    n = uw_label_escape(esc, sizeof esc, raw, 255);
    assert_int_equal(n, strlen(esc));
    assert_null(strpbrk(esc, ";\n\r"));
    memcpy(back, esc, n + 1);
    assert_int_equal(uw_label_unescape(back, n), 255);
    assert_memory_equal(back, raw, 255);
    /* a cut never leaves half an escape, and says what it needed */
    assert_int_equal(uw_label_escape(esc, 5, "ab;cd", 5), 7);
    assert_string_equal(esc, "ab");
    assert_int_equal(uw_label_escape(esc, 6, "ab;cd", 5), 7);
    assert_string_equal(esc, "ab%3B");
    /* a '%' that is not an escape (another tool's file) is kept */
    strcpy(back, "100% a%zz%4");
    assert_int_equal(uw_label_unescape(back, strlen(back)), 11);
    assert_string_equal(back, "100% a%zz%4");
}

/* --- aggregation ---------------------------------------------------------- */

static void test_aggregate(void **state)
{
    uw_profile p;
    uint32_t a, b, s1, s2, stack[3];
    uw_plabels l1, l2;

    (void)state;
    assert_int_equal(uw_profile_init(&p), 0);
    assert_string_equal(uw_profile_str(&p, UW_PSTR_EMPTY), "");
    assert_int_equal(uw_profile_intern(&p, "main", 4, &s1), 0);
    assert_int_equal(uw_profile_intern(&p, "main", 4, &s2), 0);
    assert_int_equal(s1, s2);
    a = frame(&p, "main", "/app/a.py", 3, UW_PFRAME_PYTHON);
    b = frame(&p, "main", "/app/a.py", 4, UW_PFRAME_PYTHON);
    assert_int_not_equal(a, b);
    assert_int_equal(frame(&p, "main", "/app/a.py", 3, UW_PFRAME_PYTHON), a);
    assert_int_not_equal(frame(&p, "main", "/app/a.py", 3, UW_PFRAME_TASK), a);
    stack[0] = a;
    stack[1] = b;
    l1 = labels(&p, 10, "t", "x");
    l2 = labels(&p, 10, "t", "y");
    assert_int_equal(uw_profile_add(&p, stack, 2, &l1, 1), 0);
    assert_int_equal(uw_profile_add(&p, stack, 2, &l1, 2), 0);
    assert_int_equal(p.n_stacks, 1);
    assert_int_equal(p.stacks[0].count, 3);
    assert_int_equal(uw_profile_add(&p, stack, 2, &l2, 1), 0); /* another leaf Task */
    assert_int_equal(p.n_stacks, 2);
    assert_int_equal(uw_profile_add(&p, stack, 1, &l1, 1), 0); /* a prefix is its own stack */
    assert_int_equal(p.n_stacks, 3);
    assert_int_equal(uw_profile_add(&p, stack, 0, &l1, 5), 0); /* nothing to show */
    assert_int_equal(uw_profile_add(&p, stack, 2, &l1, 0), 0); /* never seen */
    assert_int_equal(p.n_stacks, 3);
    assert_int_equal(p.total, 5);
    stack[2] = 999;
    assert_int_equal(uw_profile_add(&p, stack, 3, &l1, 1), UW_ERR_INVALID_ARG);
    l2.task_name = 12345;
    assert_int_equal(uw_profile_add(&p, stack, 2, &l2, 1), UW_ERR_INVALID_ARG);
    assert_int_equal(p.total, 5);
    uw_profile_free(&p);
}

/* Many distinct stacks: the indexes grow and every stack is found again. */
static void test_many_stacks(void **state)
{
    uw_profile p;
    uw_plabels l;
    uint32_t f[2], i;
    char name[32];
    uint32_t n = 100000;

    (void)state;
    /* as many as the profile bounds let in (all 100,000 by default) */
    if (n > UW_LIMIT_PROFILE_STACKS)
        n = UW_LIMIT_PROFILE_STACKS;
    if (n > UW_LIMIT_PROFILE_FRAMES - 1)
        n = UW_LIMIT_PROFILE_FRAMES - 1;
    if (n > UW_LIMIT_PROFILE_ITEMS / 2)
        n = UW_LIMIT_PROFILE_ITEMS / 2;
    assert_int_equal(uw_profile_init(&p), 0);
    l = labels(&p, 1, "", NULL);
    f[0] = frame(&p, "<module>", "/app/a.py", 1, UW_PFRAME_PYTHON);
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof name, "f%u", i);
        f[1] = frame(&p, name, "/app/a.py", (int64_t)i, UW_PFRAME_PYTHON);
        assert_int_equal(uw_profile_add(&p, f, 2, &l, 1), 0);
    }
    for (i = 0; i < n; i++) {
        f[1] = i + 1; /* frame ids in order of creation */
        assert_int_equal(uw_profile_add(&p, f, 2, &l, 1), 0);
    }
    assert_int_equal(p.n_stacks, n);
    assert_int_equal(p.n_frames, n + 1);
    for (i = 0; i < n; i++)
        assert_int_equal(p.stacks[i].count, 2);
    assert_int_equal(p.total, 2 * (uint64_t)n);
    uw_profile_free(&p);
}

/* Each bound at -1/0/+1 (the bounds are fields; defaults are the named
 * constants).  A stack past a bound is refused; the stacks already held
 * keep counting. */
static void test_bounds(void **state)
{
    uw_profile p;
    uw_plabels l;
    uw_pframe pf = {0, 0, 0, UW_PFRAME_PYTHON};
    uint32_t f[4], ab[2], id;

    (void)state;
    assert_int_equal(uw_profile_init(&p), 0);
    assert_int_equal(p.max_stacks, UW_LIMIT_PROFILE_STACKS);
    assert_int_equal(p.max_frames, UW_LIMIT_PROFILE_FRAMES);
    assert_int_equal(p.max_items, UW_LIMIT_PROFILE_ITEMS);
    p.max_stacks = 3;
    p.max_frames = 4;
    l = labels(&p, 1, "", NULL);
    f[0] = frame(&p, "a", "", 1, UW_PFRAME_PYTHON);
    f[1] = frame(&p, "b", "", 1, UW_PFRAME_PYTHON);
    f[2] = frame(&p, "c", "", 1, UW_PFRAME_PYTHON); /* frames: bound - 1 */
    f[3] = frame(&p, "d", "", 1, UW_PFRAME_PYTHON); /* at the bound */
    assert_int_equal(uw_profile_intern(&p, "e", 1, &pf.name), 0);
    assert_int_equal(uw_profile_frame(&p, &pf, &id), UW_ERR_LIMIT_PROFILE_FRAMES); /* + 1 */
    assert_int_equal(p.n_frames, 4);
    /* strings: interned before a frame or stack is refused, so past those
     * bounds they still grow, up to 2 * max_frames + 2 * max_stacks + 1
     * (15 here); past it a reason of their own, not the frames' */
    while (p.n_strings < 15) {
        char nm[16];
        snprintf(nm, sizeof nm, "s%u", (unsigned)p.n_strings);
        assert_int_equal(uw_profile_intern(&p, nm, strlen(nm), &id), 0); /* to the bound */
    }
    assert_int_equal(uw_profile_intern(&p, "one more", 8, &id), UW_ERR_LIMIT_PROFILE_STRINGS);
    assert_int_equal(uw_profile_intern(&p, "e", 1, &id), 0); /* one held is still found */
    assert_int_equal(id, pf.name);
    assert_int_equal(p.n_strings, 15);
    assert_int_equal(uw_profile_add(&p, &f[0], 1, &l, 1), 0);
    assert_int_equal(uw_profile_add(&p, &f[1], 1, &l, 1), 0); /* stacks: bound - 1 */
    assert_int_equal(uw_profile_add(&p, &f[2], 2, &l, 1), 0); /* at the bound */
    ab[0] = f[0];
    ab[1] = f[1];
    assert_int_equal(uw_profile_add(&p, ab, 2, &l, 1), UW_ERR_LIMIT_PROFILE_STACKS); /* + 1 */
    assert_int_equal(uw_profile_add(&p, &f[0], 1, &l, 1), 0); /* held: still counts */
    assert_int_equal(p.n_stacks, 3);
    assert_int_equal(p.stacks[0].count, 2);
    assert_int_equal(p.total, 4);
    uw_profile_free(&p);

    /* frame ids held by distinct stacks */
    assert_int_equal(uw_profile_init(&p), 0);
    p.max_items = 5;
    l = labels(&p, 1, "", NULL);
    f[0] = frame(&p, "a", "", 1, UW_PFRAME_PYTHON);
    f[1] = frame(&p, "b", "", 1, UW_PFRAME_PYTHON);
    f[2] = frame(&p, "c", "", 1, UW_PFRAME_PYTHON);
    f[3] = frame(&p, "d", "", 1, UW_PFRAME_PYTHON);
    assert_int_equal(uw_profile_add(&p, &f[0], 2, &l, 1), 0);
    assert_int_equal(uw_profile_add(&p, &f[1], 2, &l, 1), 0); /* 4: bound - 1 */
    assert_int_equal(uw_profile_add(&p, &f[3], 1, &l, 1), 0); /* 5: at the bound */
    assert_int_equal(uw_profile_add(&p, &f[2], 1, &l, 1), UW_ERR_LIMIT_PROFILE_ITEMS);
    assert_int_equal(p.n_items, 5);
    /* counts: the total stays at most UW_LIMIT_PROFILE_COUNT */
    assert_int_equal(uw_profile_add(&p, &f[0], 2, &l, UW_LIMIT_PROFILE_COUNT - 4), 0);
    assert_int_equal(p.total, UW_LIMIT_PROFILE_COUNT - 1);
    assert_int_equal(uw_profile_add(&p, &f[0], 2, &l, 1), 0);
    assert_int_equal(p.total, UW_LIMIT_PROFILE_COUNT);
    assert_int_equal(uw_profile_add(&p, &f[0], 2, &l, 1), UW_ERR_LIMIT_COUNT);
    assert_int_equal(p.total, UW_LIMIT_PROFILE_COUNT);
    uw_profile_free(&p);
    assert_int_equal(uw_profile_init(&p), 0);
    l = labels(&p, 1, "", NULL);
    f[0] = frame(&p, "a", "", 1, UW_PFRAME_PYTHON);
    assert_int_equal(uw_profile_add(&p, &f[0], 1, &l, UW_LIMIT_PROFILE_COUNT + 1),
                     UW_ERR_LIMIT_COUNT);
    assert_int_equal(p.n_stacks, 0);
    uw_profile_free(&p);
}

/* --- samples -------------------------------------------------------------- */

static int name_calls;

static const char *thread_name(void *ctx, uint64_t tid)
{
    (void)ctx;
    name_calls++;
    return tid == 100 ? "loop;thread" : NULL;
}

/* The world of test_compose: a loop thread with Tasks (one named with a
 * separator and a newline) and a plain thread. */
static void build_world(hand_sample *h)
{
    static const char *const loop[] = {"<module>", "run", "select"};
    static const char *const plain[] = {"_bootstrap", "work", "spin"};
    static const char *const f_main[] = {"main"};
    static const char *const f_batch[] = {"batch"};
    static const char *const f_fetch[] = {"fetch", "fetch_inner"};
    size_t t0, t1;

    hs_init(h);
    hs_thread(h, 100, loop, 3, 3);
    hs_thread(h, 101, plain, 3, -1);
    t0 = hs_task(h, 0, "Task-1", -1, f_main, 1);
    t1 = hs_task(h, 0, "batch-a", (int64_t)t0, f_batch, 1);
    hs_task(h, 0, "fetch;a\n0", (int64_t)t1, f_fetch, 2);
    hs_task(h, 0, "idle", (int64_t)t0, NULL, 0);
}

static void test_add_sample(void **state)
{
    hand_sample h;
    uw_profile p;
    char *text;
    int k;

    (void)state;
    build_world(&h);
    h.s.skips[uw_reason_slot(UW_SKIP_NOT_ON_STACK)] = 2;
    assert_int_equal(uw_profile_init(&p), 0);
    name_calls = 0;
    for (k = 0; k < 3; k++)
        assert_int_equal(uw_profile_add_sample(&p, &h.s, NULL, thread_name, NULL), 0);
    assert_int_equal(name_calls, 6); /* once per thread per sample */
    assert_int_equal(p.samples, 3);
    assert_int_equal(p.n_stacks, 3);
    assert_int_equal(p.total, 9);
    assert_int_equal(p.task_skips[uw_reason_slot(UW_SKIP_NOT_ON_STACK)], 6);
    assert_int_equal(p.stacks[0].labels.thread_id, 100);
    assert_string_equal(uw_profile_str(&p, p.stacks[0].labels.thread_name), "loop;thread");
    assert_string_equal(uw_profile_str(&p, p.stacks[0].labels.task_name), "fetch;a\n0");
    assert_string_equal(uw_profile_str(&p, p.stacks[1].labels.task_name), "idle");
    assert_int_equal(p.stacks[2].labels.thread_id, 101);
    assert_int_equal(p.stacks[2].labels.task_name, UW_PSTR_NONE);
    text = folded_text(&p);
    assert_string_equal(text,
                        "<thread 100 loop%3Bthread>;<module> (/app/<module>.py:10);run "
                        "(/app/run.py:11);select (/app/select.py:12);<task Task-1>;main "
                        "(/app/main.py:10);<task batch-a>;batch (/app/batch.py:10);<task "
                        "fetch%3Ba%0A0>;fetch (/app/fetch.py:10);fetch_inner "
                        "(/app/fetch_inner.py:11) 3\n"
                        "<thread 100 loop%3Bthread>;<module> (/app/<module>.py:10);run "
                        "(/app/run.py:11);select (/app/select.py:12);<task Task-1>;main "
                        "(/app/main.py:10);<task idle> 3\n"
                        "<thread 101>;_bootstrap (/app/_bootstrap.py:10);work (/app/work.py:11);"
                        "spin (/app/spin.py:12) 3\n");
    free(text);
    /* a skipped ancestor: its leaf's stack is counted by reason, not shown */
    h.s.tasks[1].skipped = UW_SKIP_TASK_CHANGED;
    assert_int_equal(uw_profile_add_sample(&p, &h.s, NULL, thread_name, NULL), 0);
    assert_int_equal(p.stack_skips[uw_reason_slot(UW_SKIP_TASK_CHANGED)], 1);
    assert_int_equal(p.stacks[0].count, 3);
    assert_int_equal(p.stacks[1].count, 4);
    assert_int_equal(uw_profile_skipped_stacks(&p), 1);
    uw_profile_free(&p);
    hs_free(&h);
}

/* Without markers the same stacks lose only their markers; labels stay,
 * and the folded writer merges stacks that now look alike. */
static void test_add_sample_bare(void **state)
{
    hand_sample h;
    uw_profile p;
    uw_compose_options o = {0, 0};
    size_t lines;
    char *text;

    (void)state;
    build_world(&h);
    h.s.tasks[3].n_frames = 0;
    assert_int_equal(uw_profile_init(&p), 0);
    assert_int_equal(uw_profile_add_sample(&p, &h.s, &o, thread_name, NULL), 0);
    assert_int_equal(p.n_stacks, 3);
    assert_string_equal(uw_profile_str(&p, p.stacks[1].labels.task_name), "idle");
    text = folded_text(&p);
    assert_string_equal(text, "<module> (/app/<module>.py:10);run (/app/run.py:11);select "
                              "(/app/select.py:12);main (/app/main.py:10);batch (/app/batch.py:10);"
                              "fetch (/app/fetch.py:10);fetch_inner (/app/fetch_inner.py:11) 1\n"
                              "<module> (/app/<module>.py:10);run (/app/run.py:11);select "
                              "(/app/select.py:12);main (/app/main.py:10) 1\n"
                              "_bootstrap (/app/_bootstrap.py:10);work (/app/work.py:11);spin "
                              "(/app/spin.py:12) 1\n");
    free(text);
    /* two leaves with the same frames share one folded line */
    assert_int_equal(uw_profile_add_sample(&p, &h.s, &o, thread_name, NULL), 0);
    assert_int_equal(uw_folded_line_count(&p, &lines), 0);
    assert_int_equal(lines, 3);
    uw_profile_free(&p);
    hs_free(&h);
}

/* --- folded round trip and reader ------------------------------------------ */

/* Hostile names survive write -> read -> write byte for byte, with their
 * labels taken back from the markers. */
static void test_folded_roundtrip(void **state)
{
    hand_sample h;
    uw_profile p, q;
    uw_folded_error err;
    char *a, *b;
    uint32_t i;

    (void)state;
    build_world(&h);
    strcpy(h.s.tasks[1].name, "b%25 ;<task x>\r\t\x01 \xc3\xa9");
    /* a qualname holding " (", which the reader splits a label at */
    free(h.codes[2]->qualname);
    h.codes[2]->qualname = strdup("odd (name) (x");
    assert_non_null(h.codes[2]->qualname);
    assert_int_equal(uw_profile_init(&p), 0);
    assert_int_equal(uw_profile_add_sample(&p, &h.s, NULL, thread_name, NULL), 0);
    assert_int_equal(uw_profile_add_sample(&p, &h.s, NULL, thread_name, NULL), 0);
    a = folded_text(&p);
    assert_int_equal(uw_profile_init(&q), 0);
    assert_int_equal(read_text(&q, a, strlen(a), NULL, &err), 0);
    b = folded_text(&q);
    assert_string_equal(a, b);
    assert_int_equal(q.n_stacks, p.n_stacks);
    assert_int_equal(q.total, p.total);
    /* every frame read back with its own name and file */
    assert_int_equal(q.n_frames, p.n_frames);
    for (i = 0; i < p.n_frames; i++) {
        assert_string_equal(uw_profile_str(&q, q.frames[i].name),
                            uw_profile_str(&p, p.frames[i].name));
        assert_string_equal(uw_profile_str(&q, q.frames[i].file),
                            uw_profile_str(&p, p.frames[i].file));
    }
    for (i = 0; i < p.n_stacks; i++) {
        assert_int_equal(q.stacks[i].labels.thread_id, p.stacks[i].labels.thread_id);
        assert_string_equal(uw_profile_str(&q, q.stacks[i].labels.thread_name),
                            uw_profile_str(&p, p.stacks[i].labels.thread_name));
        if (p.stacks[i].labels.task_name == UW_PSTR_NONE)
            assert_int_equal(q.stacks[i].labels.task_name, UW_PSTR_NONE);
        else
            assert_string_equal(uw_profile_str(&q, q.stacks[i].labels.task_name),
                                uw_profile_str(&p, p.stacks[i].labels.task_name));
    }
    free(a);
    free(b);
    uw_profile_free(&p);
    uw_profile_free(&q);
    hs_free(&h);
}

static void expect_read(const char *text, size_t len, int rc, size_t line, const char *what)
{
    uw_profile p;
    uw_folded_error err;

    assert_int_equal(uw_profile_init(&p), 0);
    assert_int_equal(read_text(&p, text, len, NULL, &err), rc);
    if (rc != 0) {
        assert_int_equal(err.line, line);
        assert_non_null(strstr(err.what, what));
    }
    uw_profile_free(&p);
}

/* Write p as folded text and read it back into a fresh profile: the
 * writer's status; on 0 the text read back must give the same lines. */
static int write_and_read_back(const uw_profile *p)
{
    uw_profile back;
    uw_folded_error err;
    memout m;
    char *again;
    int rc;

    mem_open(&m);
    rc = uw_write_folded(m.f, p);
    mem_close(&m);
    if (rc != 0) {
        assert_int_equal(m.len, 0); /* refused before a byte was written */
        free(m.buf);
        return rc;
    }
    assert_int_equal(uw_profile_init(&back), 0);
    assert_int_equal(read_text(&back, m.buf, m.len, NULL, &err), 0);
    again = folded_text(&back);
    assert_string_equal(again, m.buf);
    free(again);
    free(m.buf);
    uw_profile_free(&back);
    return 0;
}

/* A label read at the reader's bound grows when written back (a name
 * with no file gains " (:-1)"; the last label of a line holds its count
 * too): at -1/0/+1 of the bound on the written side, the profile is
 * written and read back whole, or refused with label_limit before a byte
 * is written.  Before, it was written, and the reader refused the file. */
static void test_folded_write_bound(void **state)
{
    uw_profile p;
    uw_folded_error err;
    char *text;
    size_t i, n;

    (void)state;
    text = malloc(UW_LIMIT_FOLDED_LABEL + 32);
    assert_non_null(text);
    for (i = 0; i < 3; i++) {
        /* "x..x;y 1" written "x..x (:-1);y (:-1) 1": the first label
         * LIMIT-1, LIMIT, LIMIT+1 bytes */
        n = UW_LIMIT_FOLDED_LABEL - 7 + i;
        memset(text, 'x', n);
        memcpy(text + n, ";y 1\n", 5);
        assert_int_equal(uw_profile_init(&p), 0);
        assert_int_equal(read_text(&p, text, n + 5, NULL, &err), 0);
        assert_int_equal(write_and_read_back(&p), i < 2 ? 0 : UW_ERR_LIMIT_LABEL);
        uw_profile_free(&p);
        /* "y;x..x 1" written "y (:-1);x..x (:-1) 1": the last label with
         * " 1", LIMIT-1, LIMIT, LIMIT+1 bytes */
        n = UW_LIMIT_FOLDED_LABEL - 9 + i;
        memcpy(text, "y;", 2);
        memset(text + 2, 'x', n);
        memcpy(text + 2 + n, " 1\n", 3);
        assert_int_equal(uw_profile_init(&p), 0);
        assert_int_equal(read_text(&p, text, n + 5, NULL, &err), 0);
        assert_int_equal(write_and_read_back(&p), i < 2 ? 0 : UW_ERR_LIMIT_LABEL);
        uw_profile_free(&p);
    }
    free(text);
}

static void test_folded_reader(void **state)
{
    uw_profile p;
    uw_folded_read_options o;
    uw_folded_error err;
    char *text, *big;
    size_t i, n;

    (void)state;
#define S(x) x, sizeof(x) - 1
    expect_read(S("a (/x.py:1) 2\nb (/x.py:2)\n"), UW_ERR_FORMAT, 2, "count");
    expect_read(S("a (/x.py:1) 2x\n"), UW_ERR_FORMAT, 1, "number");
    expect_read(S("a;;b 1\n"), UW_ERR_FORMAT, 1, "empty frame label");
    expect_read(S(" 1\n"), UW_ERR_FORMAT, 1, "empty frame label");
    expect_read(S("<thread x>;a 1\n"), UW_ERR_FORMAT, 1, "<thread");
    /* the largest thread id kept whole (it is written back as read), one past it refused */
    expect_read(S("<thread 9223372036854775807>;a 1\n"), 0, 0, "");
    expect_read(S("<thread 9223372036854775808>;a 1\n"), UW_ERR_FORMAT, 1, "2^63");
    /* a NUL in a label, raw or escaped: names are C strings */
    expect_read(S("a 1\nb\0c 1\n"), UW_ERR_FORMAT, 2, "NUL");
    expect_read(S("a%00b (/x.py:1) 1\n"), UW_ERR_FORMAT, 1, "NUL");
    expect_read(S("a (/x%00.py:1) 1\n"), UW_ERR_FORMAT, 1, "NUL");
    expect_read(S("<task t%00>;a 1\n"), UW_ERR_FORMAT, 1, "NUL");
    {
        char line[64];
        snprintf(line, sizeof line, "a %llu\n", (unsigned long long)UW_LIMIT_PROFILE_COUNT + 1);
        expect_read(line, strlen(line), UW_ERR_LIMIT_COUNT, 1, "UW_LIMIT_PROFILE_COUNT");
        snprintf(line, sizeof line, "a %llu\n", (unsigned long long)UW_LIMIT_PROFILE_COUNT);
        expect_read(line, strlen(line), 0, 0, "");
    }
    expect_read(S("\n\na (/x.py:1) 2\r\n\nb 1"), 0, 0, ""); /* CRLF, blank, no last newline */
    /* a label of UW_LIMIT_FOLDED_LABEL bytes at -1/0/+1 (with " 1" the last
     * label holds its count) */
    big = malloc(UW_LIMIT_FOLDED_LABEL + 16);
    assert_non_null(big);
    for (i = 0; i < 3; i++) {
        n = UW_LIMIT_FOLDED_LABEL - 1 + i;
        memset(big, 'x', n);
        memcpy(big + n, ";y 1\n", 5);
        expect_read(big, n + 5, i < 2 ? 0 : UW_ERR_LIMIT_LABEL, 1, "UW_LIMIT_FOLDED_LABEL");
    }
    free(big);
    /* frames per line at UW_LIMIT_STACK_ITEMS -1/0/+1 */
    big = malloc(2 * (UW_LIMIT_STACK_ITEMS + 2) + 8);
    assert_non_null(big);
    for (i = 0; i < 3; i++) {
        size_t frames = UW_LIMIT_STACK_ITEMS - 1 + i, k, len = 0;
        for (k = 0; k < frames; k++) {
            big[len++] = 'f';
            big[len++] = ';';
        }
        len--;
        memcpy(big + len, " 1\n", 3);
        expect_read(big, len + 3, i < 2 ? 0 : UW_ERR_LIMIT_STACK, 1, "UW_LIMIT_STACK_ITEMS");
    }
    free(big);
    /* labels of other tools are frames with no file; markers may be left out */
    assert_int_equal(uw_profile_init(&p), 0);
    uw_folded_read_options_default(&o);
    o.task_frames = 0;
    assert_int_equal(read_text(&p, S("<thread 9>;main;<task t1>;work (/w.py:3) 4\n"), &o, &err), 0);
    text = folded_text(&p);
    assert_string_equal(text, "<thread 9>;main (:-1);work (/w.py:3) 4\n");
    free(text);
    assert_string_equal(uw_profile_str(&p, p.stacks[0].labels.task_name), "t1");
    assert_int_equal(p.stacks[0].labels.thread_id, 9);
    uw_profile_free(&p);
#undef S
}

/* --- the other writers ------------------------------------------------------ */

static void hostile_profile(uw_profile *p)
{
    uint32_t f[3];
    uw_plabels l;

    assert_int_equal(uw_profile_init(p), 0);
    snprintf(p->title, sizeof p->title, "t</title><b>");
    l = labels(p, 5, "w", "</script><img src=x>");
    f[0] = frame(p, "w", "", 5, UW_PFRAME_THREAD);
    f[1] = frame(p, "</script><b>", "/a\xff.py", 1, UW_PFRAME_PYTHON);
    f[2] = frame(p, "</script><img src=x>", "", 0, UW_PFRAME_TASK);
    assert_int_equal(uw_profile_add(p, f, 3, &l, 7), 0);
    p->stack_skips[uw_reason_slot(UW_SKIP_TASK_CHANGED)] = 2;
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_html_and_speedscope(void **state)
{
    uw_profile p;
    memout m;

    (void)state;
    hostile_profile(&p);
    mem_open(&m);
    assert_int_equal(uw_write_html(m.f, &p), 0);
    mem_close(&m);
    /* only the page's own two script elements close */
    assert_int_equal(count_of(m.buf, "</script>"), 2);
    assert_int_equal(count_of(m.buf, "<img"), 0);
    assert_non_null(strstr(m.buf, "<title>t&lt;/title&gt;&lt;b&gt;</title>"));
    assert_non_null(
        strstr(m.buf, "\\u003ctask \\u003c/script\\u003e\\u003cimg src=x\\u003e\\u003e"));
    assert_non_null(strstr(m.buf, "/a\\ufffd.py"));
    assert_non_null(strstr(m.buf, "\"task_changed_while_read\":2"));
    assert_null(strstr(m.buf, "http"));
    free(m.buf);
    mem_open(&m);
    assert_int_equal(uw_write_speedscope(m.f, &p), 0);
    mem_close(&m);
    assert_non_null(strstr(m.buf, "\"type\":\"sampled\",\"name\":\"thread 5 w\""));
    assert_non_null(strstr(m.buf, "\"endValue\":7"));
    assert_non_null(strstr(m.buf, "\"samples\":[\n[0,1,2]],\n\"weights\":[7]"));
    assert_non_null(strstr(m.buf, "{\"name\":\"<task </script><img src=x>>\"}"));
    assert_non_null(strstr(m.buf, "\"file\":\"/a\\ufffd.py\",\"line\":1"));
    free(m.buf);
    uw_profile_free(&p);
}

#ifdef TORNSTACK_HAVE_PPROF
/* Is s valid UTF-8 (no overlong form, surrogate or code point past
 * U+10FFFF)?  Written apart from the writers' own check. */
static int valid_utf8(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;

    while (*s != 0) {
        unsigned cp;
        int n, i;
        if (*s < 0x80) {
            s++;
            continue;
        }
        if ((*s & 0xe0) == 0xc0)
            n = 2, cp = *s & 0x1fu;
        else if ((*s & 0xf0) == 0xe0)
            n = 3, cp = *s & 0x0fu;
        else if ((*s & 0xf8) == 0xf0)
            n = 4, cp = *s & 0x07u;
        else
            return 0;
        for (i = 1; i < n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3fu);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        s += n;
    }
    return 1;
}

static void test_pprof(void **state)
{
    uw_profile p;
    memout m;
    Perftools__Profiles__Profile *msg;
    unsigned char *raw = malloc(1 << 20);
    uLongf raw_len = 1 << 20;
    z_stream z;
    size_t i;
    int found = 0;

    (void)state;
    assert_non_null(raw);
    hostile_profile(&p);
    p.rate_hz = 200;
    mem_open(&m);
    assert_int_equal(uw_write_pprof(m.f, &p), 0);
    mem_close(&m);
    assert_true(m.len > 18 && (unsigned char)m.buf[0] == 0x1f && (unsigned char)m.buf[1] == 0x8b);
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (unsigned char *)m.buf;
    z.avail_in = (uInt)m.len;
    z.next_out = raw;
    z.avail_out = (uInt)raw_len;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    raw_len = z.total_out;
    inflateEnd(&z);
    msg = perftools__profiles__profile__unpack(NULL, raw_len, raw);
    assert_non_null(msg);
    assert_string_equal(msg->string_table[0], "");
    assert_int_equal(msg->n_sample, 1);
    assert_int_equal(msg->sample[0]->n_value, 1);
    assert_int_equal(msg->sample[0]->value[0], 7);
    assert_int_equal(msg->sample[0]->n_location_id, 3);
    assert_int_equal(msg->sample[0]->location_id[0], 3); /* innermost first */
    assert_int_equal(msg->sample[0]->location_id[2], 1);
    assert_string_equal(msg->string_table[msg->sample_type[0]->type], "samples");
    assert_int_equal(msg->period, 5000000);
    assert_int_equal(msg->sample[0]->n_label, 3);
    assert_string_equal(msg->string_table[msg->sample[0]->label[0]->key], "thread_id");
    assert_int_equal(msg->sample[0]->label[0]->num, 5);
    assert_string_equal(msg->string_table[msg->sample[0]->label[2]->key], "task_name");
    assert_string_equal(msg->string_table[msg->sample[0]->label[2]->str], "</script><img src=x>");
    for (i = 0; i < msg->n_comment; i++)
        found |= strcmp(msg->string_table[msg->comment[i]],
                        "skipped stacks task_changed_while_read: 2") == 0;
    assert_true(found);
    for (i = 0; i < msg->n_function; i++)
        found +=
            strcmp(msg->string_table[msg->function[i]->name], "<task </script><img src=x>>") == 0;
    assert_int_equal(found, 2);
    /* proto3 strings are UTF-8: the file name's invalid byte is U+FFFD */
    for (i = 0, found = 0; i < msg->n_string_table; i++) {
        assert_true(valid_utf8(msg->string_table[i]));
        found += strcmp(msg->string_table[i], "/a\xef\xbf\xbd.py") == 0;
    }
    assert_int_equal(found, 1);
    perftools__profiles__profile__free_unpacked(msg, NULL);
    free(m.buf);
    free(raw);
    uw_profile_free(&p);
}
#else
static void test_pprof(void **state)
{
    uw_profile p;

    (void)state;
    assert_int_equal(uw_profile_init(&p), 0);
    assert_int_equal(uw_write_pprof(stdout, &p), UW_ERR_NOT_BUILT);
    assert_false(uw_profile_format_built(UW_FORMAT_PPROF));
    uw_profile_free(&p);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_aggregate),
        cmocka_unit_test(test_many_stacks),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_add_sample),
        cmocka_unit_test(test_add_sample_bare),
        cmocka_unit_test(test_folded_roundtrip),
        cmocka_unit_test(test_folded_reader),
        cmocka_unit_test(test_folded_write_bound),
        cmocka_unit_test(test_html_and_speedscope),
        cmocka_unit_test(test_pprof),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
