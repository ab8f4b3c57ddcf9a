/*
 * target.c — find _PyRuntime, the version and the layout of a live process.
 *
 * Steps (each failure is a distinct code plus a sentence in `why`):
 *   1. /proc/PID/maps: every mapping at file offset 0 whose file name
 *      starts with "python" or "libpython" is a candidate object (bounded:
 *      UW_TARGET_OBJECTS; extension modules are not candidates).
 *   2. Each candidate file is mapped read-only here and parsed as ELF
 *      (bounded parser, elf.c).  The load bias is the mapping start minus
 *      the page-aligned vaddr of its first PT_LOAD.
 *   3. _PyRuntime: the dynamic/static symbol, else the .PyRuntime section.
 *      Py_Version (3.11+) decides the layout; PyCode_Type lets the walk
 *      check that a frame's code really is a code object.
 *   4. The build must be one a table describes (uw_build_check: not
 *      free-threaded, not an unknown pre-release), and from 3.13 its
 *      _Py_DebugOffsets block must match the table, field by field.
 *   5. A candidate whose runtime is not the initialised one is passed over
 *      in favour of a later one (uw_target_runtime_ready): a process can
 *      map its interpreter twice (a copy loaded with dlopen, or the file
 *      mapped by hand, as importing ctypes can cause), and the copy's
 *      runtime is empty or, read through a wrong load bias, garbage.
 *   6. 3.14+: _asyncio's own debug offsets (section .AsyncioDebug, in
 *      whichever mapped object holds it: the _asyncio extension module on
 *      Debian's 3.14, the executable on 3.15) must match the tables too.
 *      asyncio may be imported after attach, so a block not mapped yet is
 *      not an error: uw_target_find_asyncio() looks again when asked.
 *   7. A version the walks do not read yet (newer than UW_WALK_MAX_MINOR)
 *      is refused as unsupported after all the checks above passed.
 */
#define _GNU_SOURCE
#include "tornstack/target.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/asyncio_layout.h"
#include "internal/debug_offsets.h"
#include "internal/elf.h"
#include "tornstack/error.h"
#include "tornstack/reader_proc.h"

/* Candidate objects examined per process. */
#ifndef UW_TARGET_OBJECTS
#define UW_TARGET_OBJECTS 16
#endif
/* Mapped objects whose section tables are searched for .AsyncioDebug. */
#ifndef UW_TARGET_SECTION_OBJECTS
#define UW_TARGET_SECTION_OBJECTS 512
#endif
/* Lines of /proc/PID/maps read (a big process has a few thousand). */
#ifndef UW_TARGET_MAPS_LINES
#define UW_TARGET_MAPS_LINES 65536
#endif

void uw_version_string(uint64_t hex, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u", (unsigned)((hex >> 24) & 0xff), (unsigned)((hex >> 16) & 0xff),
             (unsigned)((hex >> 8) & 0xff));
}

void uw_release_string(uint64_t hex, char *buf, size_t len)
{
    static const char levels[16] = {[0xa] = 'a', [0xb] = 'b', [0xc] = 'c'};
    unsigned level = (unsigned)((hex >> 4) & 0xf);
    char v[16];

    uw_version_string(hex, v, sizeof v);
    if (level == 0xf)
        snprintf(buf, len, "%s", v);
    else if (levels[level] == 'c')
        snprintf(buf, len, "%src%u", v, (unsigned)(hex & 0xf));
    else if (levels[level] != 0)
        snprintf(buf, len, "%s%c%u", v, levels[level], (unsigned)(hex & 0xf));
    else
        snprintf(buf, len, "%s (release level 0x%x)", v, level);
}

int uw_maps_parse_line(const char *line, uw_mapping *out)
{
    unsigned long long start, end, off;
    char perms[5];
    int n = 0, consumed = 0;
    const char *p;
    size_t len;

    if (line == NULL || out == NULL)
        return UW_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    n = sscanf(line, "%llx-%llx %4s %llx %*s %*s%n", &start, &end, perms, &off, &consumed);
    if (n != 4 || consumed <= 0 || end < start)
        return UW_ERR_MAPS;
    out->start = start;
    out->end = end;
    out->offset = off;
    memcpy(out->perms, perms, sizeof perms);
    p = line + consumed;
    while (*p == ' ' || *p == '\t')
        p++;
    len = strcspn(p, "\n");
    if (len >= sizeof out->path)
        return UW_ERR_MAPS;
    memcpy(out->path, p, len);
    out->path[len] = '\0';
    /* A replaced file shows as "path (deleted)"; the name is still useful
     * through /proc/PID/root only if the file exists, so keep it as is. */
    return 0;
}

