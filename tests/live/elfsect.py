"""Find an ELF section in the objects this process maps (for the live tests).

An implementation separate from tornstack's (src/elf.c, src/target.c), so
that a test comparing the two finds the section independently: read
/proc/self/maps, and for every file mapped at offset 0 parse the ELF header,
the program headers (for the load bias) and the section headers.
"""
import os
import struct


def _sections(path):
    with open(path, "rb") as f:
        ehdr = f.read(64)
        if len(ehdr) < 64 or ehdr[:4] != b"\x7fELF" or ehdr[4] != 2 or ehdr[5] != 1:
            return None, []
        (phoff, shoff) = struct.unpack_from("<QQ", ehdr, 32)
        (phentsize, phnum, shentsize, shnum, shstrndx) = struct.unpack_from("<HHHHH", ehdr, 54)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
        first_load = None
        for i in range(phnum):
            p_type, _, p_offset, p_vaddr = struct.unpack_from("<IIQQ", ph, i * phentsize)
            if p_type == 1 and (first_load is None or p_offset < first_load[0]):
                first_load = (p_offset, p_vaddr & ~0xfff)
        f.seek(shoff)
        sh = f.read(shentsize * shnum)
        if shnum == 0 or shstrndx >= shnum:
            return None, []
        str_off, str_size = struct.unpack_from("<QQ", sh, shstrndx * shentsize + 24)
        f.seek(str_off)
        strtab = f.read(str_size)
        out = []
        for i in range(shnum):
            name, _, _, addr, off, size = struct.unpack_from("<IIQQQQ", sh, i * shentsize)
            end = strtab.find(b"\0", name)
            out.append((strtab[name:end].decode("latin-1"), addr, size))
        return (first_load[1] if first_load else 0), out


def mapped_objects():
    """(start, path) of every file this process maps at offset 0."""
    seen = {}
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) < 6 or int(parts[2], 16) != 0 or not parts[5].startswith("/"):
                continue
            start = int(parts[0].split("-")[0], 16)
            seen.setdefault(start, parts[5].strip())
    return sorted(seen.items())


def find_section(name):
    """(address in this process, size, path) of the first mapped object with
    section `name`, or None."""
    for start, path in mapped_objects():
        if not os.path.exists(path):
            continue
        try:
            vaddr, secs = _sections(path)
        except OSError:
            continue
        for sname, addr, size in secs:
            if sname == name:
                return start - vaddr + addr, size, path
    return None
