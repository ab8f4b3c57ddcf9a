/*
 * elf.c — bounded ELF64 reading (section headers, symbol tables, program
 * headers) over an untrusted byte buffer.
 *
 * All structures are copied out with memcpy (the buffer may be unaligned or
 * truncated anywhere).  Each table is checked once for
 * offset + count * entsize <= len, with overflow-safe arithmetic; names are
 * looked up with a bound equal to the rest of their string table, so a
 * missing NUL terminator reads as "no match", never past the buffer.
 */
#include "internal/elf.h"

#include <elf.h>
#include <string.h>

#include "internal/uw_assert.h"
#include "tornstack/error.h"

/* Is [off, off + n*size) inside the buffer, without overflow? */
static int uw_elf_range_ok(const uw_elf *e, uint64_t off, uint64_t n, uint64_t size)
{
    if (size != 0 && n > UINT64_MAX / size)
        return 0;
    if (off > e->len)
        return 0;
    return n * size <= e->len - off;
}

int uw__elf_open(uw_elf *e, const uint8_t *buf, size_t len)
{
    Elf64_Ehdr h;

    if (e == NULL || (buf == NULL && len != 0))
        return UW_ERR_INVALID_ARG;
    memset(e, 0, sizeof *e);
    if (len < sizeof h)
        return UW_ERR_ELF_MALFORMED;
    memcpy(&h, buf, sizeof h);
    if (memcmp(h.e_ident, ELFMAG, SELFMAG) != 0 || h.e_ident[EI_CLASS] != ELFCLASS64 ||
        h.e_ident[EI_DATA] != ELFDATA2LSB)
        return UW_ERR_ELF_MALFORMED;
    e->buf = buf;
    e->len = len;
    e->shoff = h.e_shoff;
    e->shnum = h.e_shnum;
    e->shentsize = h.e_shentsize;
    e->shstrndx = h.e_shstrndx;
    e->phoff = h.e_phoff;
    e->phnum = h.e_phnum;
    e->phentsize = h.e_phentsize;
    if (e->shnum != 0) {
        if (e->shentsize < sizeof(Elf64_Shdr) ||
            !uw_elf_range_ok(e, e->shoff, e->shnum, e->shentsize))
            return UW_ERR_ELF_MALFORMED;
        if (e->shstrndx >= e->shnum)
            return UW_ERR_ELF_MALFORMED;
    }
    if (e->phnum != 0) {
        if (e->phentsize < sizeof(Elf64_Phdr) ||
            !uw_elf_range_ok(e, e->phoff, e->phnum, e->phentsize))
            return UW_ERR_ELF_MALFORMED;
    }
    return 0;
}

static void uw_elf_shdr(const uw_elf *e, uint32_t i, Elf64_Shdr *out)
{
    UW_ASSERT(i < e->shnum);
    memcpy(out, e->buf + e->shoff + (uint64_t)i * e->shentsize, sizeof *out);
}

/* Does the string at strtab[off] equal name?  Bounded by the table. */
static int uw_elf_name_is(const uw_elf *e, const Elf64_Shdr *strtab, uint64_t off, const char *name)
{
    size_t n = strlen(name);

    if (strtab->sh_type == SHT_NOBITS)
        return 0;
    if (!uw_elf_range_ok(e, strtab->sh_offset, 1, strtab->sh_size))
        return 0;
    if (off >= strtab->sh_size || strtab->sh_size - off < n + 1)
        return 0;
    return memcmp(e->buf + strtab->sh_offset + off, name, n + 1) == 0;
}

