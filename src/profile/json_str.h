/*
 * json_str.h — JSON string literals for the profile writers (json_str.c).
 */
#ifndef TORNSTACK_PROFILE_JSON_STR_H
#define TORNSTACK_PROFILE_JSON_STR_H

#include <stdio.h>

/* str as a JSON string literal, quotes included; invalid UTF-8 becomes
 * U+FFFD; html != 0 also escapes '<', '>' and '&'. */
void uw_json_str(FILE *out, const char *str, int html);

#endif /* TORNSTACK_PROFILE_JSON_STR_H */
