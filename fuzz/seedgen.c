/*
 * seedgen — write the committed seed corpus of every fuzz target.
 *
 *   fuzz_seedgen CORPUS_DIR
 *
 * Seeds are built from the same tables and fabricators the project uses,
 * so regenerating gives the same bytes (the corpus ctest checks that):
 *   race/          the all-zero scenario and a spread of scenario bytes
 *   memory/        empty-ish memory and a fabricated 3.13 process image
 *   elf/           a minimal ELF with _PyRuntime and a .PyRuntime section
 *   linetable/     tables in every entry form
 *   debug_offsets/ a valid 3.13 block and a free-threaded one
 *   dict_set/      a dict, a set and a list laid out at FZ_BASE + 64
 */
#define _POSIX_C_SOURCE 200809L
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tornstack/layout.h"

static void fz_write(const char *dir, const char *target, const char *name, const void *b,
                     size_t n)
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
}

static void seeds_linetable(const char *dir)
{
    static const uint8_t t1[] = {10, 0, 0, 0, 3, 0, 0, 0, 0x80 | (3 << 3) | 1, 0x05,
                                 0x80 | (11 << 3), 0x02, 0x09, 0x80 | (13 << 3) | 2, 0x07,
                                 0x80 | (15 << 3), 0x80 | (14 << 3), 0x50, 0x01, 0x00, 0x05, 0x09};
    static const uint8_t t2[] = {1, 0, 0, 0, 0, 0, 0, 0, 0x80 | (13 << 3), 0x7f, 0x7f, 0x7f, 0x7f,
                                 0x7f, 0x01};
    fz_write(dir, "linetable", "forms", t1, sizeof t1);
    fz_write(dir, "linetable", "long-varint", t2, sizeof t2);
}

static void seeds_debug_offsets(const char *dir)
{
    const uw_layout *l = uw_layout_for_minor(13);
    uint8_t b[8 + 1024];
    uint64_t v = 0x030d00f0, one = 1;
    size_t i;
    memset(b, 0, sizeof b);
    memcpy(b, &v, 8);
    memcpy(b + 8, "xdebugpy", 8);
    memcpy(b + 16, &v, 8);
    for (i = 0; i < l->n_debug_fields; i++)
        memcpy(b + 8 + l->debug_fields[i].at, &l->debug_fields[i].expect, 8);
    fz_write(dir, "debug_offsets", "valid-3.13", b, 8 + (size_t)l->debug_offsets_size);
    memcpy(b + 24, &one, 8);
    fz_write(dir, "debug_offsets", "free-threaded", b, 8 + (size_t)l->debug_offsets_size);
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
    sh[1] = (Elf64_Shdr){.sh_name = 1, .sh_type = SHT_STRTAB, .sh_offset = 0x100,
                         .sh_size = sizeof shstr};
    sh[2] = (Elf64_Shdr){.sh_name = 19, .sh_type = SHT_SYMTAB, .sh_offset = 0x160,
                         .sh_size = sizeof sym, .sh_link = 3, .sh_entsize = sizeof(Elf64_Sym)};
    sh[3] = (Elf64_Shdr){.sh_name = 11, .sh_type = SHT_STRTAB, .sh_offset = 0x140,
                         .sh_size = sizeof strtab};
    memcpy(b + 0x200, sh, sizeof sh);
    fz_write(dir, "elf", "minimal", b, 0x200 + sizeof sh);
}

/* A 3.12 process in fuzz memory: runtime at FZ_BASE (0x10000000), one
 * interpreter, one thread whose current frame is a frame of a code object. */
static void seeds_memory(const char *dir)
{
    const uw_layout *l = uw_layout_for_minor(12);
    static uint8_t b[4096];
    const uint64_t base = 0x10000000ull;
    uint64_t interp = base + 1024, ts = base + 1536, cf = base + 1900, frame = base + 2000,
             code = base + 2200;
    uint64_t v;
    memset(b, 0, sizeof b);
    fz_write(dir, "memory", "zero", b, 64);
    b[0] = 1; /* version 3.12 */
#define PUT(addr, val) (v = (val), memcpy(b + ((addr)-base), &v, 8))
    PUT(base + (uint64_t)l->runtime_interpreters_head, interp);
    PUT(interp + (uint64_t)l->interp_threads_head, ts);
    PUT(ts + (uint64_t)l->tstate_cframe, cf);
    PUT(cf + (uint64_t)l->cframe_current_frame, frame);
    PUT(frame + (uint64_t)l->frame_code, code);
    PUT(code + (uint64_t)l->object_type, base + 8);
    PUT(frame + (uint64_t)l->frame_instr, code + (uint64_t)l->code_adaptive);
#undef PUT
    fz_write(dir, "memory", "one-frame-3.12", b, sizeof b);
}

static void seeds_dict_set(const char *dir)
{
    const uw_layout *l = uw_layout_for_minor(11);
    static uint8_t b[1024];
    const uint64_t table = 0x10000000ull + 512; /* the set itself is at FZ_BASE + 64 */
    int64_t mask = 7;
    uint64_t key = 0x10000000ull + 800;
    memset(b, 0, sizeof b);
    b[0] = 0; /* 3.11 */
    memcpy(b + 64 + l->set_mask, &mask, 8);
    memcpy(b + 64 + l->set_table, &table, 8);
    memcpy(b + 512 + l->setentry_key, &key, 8);
    fz_write(dir, "dict_set", "set-3.11", b, sizeof b);
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
