/*
 * error.c — sentences and short names for the codes of error.h.
 */
#include "tornstack/error.h"
#include "tornstack/sample.h"

_Static_assert(UW_ERR_MIN_ > -UW_REASON_SLOTS,
               "a reason code past UW_REASON_SLOTS would be counted in slot 0");

const char *uw_strerror(int code)
{
    switch (code) {
    case UW_OK:
        return "success";
#define UW_ERR_TEXT(name, value, tag, text) \
    case name:                              \
        return text;
        UW_ERRORS(UW_ERR_TEXT)
#undef UW_ERR_TEXT
    default:
        return "unknown error";
    }
}

const char *uw_errname(int code)
{
    switch (code) {
    case UW_OK:
        return "ok";
#define UW_ERR_TAG(name, value, tag, text) \
    case name:                             \
        return tag;
        UW_ERRORS(UW_ERR_TAG)
#undef UW_ERR_TAG
    default:
        return "unknown";
    }
}
