/*
 * test_elf.c — ELF symbol and section lookup: a synthetic object, every
 * truncation of it, malformed headers and tables, and this test's own
 * executable as a real file.
 */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal/elf.h"
#include "tornstack/error.h"

/* Layout of the synthetic object. */
#define OFF_PH 64
#define OFF_SHSTR 0x100
#define OFF_STR 0x140
#define OFF_SYM 0x180
#define OFF_SH 0x200
#define NSEC 5

static const char shstr[] = "\0.shstrtab\0.strtab\0.symtab\0.PyRuntime";
static const char strtab[] = "\0_PyRuntime\0Py_Version\0undef_sym";

static size_t build(uint8_t *b)
{
    Elf64_Ehdr h;
    Elf64_Phdr ph;
    Elf64_Shdr sh[NSEC];
    Elf64_Sym sym[4];

    memset(b, 0, 0x400);
    memset(&h, 0, sizeof h);
    memcpy(h.e_ident, ELFMAG, SELFMAG);
    h.e_ident[EI_CLASS] = ELFCLASS64;
    h.e_ident[EI_DATA] = ELFDATA2LSB;
    h.e_type = ET_DYN;
    h.e_machine = EM_X86_64;
    h.e_phoff = OFF_PH;
    h.e_phnum = 1;
    h.e_phentsize = sizeof ph;
    h.e_shoff = OFF_SH;
    h.e_shnum = NSEC;
    h.e_shentsize = sizeof(Elf64_Shdr);
    h.e_shstrndx = 1;
    memcpy(b, &h, sizeof h);
    memset(&ph, 0, sizeof ph);
    ph.p_type = PT_LOAD;
    ph.p_offset = 0;
    ph.p_vaddr = 0x400123;
    memcpy(b + OFF_PH, &ph, sizeof ph);
    memcpy(b + OFF_SHSTR, shstr, sizeof shstr);
    memcpy(b + OFF_STR, strtab, sizeof strtab);
    memset(sym, 0, sizeof sym);
    sym[1].st_name = 1;
    sym[1].st_value = 0x5000;
    sym[1].st_size = 283320;
    sym[1].st_shndx = 4;
    sym[2].st_name = 12;
    sym[2].st_value = 0x6000;
    sym[2].st_shndx = 4;
    sym[3].st_name = 23; /* undefined: never a match */
    sym[3].st_value = 0x7000;
    memcpy(b + OFF_SYM, sym, sizeof sym);
    memset(sh, 0, sizeof sh);
    sh[1] = (Elf64_Shdr){
        .sh_name = 1, .sh_type = SHT_STRTAB, .sh_offset = OFF_SHSTR, .sh_size = sizeof shstr};
    sh[2] = (Elf64_Shdr){
        .sh_name = 11, .sh_type = SHT_STRTAB, .sh_offset = OFF_STR, .sh_size = sizeof strtab};
    sh[3] = (Elf64_Shdr){.sh_name = 19,
                         .sh_type = SHT_SYMTAB,
                         .sh_offset = OFF_SYM,
                         .sh_size = sizeof sym,
                         .sh_link = 2,
                         .sh_entsize = sizeof(Elf64_Sym)};
    sh[4] =
        (Elf64_Shdr){.sh_name = 27, .sh_type = SHT_NOBITS, .sh_addr = 0x5000, .sh_size = 283320};
    memcpy(b + OFF_SH, sh, sizeof sh);
    return OFF_SH + sizeof sh;
}

static void test_lookup(void **state)
{
    uint8_t b[0x400];
    size_t n = build(b);
    uw_elf e;
    uint64_t v = 0, sz = 0, off = 1;
    (void)state;
    assert_int_equal(uw__elf_open(&e, b, n), 0);
    assert_int_equal(uw__elf_find_symbol(&e, "_PyRuntime", &v, &sz), 0);
    assert_int_equal(v, 0x5000);
    assert_int_equal(sz, 283320);
    assert_int_equal(uw__elf_find_symbol(&e, "Py_Version", &v, NULL), 0);
    assert_int_equal(v, 0x6000);
    assert_int_equal(uw__elf_find_symbol(&e, "undef_sym", &v, NULL), UW_ERR_ELF_NOT_FOUND);
    assert_int_equal(uw__elf_find_symbol(&e, "_PyRuntim", &v, NULL), UW_ERR_ELF_NOT_FOUND);
    assert_int_equal(uw__elf_find_section(&e, ".PyRuntime", &v, &sz), 0);
    assert_int_equal(v, 0x5000);
    assert_int_equal(uw__elf_find_section(&e, ".text", &v, &sz), UW_ERR_ELF_NOT_FOUND);
    assert_int_equal(uw__elf_first_load(&e, &v, &off), 0);
    assert_int_equal(v, 0x400000);
    assert_int_equal(off, 0);
}