/* The interpreter lives in "python3.12", "python3.11-dbg", "libpython3.13.so.1.0"
 * and the like; extension modules ("_asyncio.cpython-312-x86_64-linux-gnu.so")
 * only mention Python inside their name and are not candidates. */
static int uw_basename_is_python(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b != NULL ? b + 1 : path;
    return strncmp(b, "python", 6) == 0 || strncmp(b, "libpython", 9) == 0;
}

typedef struct uw_candidate {
    uint64_t start;
    char path[UW_TARGET_PATH_MAX];
} uw_candidate;

static int uw_target_candidates(int pid, uw_candidate *c, size_t cap, size_t *n, char *why,
                                size_t whylen)
{
    char path[64], line[UW_TARGET_PATH_MAX + 128];
    FILE *f;
    size_t lines = 0;

    *n = 0;
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    f = fopen(path, "re");
    if (f == NULL) {
        int e = errno;
        snprintf(why, whylen, "cannot open %s: %s", path, strerror(e));
        return e == ENOENT || e == ESRCH ? UW_ERR_NO_PROCESS : UW_ERR_PERMISSION;
    }
    while (fgets(line, sizeof line, f) != NULL && lines++ < UW_TARGET_MAPS_LINES) {
        uw_mapping m;
        size_t i;
        int dup = 0;
        if (uw_maps_parse_line(line, &m) != 0 || m.offset != 0 || m.path[0] != '/')
            continue;
        if (!uw_basename_is_python(m.path))
            continue;
        for (i = 0; i < *n; i++)
            dup |= c[i].start == m.start;
        if (dup || *n >= cap)
            continue;
        c[*n].start = m.start;
        memcpy(c[*n].path, m.path, sizeof m.path);
        (*n)++;
    }
    fclose(f);
    return 0;
}

typedef struct uw_mapped_file {
    uint8_t *buf;
    size_t len;
} uw_mapped_file;

