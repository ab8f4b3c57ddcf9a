/*
 * fuzz_elf — the ELF reader on arbitrary bytes: open, the symbols and the
 * section tornstack looks for, the first PT_LOAD.  Must never read outside
 * the buffer (ASan) whatever the headers say.
 */
#include "fuzz.h"
#include "internal/elf.h"

static uint64_t fz_h;

uint64_t fz_verdict(void)
{
    return fz_h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *names[] = {"_PyRuntime", "Py_Version", "PyCode_Type", "PySet_Type"};
    uw_elf e;
    uint64_t a = 0, b = 0;
    size_t i;

    fz_h = FZ_SEED;
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)uw__elf_open(&e, data, size));
    if (fz_h == fz_mix(FZ_SEED, 0)) {
        for (i = 0; i < sizeof names / sizeof names[0]; i++) {
            fz_h = fz_mix(fz_h, (uint64_t)(int64_t)uw__elf_find_symbol(&e, names[i], &a, &b));
            fz_h = fz_mix(fz_h, a);
        }
        fz_h = fz_mix(fz_h, (uint64_t)(int64_t)uw__elf_find_section(&e, ".PyRuntime", &a, &b));
        fz_h = fz_mix(fz_h, (uint64_t)(int64_t)uw__elf_first_load(&e, &a, &b));
        fz_h = fz_mix(fz_h, a);
    }
    return 0;
}