/* Every prefix of the file: no crash, no read past the prefix (ASan),
 * and never a wrong answer. */
static void test_truncated(void **state)
{
    uint8_t b[0x400];
    size_t n = build(b), len;
    (void)state;
    for (len = 0; len <= n; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        uw_elf e;
        uint64_t v = 0;
        int rc;
        memcpy(copy, b, len);
        rc = uw__elf_open(&e, copy, len);
        if (len < n) {
            /* the section table ends the file: any cut breaks it */
            assert_int_equal(rc, UW_ERR_ELF_MALFORMED);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(uw__elf_find_symbol(&e, "_PyRuntime", &v, NULL), 0);
            assert_int_equal(v, 0x5000);
        }
        free(copy);
    }
}

static void test_malformed(void **state)
{
    uint8_t b[0x400];
    size_t n;
    uw_elf e;
    uint64_t v;
    Elf64_Shdr sh;
    (void)state;

    n = build(b);
    b[EI_CLASS] = ELFCLASS32;
    assert_int_equal(uw__elf_open(&e, b, n), UW_ERR_ELF_MALFORMED);

    n = build(b);
    memcpy(b,
           "\x7f"
           "ELG",
           4);
    assert_int_equal(uw__elf_open(&e, b, n), UW_ERR_ELF_MALFORMED);

    n = build(b); /* section table offset past the end */
    ((Elf64_Ehdr *)(void *)b)->e_shoff = UINT64_MAX - 8;
    assert_int_equal(uw__elf_open(&e, b, n), UW_ERR_ELF_MALFORMED);

    n = build(b); /* entry size too small */
    ((Elf64_Ehdr *)(void *)b)->e_shentsize = 8;
    assert_int_equal(uw__elf_open(&e, b, n), UW_ERR_ELF_MALFORMED);

    n = build(b); /* shstrndx out of range */
    ((Elf64_Ehdr *)(void *)b)->e_shstrndx = NSEC;
    assert_int_equal(uw__elf_open(&e, b, n), UW_ERR_ELF_MALFORMED);

    n = build(b); /* symtab's string table link out of range */
    memcpy(&sh, b + OFF_SH + 3 * sizeof sh, sizeof sh);
    sh.sh_link = 77;
    memcpy(b + OFF_SH + 3 * sizeof sh, &sh, sizeof sh);
    assert_int_equal(uw__elf_open(&e, b, n), 0);
    assert_int_equal(uw__elf_find_symbol(&e, "_PyRuntime", &v, NULL), UW_ERR_ELF_MALFORMED);

    n = build(b); /* symtab larger than the file */
    memcpy(&sh, b + OFF_SH + 3 * sizeof sh, sizeof sh);
    sh.sh_size = 1u << 30;
    memcpy(b + OFF_SH + 3 * sizeof sh, &sh, sizeof sh);
    assert_int_equal(uw__elf_open(&e, b, n), 0);
    assert_int_equal(uw__elf_find_symbol(&e, "_PyRuntime", &v, NULL), UW_ERR_ELF_MALFORMED);

    n = build(b); /* string table cut before the name's NUL */
    memcpy(&sh, b + OFF_SH + 2 * sizeof sh, sizeof sh);
    sh.sh_size = 5;
    memcpy(b + OFF_SH + 2 * sizeof sh, &sh, sizeof sh);
    assert_int_equal(uw__elf_open(&e, b, n), 0);
    assert_int_equal(uw__elf_find_symbol(&e, "_PyRuntime", &v, NULL), UW_ERR_ELF_NOT_FOUND);

    n = build(b); /* no program headers */
    ((Elf64_Ehdr *)(void *)b)->e_phnum = 0;
    assert_int_equal(uw__elf_open(&e, b, n), 0);
    assert_int_equal(uw__elf_first_load(&e, &v, NULL), UW_ERR_ELF_NOT_FOUND);

    assert_int_equal(uw__elf_open(&e, NULL, 0), UW_ERR_ELF_MALFORMED);
}

/* This test program itself: a real ELF with a static symbol table. */
static void test_real_file(void **state)
{
    FILE *f = fopen("/proc/self/exe", "rb");
    uint8_t *buf;
    long len;
    uw_elf e;
    uint64_t v = 0;
    (void)state;
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    buf = malloc((size_t)len);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    assert_int_equal(uw__elf_open(&e, buf, (size_t)len), 0);
    assert_int_equal(uw__elf_find_symbol(&e, "uw__elf_find_symbol", &v, NULL), 0);
    assert_true(v != 0);
    assert_int_equal(uw__elf_find_section(&e, ".text", &v, NULL), 0);
    assert_int_equal(uw__elf_first_load(&e, &v, NULL), 0);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_real_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
