/*
 * compare.h — `tornstack compare A B`: the total variation distance
 * between two folded profiles (src/profile/tvd.h).
 */
#ifndef TORNSTACK_CLI_COMPARE_H
#define TORNSTACK_CLI_COMPARE_H

/* Exit status of compare when an input file cannot be read, is
 * malformed, empty, or beyond a bound (docs/cli.md). */
#define TS_EXIT_BAD_INPUT 11

/* argv[0] is the program, argv[1] "compare".  Returns the exit status. */
int ts_cmd_compare(int argc, char **argv);

#endif /* TORNSTACK_CLI_COMPARE_H */