int uw__elf_find_section(const uw_elf *e, const char *name, uint64_t *addr, uint64_t *size)
{
    Elf64_Shdr strtab, sh;
    uint32_t i;

    if (e == NULL || name == NULL || e->buf == NULL)
        return UW_ERR_INVALID_ARG;
    if (e->shnum == 0)
        return UW_ERR_ELF_NOT_FOUND;
    uw_elf_shdr(e, e->shstrndx, &strtab);
    for (i = 0; i < e->shnum; i++) {
        uw_elf_shdr(e, i, &sh);
        if (uw_elf_name_is(e, &strtab, sh.sh_name, name)) {
            if (addr != NULL)
                *addr = sh.sh_addr;
            if (size != NULL)
                *size = sh.sh_size;
            return 0;
        }
    }
    return UW_ERR_ELF_NOT_FOUND;
}

/* Search one symbol table section (SHT_SYMTAB or SHT_DYNSYM). */
static int uw_elf_search_symtab(const uw_elf *e, const Elf64_Shdr *symtab, const char *name,
                                uint64_t *value, uint64_t *size)
{
    Elf64_Shdr strtab;
    uint64_t n, i;

    if (symtab->sh_entsize < sizeof(Elf64_Sym) || symtab->sh_type == SHT_NOBITS)
        return UW_ERR_ELF_MALFORMED;
    n = symtab->sh_size / symtab->sh_entsize;
    if (!uw_elf_range_ok(e, symtab->sh_offset, n, symtab->sh_entsize))
        return UW_ERR_ELF_MALFORMED;
    if (symtab->sh_link >= e->shnum)
        return UW_ERR_ELF_MALFORMED;
    uw_elf_shdr(e, symtab->sh_link, &strtab);
    for (i = 0; i < n; i++) {
        Elf64_Sym s;
        memcpy(&s, e->buf + symtab->sh_offset + i * symtab->sh_entsize, sizeof s);
        if (s.st_shndx == SHN_UNDEF || s.st_name == 0)
            continue;
        if (uw_elf_name_is(e, &strtab, s.st_name, name)) {
            if (value != NULL)
                *value = s.st_value;
            if (size != NULL)
                *size = s.st_size;
            return 0;
        }
    }
    return UW_ERR_ELF_NOT_FOUND;
}

int uw__elf_find_symbol(const uw_elf *e, const char *name, uint64_t *value, uint64_t *size)
{
    static const uint32_t order[2] = {SHT_SYMTAB, SHT_DYNSYM};
    int pass, rc, seen_bad = 0;
    uint32_t i;

    if (e == NULL || name == NULL || e->buf == NULL)
        return UW_ERR_INVALID_ARG;
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < e->shnum; i++) {
            Elf64_Shdr sh;
            uw_elf_shdr(e, i, &sh);
            if (sh.sh_type != order[pass])
                continue;
            rc = uw_elf_search_symtab(e, &sh, name, value, size);
            if (rc == 0)
                return 0;
            if (rc == UW_ERR_ELF_MALFORMED)
                seen_bad = 1;
        }
    }
    return seen_bad ? UW_ERR_ELF_MALFORMED : UW_ERR_ELF_NOT_FOUND;
}

int uw__elf_first_load(const uw_elf *e, uint64_t *vaddr, uint64_t *offset)
{
    uint64_t best_off = UINT64_MAX, best_vaddr = 0;
    uint32_t i;

    if (e == NULL || e->buf == NULL)
        return UW_ERR_INVALID_ARG;
    for (i = 0; i < e->phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, e->buf + e->phoff + (uint64_t)i * e->phentsize, sizeof ph);
        if (ph.p_type != PT_LOAD)
            continue;
        if (ph.p_offset < best_off) {
            best_off = ph.p_offset;
            best_vaddr = ph.p_vaddr;
        }
    }
    if (best_off == UINT64_MAX)
        return UW_ERR_ELF_NOT_FOUND;
    /* Mappings start at page boundaries: align both down to 4 KiB. */
    if (vaddr != NULL)
        *vaddr = best_vaddr & ~(uint64_t)0xfff;
    if (offset != NULL)
        *offset = best_off & ~(uint64_t)0xfff;
    return 0;
}
