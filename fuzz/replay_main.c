/*
 * replay — the default fuzzing engine: runs a target on files instead of
 * generated inputs.
 *
 *   fuzz_<target> [--verdict] FILE|DIR...
 *
 * Each file (directories are walked, not recursively; INDEX files and
 * dot files are skipped) is copied into a heap buffer of exactly its size
 * (so ASan catches a read one byte past the end) and run twice; the two
 * runs must give the same verdict (fz_verdict), or the target is not
 * deterministic.  Prints each file name.  Exits 1 on a verdict mismatch, 2
 * on an unreadable or empty input or no input at all.  A crash or abort in
 * the target is the failure itself.  With --verdict, each file's verdict
 * is printed beside its name (to check that converted seeds give what the
 * old ones gave).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int fz_print_verdict;

static int fz_run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long len;
    uint64_t v1, v2;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        if (f != NULL)
            fclose(f);
        return 2;
    }
    if (len == 0) {
        fprintf(stderr, "replay: %s is empty\n", path);
        fclose(f);
        return 2;
    }
    rewind(f);
    buf = malloc((size_t)len);
    if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        fclose(f);
        return 2;
    }
    fclose(f);
    printf("%s (%ld bytes)\n", path, len);
    fflush(stdout);
    LLVMFuzzerTestOneInput(buf, (size_t)len);
    v1 = fz_verdict();
    LLVMFuzzerTestOneInput(buf, (size_t)len);
    v2 = fz_verdict();
    free(buf);
    if (fz_print_verdict)
        printf("verdict %016llx %s\n", (unsigned long long)v1, path);
    if (v1 != v2) {
        fprintf(stderr, "replay: %s: two runs disagree (%llx, %llx)\n", path,
                (unsigned long long)v1, (unsigned long long)v2);
        return 1;
    }
    return 0;
}

static int fz_skip(const char *name)
{
    return name[0] == '.' || strcmp(name, "INDEX") == 0 || strcmp(name, "README.md") == 0;
}

int main(int argc, char **argv)
{
    int i, worst = 0, n = 0;

    for (i = 1; i < argc; i++) {
        struct stat st;
        if (strcmp(argv[i], "--verdict") == 0) {
            fz_print_verdict = 1;
            continue;
        }
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            worst = 2;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            struct dirent **list;
            int k, m = scandir(argv[i], &list, NULL, alphasort);
            for (k = 0; k < m; k++) {
                char path[4096];
                struct stat fs;
                snprintf(path, sizeof path, "%s/%s", argv[i], list[k]->d_name);
                if (!fz_skip(list[k]->d_name) && stat(path, &fs) == 0 && S_ISREG(fs.st_mode)) {
                    int rc = fz_run_file(path);
                    worst = rc > worst ? rc : worst;
                    n++;
                }
                free(list[k]);
            }
            free(list);
        } else {
            int rc = fz_run_file(argv[i]);
            worst = rc > worst ? rc : worst;
            n++;
        }
    }
    if (n == 0) {
        fprintf(stderr, "replay: no input\n");
        return 2;
    }
    printf("replay: %d inputs, %s\n", n, worst ? "FAILED" : "all deterministic");
    return worst;
}
