/*
 * seedgen — write the committed seed corpus of every fuzz target.
 *
 *   fuzz_seedgen CORPUS_DIR
 *
 * Seeds are built from the same tables and fabricators the project uses,
 * so regenerating gives the same bytes (the corpus ctest checks that).
 * A target's parameters sit at the end of its input (fuzz_data.h): each
 * seed is its payload, then its parameters (fz_write_tail).
 *   race/          the all-zero scenario and a spread of scenario bytes, per
 *                  shape, and for 3.14 and 3.15
 *   memory/        empty-ish memory and a fabricated 3.13 process image
 *   elf/           a minimal ELF with _PyRuntime and a .PyRuntime section
 *   linetable/     tables in every entry form
 *   debug_offsets/ a valid 3.13 block and a free-threaded one
 *   dict_set/      per version: a set, a dict and instances with a managed
 *                  dict (values or a real dict) laid out at FZ_BASE + 64
 */
#define _POSIX_C_SOURCE 200809L
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal/asyncio_layout.h"
#include "internal/layout.h"

static void fz_write(const char *dir, const char *target, const char *name, const void *b, size_t n)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, target);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(b, 1, n, f) != n) {
        fprintf(stderr, "seedgen: cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

/* payload[0..n), then the parameters tail[0..nt) as they end the input. */
static void fz_write_tail(const char *dir, const char *target, const char *name,
                          const void *payload, size_t n, const void *tail, size_t nt)
{
    uint8_t *b = malloc(n + nt);

    if (b == NULL) {
        fprintf(stderr, "seedgen: out of memory\n");
        exit(1);
    }
    memcpy(b, payload, n);
    memcpy(b + n, tail, nt);
    fz_write(dir, target, name, b, n + nt);
    free(b);
}

static void seeds_race(const char *dir)
{
    uint8_t b[20];
    uint64_t x = 0x243f6a8885a308d3ull;
    int k, i;
    memset(b, 0, sizeof b);
    fz_write(dir, "race", "zero", b, sizeof b);
    for (k = 0; k < 12; k++) {
        char name[32];
        for (i = 0; i < 20; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b[i] = (uint8_t)(x >> 24);
        }
        b[0] = (uint8_t)(k % 3);
        b[1] = (uint8_t)(k / 3 % 2);
        b[18] %= 16;
        snprintf(name, sizeof name, "scenario-%02d", k);
        fz_write(dir, "race", name, b, sizeof b);
    }
    /* The server shape (byte 21): loops, gathers, TaskGroups, children,
     * orphans, memory reuse, hook records; small programs (byte 35). */
    {
        uint8_t sb[38];
        memset(sb, 0, sizeof sb);
        sb[21] = 1;
        fz_write(dir, "race", "server-zero", sb, sizeof sb);
        for (k = 0; k < 12; k++) {
            char name[32];
            for (i = 0; i < (int)sizeof sb; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                sb[i] = (uint8_t)(x >> 24);
            }
            sb[0] = (uint8_t)(k % 3);
            sb[1] = (uint8_t)(k / 3 % 4);
            sb[18] %= 16;
            sb[21] = 1;
            sb[31] = (uint8_t)((sb[31] & ~1u) | (k & 1)); /* hook records in half */
            sb[35] = 0;
            snprintf(name, sizeof name, "server-%02d", k);
            fz_write(dir, "race", name, sb, sizeof sb);
        }
    }
    /* 3.14 and 3.15 (byte 38: 1 is 3.14, 2 is 3.15): per-thread Task lists,
     * awaited_by, the running Task, tagged stack references; classic and
     * server programs under every memory model. */
    {
        uint8_t vb[39];
        int minor;
        for (minor = 14; minor <= 15; minor++) {
            for (k = 0; k < 12; k++) {
                char name[32];
                for (i = 0; i < (int)sizeof vb; i++) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    vb[i] = (uint8_t)(x >> 24);
                }
                vb[0] = 0;
                vb[1] = (uint8_t)(k % 4);
                vb[18] %= 16;
                vb[20] &= 0x01;                    /* every class on (tears off in some) */
                vb[21] = (uint8_t)(k < 4 ? 0 : 1); /* 4 classic, 8 server */
                vb[31] = (uint8_t)((vb[31] & ~1u) | (k & 1));
                vb[35] = 0;
                vb[38] = (uint8_t)(minor - 13);
                snprintf(name, sizeof name, "%s-3.%d-%02d", k < 4 ? "classic" : "server", minor,
                         k < 4 ? k : k - 4);
                fz_write(dir, "race", name, vb, sizeof vb);
            }
        }
    }
}

static void seeds_linetable(const char *dir)
{
    static const uint8_t t1[] = {10,
                                 0,
                                 0,
                                 0,
                                 3,
                                 0,
                                 0,
                                 0,
                                 0x80 | (3 << 3) | 1,
                                 0x05,
                                 0x80 | (11 << 3),
                                 0x02,
                                 0x09,
                                 0x80 | (13 << 3) | 2,
                                 0x07,
                                 0x80 | (15 << 3),
                                 0x80 | (14 << 3),
                                 0x50,
                                 0x01,
                                 0x00,
                                 0x05,
                                 0x09};
    static const uint8_t t2[] = {1,    0,    0,    0,    0,    0,   0, 0, 0x80 | (13 << 3),
                                 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x01};
    uint8_t tail[8];

    /* first line and unit index, as they were at the front: the unit's 4
     * bytes, then the first line's, end the input */
    memcpy(tail, t1 + 4, 4);
    memcpy(tail + 4, t1, 4);
    fz_write_tail(dir, "linetable", "forms", t1 + 8, sizeof t1 - 8, tail, 8);
    memcpy(tail, t2 + 4, 4);
    memcpy(tail + 4, t2, 4);
    fz_write_tail(dir, "linetable", "long-varint", t2 + 8, sizeof t2 - 8, tail, 8);
}

/* 3.14/3.15: a valid _Py_DebugOffsets block, the same claiming a beta,
 * and a valid .AsyncioDebug block (no cookie: judged as _asyncio's). */
static void seeds_debug_offsets_314(const char *dir, int minor)
{
    const uw_layout *l = uw__layout_table_for_minor(minor);
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(minor);
    uint8_t b[8 + 1024];
    uint64_t v = 0x030000f0ull | ((uint64_t)minor << 16), beta = v - 0xf0 + 0xb1;
    const uint64_t w[13] = {(uint64_t)al->task_size,
                            (uint64_t)al->task_name,
                            (uint64_t)al->fut_awaited_by,
                            (uint64_t)al->fut_is_task,
                            (uint64_t)al->fut_awaited_by_is_set,
                            (uint64_t)al->task_coro,
                            (uint64_t)al->task_node,
                            (uint64_t)l->interp_size,
                            (uint64_t)l->interp_asyncio_tasks_head,
                            (uint64_t)l->tstate_impl_size,
                            (uint64_t)l->tstate_asyncio_running_loop,
                            (uint64_t)l->tstate_asyncio_running_task,
                            (uint64_t)l->tstate_asyncio_tasks_head};
    char name[32];
    size_t i;

    memset(b, 0, sizeof b);
    memcpy(b, &v, 8);
    memcpy(b + 8, "xdebugpy", 8);
    memcpy(b + 8 + l->debug_version_at, &v, 8);
    for (i = 0; i < l->n_debug_fields; i++)
        memcpy(b + 8 + l->debug_fields[i].at, &l->debug_fields[i].expect, 8);
    snprintf(name, sizeof name, "valid-3.%d", minor);
    fz_write_tail(dir, "debug_offsets", name, b + 8, (size_t)l->debug_offsets_size, &v, 8);
    snprintf(name, sizeof name, "prerelease-3.%d", minor);
    fz_write_tail(dir, "debug_offsets", name, b + 8, (size_t)l->debug_offsets_size, &beta, 8);
    memset(b, 0, sizeof b);
    memcpy(b, &v, 8);
    memcpy(b + 8, w, sizeof w);
    snprintf(name, sizeof name, "asyncio-3.%d", minor);
    fz_write_tail(dir, "debug_offsets", name, b + 8, sizeof w, &v, 8);
}

static void seeds_debug_offsets(const char *dir)
{
    const uw_layout *l = uw__layout_for_minor(13);
    uint8_t b[8 + 1024];
    uint64_t v = 0x030d00f0, one = 1;
    size_t i;
    memset(b, 0, sizeof b);
    memcpy(b, &v, 8);
    memcpy(b + 8, "xdebugpy", 8);
    memcpy(b + 16, &v, 8);
    for (i = 0; i < l->n_debug_fields; i++)
        memcpy(b + 8 + l->debug_fields[i].at, &l->debug_fields[i].expect, 8);
    fz_write_tail(dir, "debug_offsets", "valid-3.13", b + 8, (size_t)l->debug_offsets_size, &v, 8);
    memcpy(b + 24, &one, 8);
    fz_write_tail(dir, "debug_offsets", "free-threaded", b + 8, (size_t)l->debug_offsets_size, &v,
                  8);
    seeds_debug_offsets_314(dir, 14);
    seeds_debug_offsets_314(dir, 15);
}

static void seeds_elf(const char *dir)
{
    uint8_t b[0x300];
    Elf64_Ehdr h;
    Elf64_Shdr sh[4];
    Elf64_Sym sym[2];
    static const char shstr[] = "\0.shstrtab\0.strtab\0.symtab\0.PyRuntime";
    static const char strtab[] = "\0_PyRuntime";
    memset(b, 0, sizeof b);
    memset(&h, 0, sizeof h);
    memcpy(h.e_ident, ELFMAG, SELFMAG);
    h.e_ident[EI_CLASS] = ELFCLASS64;
    h.e_ident[EI_DATA] = ELFDATA2LSB;
    h.e_shoff = 0x200;
    h.e_shnum = 4;
    h.e_shentsize = sizeof(Elf64_Shdr);
    h.e_shstrndx = 1;
    memcpy(b, &h, sizeof h);
    memcpy(b + 0x100, shstr, sizeof shstr);
    memcpy(b + 0x140, strtab, sizeof strtab);
    memset(sym, 0, sizeof sym);
    sym[1].st_name = 1;
    sym[1].st_value = 0x5000;
    sym[1].st_shndx = 3;
    memcpy(b + 0x160, sym, sizeof sym);
    memset(sh, 0, sizeof sh);
    sh[1] = (Elf64_Shdr){
        .sh_name = 1, .sh_type = SHT_STRTAB, .sh_offset = 0x100, .sh_size = sizeof shstr};
    sh[2] = (Elf64_Shdr){.sh_name = 19,
                         .sh_type = SHT_SYMTAB,
                         .sh_offset = 0x160,
                         .sh_size = sizeof sym,
                         .sh_link = 3,
                         .sh_entsize = sizeof(Elf64_Sym)};
    sh[3] = (Elf64_Shdr){
        .sh_name = 11, .sh_type = SHT_STRTAB, .sh_offset = 0x140, .sh_size = sizeof strtab};
    memcpy(b + 0x200, sh, sizeof sh);
    fz_write(dir, "elf", "minimal", b, 0x200 + sizeof sh);
}

/* A 3.12 process in fuzz memory: runtime at FZ_BASE (0x10000000), one
 * interpreter, one thread whose current frame is a frame of a code object. */
static void seeds_memory(const char *dir)
{
    const uw_layout *l = uw__layout_for_minor(12);
    static uint8_t b[4096];
    const uint64_t base = 0x10000000ull;
    uint64_t interp = base + 1024, ts = base + 1536, cf = base + 1900, frame = base + 2000,
             code = base + 2200;
    const uint8_t v311 = 0, v312 = 1; /* the version: the last byte */
    uint64_t v;

    memset(b, 0, sizeof b);
    fz_write_tail(dir, "memory", "zero", b, 64, &v311, 1);
#define PUT(addr, val) (v = (val), memcpy(b + ((addr)-base), &v, 8))
    PUT(base + (uint64_t)l->runtime_interpreters_head, interp);
    PUT(interp + (uint64_t)l->interp_threads_head, ts);
    PUT(ts + (uint64_t)l->tstate_cframe, cf);
    PUT(cf + (uint64_t)l->cframe_current_frame, frame);
    PUT(frame + (uint64_t)l->frame_code, code);
    PUT(code + (uint64_t)l->object_type, base + 8);
    PUT(frame + (uint64_t)l->frame_instr, code + (uint64_t)l->code_adaptive);
#undef PUT
    fz_write_tail(dir, "memory", "one-frame-3.12", b, sizeof b, &v312, 1);
}

/* dict_set seeds: objects laid out in a buffer mapped at FZ_BASE, the one
 * read at FZ_BASE + 64.  sd_* write into the buffer by target address. */
#define SD_BASE ((uint64_t)0x10000000)
#define SD_SIZE 4096

static void sd_put64(uint8_t *b, uint64_t addr, uint64_t v)
{
    memcpy(b + (addr - SD_BASE), &v, 8);
}

/* A compact ASCII str at addr. */
static void sd_str(uint8_t *b, const uw_layout *l, uint64_t addr, const char *s)
{
    uint32_t state = (uint32_t)l->unicode_compact_mask | (1u << l->unicode_kind_shift) |
                     (uint32_t)l->unicode_ascii_mask;
    sd_put64(b, addr + (uint64_t)l->unicode_length, strlen(s));
    memcpy(b + (addr - SD_BASE) + l->unicode_state, &state, 4);
    memcpy(b + (addr - SD_BASE) + l->unicode_ascii_data, s, strlen(s) + 1);
}

/* A keys object at addr with one str key (at key_addr) and, for a combined
 * table, its value. */
static void sd_keys(uint8_t *b, const uw_layout *l, uint64_t addr, uint64_t key_addr,
                    uint64_t value, int kind)
{
    uint64_t e = addr + (uint64_t)l->dictkeys_indices + 8;
    int64_t one = 1;
    b[addr - SD_BASE + (uint64_t)l->dictkeys_log2_size] = 3;
    b[addr - SD_BASE + (uint64_t)l->dictkeys_log2_index_bytes] = 3;
    b[addr - SD_BASE + (uint64_t)l->dictkeys_kind] = (uint8_t)kind;
    memcpy(b + (addr - SD_BASE) + l->dictkeys_nentries, &one, 8);
    sd_put64(b, e + (uint64_t)l->dictuentry_key, key_addr);
    sd_put64(b, e + (uint64_t)l->dictuentry_value, value);
}

static void seeds_dict_set(const char *dir)
{
    static uint8_t b[SD_SIZE];
    const uint64_t obj = SD_BASE + 64, found = SD_BASE + 3000;
    char name[64];
    int minor;

    for (minor = 11; minor <= 13; minor++) {
        const uw_layout *l = uw__layout_for_minor(minor);
        const uint64_t table = SD_BASE + 512, key = SD_BASE + 800;
        const uint64_t type = SD_BASE + 1024, keys = SD_BASE + 2048, values = SD_BASE + 2560;
        const uint8_t version = (uint8_t)(minor - 11); /* the last byte */
        int64_t mask = 7, used = 1, basicsize = 32;

        /* a set with one key */
        memset(b, 0, sizeof b);
        memcpy(b + 64 + l->set_mask, &mask, 8);
        memcpy(b + 64 + l->set_table, &table, 8);
        sd_put64(b, table + (uint64_t)l->setentry_key, key);
        snprintf(name, sizeof name, "set-3.%d", minor);
        fz_write_tail(dir, "dict_set", name, b, 1024, &version, 1);

        /* a dict {"asyncio.tasks": found}, combined table */
        memset(b, 0, sizeof b);
        sd_put64(b, obj + (uint64_t)l->dict_used, (uint64_t)used);
        sd_put64(b, obj + (uint64_t)l->dict_keys, keys);
        sd_keys(b, l, keys, key, found, l->dictkeys_kind_unicode);
        sd_str(b, l, key, "asyncio.tasks");
        snprintf(name, sizeof name, "dict-3.%d", minor);
        fz_write_tail(dir, "dict_set", name, b, sizeof b, &version, 1);

        /* an instance whose attribute `data` lives where this version keeps
         * a managed dict's values: 3.11 a values pointer before the object,
         * 3.12 a tagged values pointer, 3.13 values inline after it */
        memset(b, 0, sizeof b);
        sd_put64(b, obj + (uint64_t)l->object_type, type);
        sd_put64(
            b, type + (uint64_t)l->type_flags,
            (uint64_t)l->tpflags_managed_dict |
                (l->tpflags_inline_values != UW_ABSENT ? (uint64_t)l->tpflags_inline_values : 0));
        memcpy(b + (type - SD_BASE) + l->type_basicsize, &basicsize, 8);
        sd_put64(b, type + (uint64_t)l->heaptype_cached_keys, keys);
        sd_keys(b, l, keys, key, 0, l->dictkeys_kind_split);
        sd_str(b, l, key, "data");
        if (l->managed_dict_mode == 11) {
            sd_put64(b, obj + (uint64_t)(int64_t)l->managed_values, values);
            sd_put64(b, values + (uint64_t)l->dictvalues_values, found);
        } else if (l->managed_dict_mode == 12) {
            sd_put64(b, obj + (uint64_t)(int64_t)l->managed_dict, values - 1);
            sd_put64(b, values + (uint64_t)l->dictvalues_values, found);
        } else {
            uint64_t inl = obj + (uint64_t)basicsize;
            b[inl - SD_BASE + 3] = 1; /* "valid" */
            sd_put64(b, inl + (uint64_t)l->dictvalues_values, found);
        }
        snprintf(name, sizeof name, "instance-values-3.%d", minor);
        fz_write_tail(dir, "dict_set", name, b, sizeof b, &version, 1);

        /* the same attribute in a materialised dict */
        memset(b + 1024, 0, sizeof b - 1024);
        if (l->managed_dict_mode == 11)
            sd_put64(b, obj + (uint64_t)(int64_t)l->managed_values, 0);
        sd_put64(b, obj + (uint64_t)(int64_t)l->managed_dict, SD_BASE + 1536);
        sd_put64(b, type + (uint64_t)l->type_flags, (uint64_t)l->tpflags_managed_dict);
        sd_put64(b, SD_BASE + 1536 + (uint64_t)l->dict_keys, keys);
        sd_keys(b, l, keys, key, found, l->dictkeys_kind_unicode);
        sd_str(b, l, key, "data");
        snprintf(name, sizeof name, "instance-dict-3.%d", minor);
        fz_write_tail(dir, "dict_set", name, b, sizeof b, &version, 1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_seedgen CORPUS_DIR\n");
        return 2;
    }
    mkdir(argv[1], 0755);
    seeds_race(argv[1]);
    seeds_memory(argv[1]);
    seeds_elf(argv[1]);
    seeds_linetable(argv[1]);
    seeds_debug_offsets(argv[1]);
    seeds_dict_set(argv[1]);
    return 0;
}
