/*
 * json_str.h — JSON string literals for the profile writers (json_str.c).
 */
#ifndef TORNSTACK_PROFILE_JSON_STR_H
#define TORNSTACK_PROFILE_JSON_STR_H

#include <stdio.h>

/* str as a JSON string literal, quotes included; invalid UTF-8 becomes
 * U+FFFD; html != 0 also escapes '<', '>' and '&'. */
void uw_json_str(FILE *out, const char *str, int html);

/* For writers whose format requires UTF-8 but not JSON (pprof's proto3
 * strings): NULL when str is valid UTF-8 already, else a new string (the
 * caller frees it) with each byte that starts no valid sequence replaced
 * by U+FFFD, as uw_json_str does; NULL with *nomem set when memory ran
 * out. */
char *uw_utf8_repaired(const char *str, int *nomem);

#endif /* TORNSTACK_PROFILE_JSON_STR_H */
