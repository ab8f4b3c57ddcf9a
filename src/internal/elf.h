/*
 * elf.h — just enough ELF64 to find _PyRuntime, Py_Version and PyCode_Type
 * in a python executable or libpython.
 *
 * The file is untrusted input (it could be truncated, patched or not ELF at
 * all): every header, table and string is checked against the buffer bounds
 * before it is touched, and the parser works on a caller-provided buffer so
 * the fuzz target can feed it arbitrary bytes.
 */
#ifndef TORNSTACK_ELF_H
#define TORNSTACK_ELF_H

#include <stddef.h>
#include <stdint.h>

typedef struct uw_elf {
    const uint8_t *buf;
    size_t len;
    uint64_t shoff, phoff;
    uint32_t shnum, phnum, shentsize, phentsize, shstrndx;
} uw_elf;

/* Validate the ELF64 little-endian header and the two tables' bounds. */
int uw__elf_open(uw_elf *e, const uint8_t *buf, size_t len);

/* Section by exact name: its address (sh_addr) and size. */
int uw__elf_find_section(const uw_elf *e, const char *name, uint64_t *addr, uint64_t *size);

/* Symbol by exact name, searched in .symtab then .dynsym; value and size.
 * Undefined symbols (st_shndx == 0) are not matches. */
int uw__elf_find_symbol(const uw_elf *e, const char *name, uint64_t *value, uint64_t *size);

/* The PT_LOAD segment with the lowest file offset: its page-aligned virtual
 * address and file offset (to turn a mapping's start into a load bias). */
int uw__elf_first_load(const uw_elf *e, uint64_t *vaddr, uint64_t *offset);

#endif /* TORNSTACK_ELF_H */