static int uw_map_file(int pid, const char *path, uw_mapped_file *out)
{
    char alt[UW_TARGET_PATH_MAX + 32];
    struct stat st;
    void *p;
    int fd;

    /* Through the target's root first: right even across mount namespaces. */
    snprintf(alt, sizeof alt, "/proc/%d/root%s", pid, path);
    fd = open(alt, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return UW_ERR_IO;
    if (fstat(fd, &st) != 0 || st.st_size <= 0) {
        close(fd);
        return UW_ERR_IO;
    }
    p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return UW_ERR_IO;
    out->buf = p;
    out->len = (size_t)st.st_size;
    return 0;
}

static void uw_unmap_file(uw_mapped_file *m)
{
    if (m->buf != NULL)
        munmap(m->buf, m->len);
    m->buf = NULL;
}

/* Builtin type objects the Task walk checks objects against. */
static void uw_target_types(const uw_elf *elf, uint64_t bias, uw_pytypes *t)
{
    static const struct {
        const char *name;
        size_t off;
    } syms[] = {
        {"PyDict_Type", offsetof(uw_pytypes, dict)},
        {"PySet_Type", offsetof(uw_pytypes, set)},
        {"PyList_Type", offsetof(uw_pytypes, list)},
        {"PyTuple_Type", offsetof(uw_pytypes, tuple)},
        {"PyLong_Type", offsetof(uw_pytypes, long_)},
        {"PyUnicode_Type", offsetof(uw_pytypes, str)},
        {"PyBytes_Type", offsetof(uw_pytypes, bytes)},
        {"_PyWeakref_RefType", offsetof(uw_pytypes, weakref)},
        {"PyModule_Type", offsetof(uw_pytypes, module)},
        {"PyCoro_Type", offsetof(uw_pytypes, coro)},
        {"PyGen_Type", offsetof(uw_pytypes, gen)},
        {"PyAsyncGen_Type", offsetof(uw_pytypes, asyncgen)},
        {"_PyAsyncGenASend_Type", offsetof(uw_pytypes, asend)},
        {"_Py_NoneStruct", offsetof(uw_pytypes, none)},
    };
    size_t i;
    uint64_t sym;

    memset(t, 0, sizeof *t);
    for (i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        if (uw__elf_find_symbol(elf, syms[i].name, &sym, NULL) == 0) {
            uint64_t v = bias + sym;
            memcpy((char *)t + syms[i].off, &v, sizeof v);
        }
    }
}

/* Is the _PyRuntime at runtime_addr the one the process runs?  A process
 * can map its interpreter a second time: a copy loaded with dlopen, whose
 * _PyRuntime was never initialised (all zero interpreter words), or the
 * file mapped by hand at offset 0, where the "_PyRuntime" computed from
 * the load bias is whatever file bytes lie there (non-zero garbage).
 * A list head that is merely non-zero does not tell these apart, so the
 * initialised runtime is recognised by what CPython 3.11-3.15 always
 * have once initialised: the main interpreter is a member of _PyRuntime
 * itself (`_main_interpreter`), `interpreters.main` points at it, with
 * room for a whole interpreter state before the runtime ends, its id is
 * 0, and the list head is non-zero and readable.  Three reads of fixed
 * size; no loop.  Returns 0, the read error for an unreadable runtime
 * (UW_ERR_NO_PROCESS and UW_ERR_PERMISSION as such, others as
 * UW_ERR_NOT_PYTHON), or UW_ERR_NOT_PYTHON with the reason in why. */
int uw_target_runtime_ready(uw_reader *r, const uw_layout *l, uint64_t runtime_addr, char *why,
                            size_t whylen)
{
    uint64_t head = 0, main_interp = 0, id = 0, word = 0;
    const uint64_t rt_size = (uint64_t)l->runtime_size, in_size = (uint64_t)l->interp_size;
    int rc;

    rc = uw_read_u64(r, runtime_addr + (uint64_t)l->runtime_interpreters_head, &head);
    if (rc == 0)
        rc = uw_read_u64(r, runtime_addr + (uint64_t)l->runtime_interpreters_main, &main_interp);
    if (rc != 0) {
        snprintf(why, whylen, "cannot read _PyRuntime at 0x%llx: %s",
                 (unsigned long long)runtime_addr, uw_strerror(rc));
        return rc == UW_ERR_NO_PROCESS || rc == UW_ERR_PERMISSION ? rc : UW_ERR_NOT_PYTHON;
    }
    if (head == 0 && main_interp == 0) {
        snprintf(why, whylen, "has no interpreter (not initialised)");
        return UW_ERR_NOT_PYTHON;
    }
    if (main_interp < runtime_addr || in_size > rt_size ||
        main_interp - runtime_addr > rt_size - in_size) {
        snprintf(why, whylen,
                 "main interpreter 0x%llx is not inside _PyRuntime at 0x%llx (not initialised, "
                 "or not a runtime)",
                 (unsigned long long)main_interp, (unsigned long long)runtime_addr);
        return UW_ERR_NOT_PYTHON;
    }
    rc = uw_read_u64(r, main_interp + (uint64_t)l->interp_id, &id);
    if (rc == UW_ERR_NO_PROCESS || rc == UW_ERR_PERMISSION)
        return rc;
    if (rc != 0 || id != 0) {
        snprintf(why, whylen, "main interpreter's id is not 0 (not initialised)");
        return UW_ERR_NOT_PYTHON;
    }
    rc = head == 0 ? UW_ERR_READ_FAULT : uw_read_u64(r, head + (uint64_t)l->interp_id, &word);
    if (rc == UW_ERR_NO_PROCESS || rc == UW_ERR_PERMISSION)
        return rc;
    if (rc != 0) {
        snprintf(why, whylen, "interpreter list head 0x%llx is unreadable (not initialised)",
                 (unsigned long long)head);
        return UW_ERR_NOT_PYTHON;
    }
    return 0;
}

/* Examine one candidate object.  Returns 0 with out filled, or an error. */
static int uw_target_try(uw_reader *r, int pid, const uw_candidate *c, uw_target *out, char *why,
                         size_t whylen)
{
    uw_mapped_file mf = {NULL, 0};
    uw_elf elf;
    uint64_t vaddr, foff, sym, size, bias, version = 0;
    char vs[24], w2[256];
    int rc, has_version;

    rc = uw_map_file(pid, c->path, &mf);
    if (rc != 0) {
        snprintf(why, whylen, "cannot read %s", c->path);
        return UW_ERR_NOT_PYTHON;
    }
    rc = uw__elf_open(&elf, mf.buf, mf.len);
    if (rc == 0)
        rc = uw__elf_first_load(&elf, &vaddr, &foff);
    if (rc != 0) {
        snprintf(why, whylen, "%s is not a usable ELF object", c->path);
        uw_unmap_file(&mf);
        return UW_ERR_NOT_PYTHON;
    }
    bias = c->start - vaddr;
    if (uw__elf_find_symbol(&elf, "_PyRuntime", &sym, NULL) != 0 &&
        uw__elf_find_section(&elf, ".PyRuntime", &sym, &size) != 0) {
        snprintf(why, whylen, "%s has no _PyRuntime", c->path);
        uw_unmap_file(&mf);
        return UW_ERR_NOT_PYTHON;
    }
    memset(out, 0, sizeof *out);
    out->pid = pid;
    out->runtime_addr = bias + sym;
    has_version = uw__elf_find_symbol(&elf, "Py_Version", &sym, NULL) == 0;
    if (has_version)
        has_version = uw_read_u64(r, bias + sym, &version) == 0;
    if (uw__elf_find_symbol(&elf, "PyCode_Type", &sym, NULL) == 0)
        out->code_type = bias + sym;
    uw_target_types(&elf, bias, &out->types);
    if (uw__elf_find_symbol(&elf, "_PySet_Dummy", &sym, NULL) == 0 &&
        uw_read_u64(r, bias + sym, &out->types.set_dummy) != 0)
        out->types.set_dummy = 0;
    snprintf(out->object_path, sizeof out->object_path, "%s", c->path);
    uw_unmap_file(&mf);

    if (!has_version) {
        /* Before 3.11 there is no Py_Version: name the version from the
         * file name ("libpython3.10.so", "python3.9") when it says. */
        const char *b = strrchr(c->path, '/'), *p;
        unsigned major = 0, minor = 0;
        b = b != NULL ? b + 1 : c->path;
        p = strstr(b, "python");
        if (p != NULL && sscanf(p, "python%u.%u", &major, &minor) == 2)
            snprintf(why, whylen, "Python %u.%u in %s (older than 3.11, no Py_Version)", major,
                     minor, c->path);
        else
            snprintf(why, whylen, "%s: Python older than 3.11 (no Py_Version)", c->path);
        return UW_ERR_UNSUPPORTED_VERSION;
    }
    out->py_version = version;
    uw_release_string(version, vs, sizeof vs);
    out->layout =
        (version >> 24) == 3 ? uw__layout_table_for_minor((int)((version >> 16) & 0xff)) : NULL;
    if (out->layout == NULL) {
        snprintf(why, whylen, "Python %s in %s", vs, c->path);
        return UW_ERR_UNSUPPORTED_VERSION;
    }
    /* The build and its debug offsets first: a free-threaded runtime has
     * its interpreter list elsewhere, so reading it with our table would
     * misname it "not initialised". */
    rc = uw_target_check_runtime(r, out, why, whylen);
    if (rc != 0) {
        if (rc == UW_ERR_READ_FAULT || rc == UW_ERR_READ_SHORT) {
            snprintf(why, whylen, "cannot read _PyRuntime at 0x%llx in %s: %s",
                     (unsigned long long)out->runtime_addr, c->path, uw_strerror(rc));
            return UW_ERR_NOT_PYTHON;
        }
        return rc;
    }
    rc = uw_target_runtime_ready(r, out->layout, out->runtime_addr, w2, sizeof w2);
    if (rc != 0) {
        snprintf(why, whylen, "Python %s runtime in %s: %s", vs, c->path, w2);
        return rc;
    }
    return 0;
}

/* Judge a located runtime before anything is read through the table: the
 * build first (uw_build_check: no table fits a free-threaded build or an
 * unknown pre-release, whatever its fields say), then every field of the
 * _Py_DebugOffsets block.  One read of at most UW_TARGET_DEBUG_BLOCK_MAX
 * bytes (the table's block size; a larger table is a bad table). */
int uw_target_check_runtime(uw_reader *r, uw_target *t, char *why, size_t whylen)
{
    uint8_t blk[UW_TARGET_DEBUG_BLOCK_MAX];
    char detail[256], vs[24], dummy[8];
    size_t n;
    int rc;

    if (why == NULL || whylen == 0) {
        why = dummy;
        whylen = sizeof dummy;
    }
    why[0] = '\0';
    if (r == NULL || t == NULL || t->layout == NULL)
        return UW_ERR_INVALID_ARG;
    uw_release_string(t->py_version, vs, sizeof vs);
    n = t->layout->debug_offsets_size > 0 ? (size_t)t->layout->debug_offsets_size : 0;
    if (n > sizeof blk)
        return UW_ERR_BAD_LAYOUT;
    if (n > 0) {
        rc = uw_read(r, t->runtime_addr, blk, n);
        if (rc != 0) {
            snprintf(why, whylen, "cannot read _Py_DebugOffsets: %s", uw_strerror(rc));
            return rc;
        }
    }
    rc = uw_build_check(t->layout, t->py_version, n > 0 ? blk : NULL, n, detail, sizeof detail);
    if (rc != 0) {
        snprintf(why, whylen, "%s", detail);
        return rc;
    }
    if (n > 0) {
        rc = uw__debug_offsets_check(t->layout, t->py_version, blk, n, detail, sizeof detail);
        if (rc != 0) {
            snprintf(why, whylen, "Python %s: debug offsets mismatch: %s", vs, detail);
            return UW_ERR_DEBUG_OFFSETS;
        }
    }
    return 0;
}

/* One .AsyncioDebug block: the section must be large enough for the
 * block this version defines, and its words equal the tables.  One read of
 * debug_size bytes (104), bounded by UW_TARGET_DEBUG_BLOCK_MAX. */
int uw_target_check_asyncio_at(uw_reader *r, const uw_target *t, uint64_t addr,
                               uint64_t section_size, char *why, size_t whylen)
{
    const uw_asyncio_layout *al;
    uint8_t blk[UW_TARGET_DEBUG_BLOCK_MAX];
    char detail[256], vs[24], dummy[8];
    int rc;

    if (why == NULL || whylen == 0) {
        why = dummy;
        whylen = sizeof dummy;
    }
    why[0] = '\0';
    if (r == NULL || t == NULL || t->layout == NULL)
        return UW_ERR_INVALID_ARG;
    al = uw__asyncio_layout_for_minor(t->layout->py_minor);
    if (al == NULL || al->debug_size <= 0 || (size_t)al->debug_size > sizeof blk)
        return UW_ERR_INVALID_ARG;
    uw_release_string(t->py_version, vs, sizeof vs);
    if (section_size < (uint64_t)al->debug_size) {
        snprintf(why, whylen,
                 "Python %s: _asyncio debug offsets mismatch: section is %llu bytes, "
                 "expected %d",
                 vs, (unsigned long long)section_size, (int)al->debug_size);
        return UW_ERR_DEBUG_OFFSETS;
    }
    rc = uw_read(r, addr, blk, (size_t)al->debug_size);
    if (rc != 0) {
        snprintf(why, whylen, "cannot read _asyncio debug offsets at 0x%llx: %s",
                 (unsigned long long)addr, uw_strerror(rc));
        return rc;
    }
    rc = uw_asyncio_debug_check(t->layout, al, blk, (size_t)al->debug_size, detail, sizeof detail);
    if (rc != 0) {
        snprintf(why, whylen, "Python %s: _asyncio debug offsets mismatch: %s", vs, detail);
        return UW_ERR_DEBUG_OFFSETS;
    }
    return 0;
}

/* Rank of a mapped object for the .AsyncioDebug search: the interpreter
 * itself first (3.15 builds _asyncio in), then _asyncio extension modules
 * (3.14), then everything else. */
static int uw_section_rank(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b != NULL ? b + 1 : path;
    if (uw_basename_is_python(path))
        return 0;
    if (strncmp(b, "_asyncio", 8) == 0)
        return 1;
    return 2;
}

/* Every object mapped at file offset 0 (one per start address), at most
 * cap of them, in uw_section_rank order.  Past cap, an object of a better
 * rank takes the place of the last one kept of the worst: a program that
 * maps hundreds of files of its own after importing asyncio has them at
 * lower addresses, listed first, and they must not crowd the interpreter
 * or an _asyncio module out of the search.  *n: how many are kept; *more:
 * set when objects were left out, or maps was read only to
 * UW_TARGET_MAPS_LINES lines. */
static int uw_target_mapped_objects(int pid, uw_candidate *c, size_t cap, size_t *n, int *more)
{
    char path[64], line[UW_TARGET_PATH_MAX + 128];
    FILE *f;
    size_t lines = 0, i, j;

    *n = 0;
    *more = 0;
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    f = fopen(path, "re");
    if (f == NULL)
        return errno == ENOENT || errno == ESRCH ? UW_ERR_NO_PROCESS : UW_ERR_PERMISSION;
    while (fgets(line, sizeof line, f) != NULL) {
        uw_mapping m;
        int dup = 0;
        if (lines++ == UW_TARGET_MAPS_LINES) {
            *more = 1;
            break;
        }
        if (uw_maps_parse_line(line, &m) != 0 || m.offset != 0 || m.path[0] != '/')
            continue;
        for (i = 0; i < *n && !dup; i++)
            dup = c[i].start == m.start;
        if (dup)
            continue;
        if (*n < cap) {
            i = (*n)++;
        } else {
            *more = 1;
            if (uw_section_rank(m.path) == 2)
                continue;
            for (i = *n; i > 0 && uw_section_rank(c[i - 1].path) < 2; i--)
                ;
            if (i-- == 0)
                continue; /* cap objects of the better ranks already */
        }
        c[i].start = m.start;
        memcpy(c[i].path, m.path, sizeof m.path);
    }
    fclose(f);
    /* Stable insertion sort by rank (n is at most cap). */
    for (i = 1; i < *n; i++) {
        uw_candidate x = c[i];
        int rx = uw_section_rank(x.path);
        for (j = i; j > 0 && uw_section_rank(c[j - 1].path) > rx; j--)
            c[j] = c[j - 1];
        c[j] = x;
    }
    return 0;
}

/* Where _asyncio's block is depends on how the interpreter was built (an
 * extension module, or linked into the executable or libpython), and it
 * appears only once asyncio is imported, so every mapped object is a
 * candidate and a miss is an answer for now, not an error.  Bounds:
 * UW_TARGET_MAPS_LINES lines of maps, UW_TARGET_SECTION_OBJECTS objects,
 * each file's section table parsed by the bounded ELF reader; the first
 * object with the section decides (a mismatch there is final). */
int uw_target_find_asyncio(uw_reader *r, uw_target *t, char *why, size_t whylen)
{
    uw_candidate *objs;
    const uw_asyncio_layout *al;
    char dummy[8];
    size_t n = 0, i;
    pid_t id = 0;
    int rc, more = 0;

    if (why == NULL || whylen == 0) {
        why = dummy;
        whylen = sizeof dummy;
    }
    why[0] = '\0';
    if (r == NULL || t == NULL || t->layout == NULL)
        return UW_ERR_INVALID_ARG;
    if (t->asyncio_debug_addr != 0)
        return 0;
    al = uw__asyncio_layout_for_minor(t->layout->py_minor);
    if (al == NULL || al->debug_size <= 0) {
        snprintf(why, whylen, "3.%d publishes no _asyncio debug offsets", t->layout->py_minor);
        return UW_ERR_NOT_FOUND;
    }
    if (t->pid <= 0) {
        snprintf(why, whylen, "no mapped objects to search (simulated target)");
        return UW_ERR_NOT_FOUND;
    }
    objs = calloc(UW_TARGET_SECTION_OBJECTS, sizeof *objs);
    if (objs == NULL)
        return UW_ERR_NOMEM;
    rc = uw_proc_read_id(t->pid, &id);
    if (rc == 0)
        rc = uw_target_mapped_objects(id, objs, UW_TARGET_SECTION_OBJECTS, &n, &more);
    if (rc != 0) {
        snprintf(why, whylen, "cannot read /proc/%d/maps", (int)id);
        free(objs);
        return rc;
    }
    for (i = 0; i < n; i++) {
        uw_mapped_file mf = {NULL, 0};
        uw_elf elf;
        uint64_t vaddr, foff, addr, size;
        if (uw_map_file(id, objs[i].path, &mf) != 0)
            continue;
        rc = uw__elf_open(&elf, mf.buf, mf.len);
        if (rc == 0)
            rc = uw__elf_first_load(&elf, &vaddr, &foff);
        if (rc == 0)
            rc = uw__elf_find_section(&elf, ".AsyncioDebug", &addr, &size);
        uw_unmap_file(&mf);
        if (rc != 0)
            continue;
        addr += objs[i].start - vaddr;
        rc = uw_target_check_asyncio_at(r, t, addr, size, why, whylen);
        if (rc == 0) {
            t->asyncio_debug_addr = addr;
            snprintf(t->asyncio_debug_path, sizeof t->asyncio_debug_path, "%s", objs[i].path);
        }
        free(objs);
        return rc;
    }
    snprintf(why, whylen,
             "no .AsyncioDebug section in the %zu mapped objects searched%s (asyncio not "
             "imported yet?)",
             n,
             more ? ", of more mapped (UW_TARGET_SECTION_OBJECTS, the interpreter and _asyncio "
                    "modules first)"
                  : "");
    free(objs);
    return UW_ERR_NOT_FOUND;
}

/* The last steps once a runtime is found: 3.14+'s _asyncio block when it
 * is mapped (a later import is found by uw_target_find_asyncio), then the
 * walk-support gate. */
static int uw_target_accept(uw_reader *r, uw_target *t, char *why, size_t whylen)
{
    char vs[24], w[512];
    int rc;

    rc = uw_target_find_asyncio(r, t, w, sizeof w);
    if (rc != 0 && rc != UW_ERR_NOT_FOUND) {
        snprintf(why, whylen, "%s", w);
        return rc == UW_ERR_READ_FAULT || rc == UW_ERR_READ_SHORT ? UW_ERR_DEBUG_OFFSETS : rc;
    }
    if (uw__layout_for_minor(t->layout->py_minor) == NULL) {
        uw_release_string(t->py_version, vs, sizeof vs);
        snprintf(why, whylen,
                 "Python %s in %s: its layout and debug offsets match, but the frame and Task "
                 "walks do not read 3.%d yet",
                 vs, t->object_path, t->layout->py_minor);
        return UW_ERR_UNSUPPORTED_VERSION;
    }
    return 0;
}

int uw_target_find(uw_reader *r, int pid, uw_target *out, char *why, size_t whylen)
{
    uw_candidate cand[UW_TARGET_OBJECTS];
    char dummy[8];
    size_t n = 0, i;
    pid_t id;
    int rc, worst = UW_ERR_NOT_PYTHON;

    if (why == NULL || whylen == 0) {
        why = dummy;
        whylen = sizeof dummy;
    }
    why[0] = '\0';
    if (r == NULL || out == NULL || pid <= 0)
        return UW_ERR_INVALID_ARG;
    /* /proc/PID of a process whose first thread has exited maps nothing:
     * its files are read through a thread that lives (reader_proc.h) */
    rc = uw_proc_read_id(pid, &id);
    if (rc != 0) {
        snprintf(why, whylen, "no thread of pid %d can be read", pid);
        return rc;
    }
    rc = uw_target_candidates(id, cand, UW_TARGET_OBJECTS, &n, why, whylen);
    if (rc != 0)
        return rc;
    if (n == 0) {
        snprintf(why, whylen, "pid %d maps no python executable or libpython", pid);
        return UW_ERR_NOT_PYTHON;
    }
    /* Prefer the most specific failure across candidates: a version or
     * debug-offset refusal says more than "no _PyRuntime here". */
    for (i = 0; i < n; i++) {
        char w[512];
        rc = uw_target_try(r, id, &cand[i], out, w, sizeof w);
        if (rc == 0) {
            out->pid = pid;
            return uw_target_accept(r, out, why, whylen);
        }
        if (rc == UW_ERR_NO_PROCESS || rc == UW_ERR_PERMISSION) {
            snprintf(why, whylen, "%s", w);
            return rc;
        }
        if (worst == UW_ERR_NOT_PYTHON || rc == UW_ERR_DEBUG_OFFSETS ||
            rc == UW_ERR_UNSUPPORTED_BUILD) {
            if (rc != UW_ERR_NOT_PYTHON || why[0] == '\0')
                snprintf(why, whylen, "%s", w);
            worst = rc;
        }
    }
    return worst;
}
