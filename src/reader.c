/*
 * reader.c — counting, budgets and the vectored-read fallback shared by all
 * reader backends.
 */
#include "tornstack/reader.h"

#include <string.h>

#include "internal/uw_assert.h"
#include "tornstack/error.h"

void uw_reader_init(uw_reader *r, const uw_reader_ops *ops, void *ctx)
{
    UW_ASSERT(r != NULL && ops != NULL && ops->read != NULL);
    memset(r, 0, sizeof *r);
    r->ops = ops;
    r->ctx = ctx;
}

/* Would a request of `calls` backend calls and `bytes` bytes pass the
 * budget?  Bytes are counted before the call so that an over-long length
 * read from garbage memory is refused before it is attempted. */
static int uw_reader_charge(uw_reader *r, uint64_t calls, uint64_t bytes)
{
    if (r->budget_calls != 0 && r->calls + calls > r->budget_calls)
        return UW_ERR_READ_BUDGET;
    if (r->budget_bytes != 0 && r->bytes + bytes > r->budget_bytes)
        return UW_ERR_READ_BUDGET;
    r->calls += calls;
    r->bytes += bytes;
    return 0;
}

int uw_read(uw_reader *r, uint64_t addr, void *dst, size_t len)
{
    int rc;

    UW_ASSERT(r != NULL && r->ops != NULL);
    if (len == 0)
        return 0;
    if (dst == NULL)
        return UW_ERR_INVALID_ARG;
    rc = uw_reader_charge(r, 1, len);
    if (rc != 0)
        return rc;
    rc = r->ops->read(r->ctx, addr, dst, len);
    if (rc != 0)
        r->faults++;
    return rc;
}

/* Are the group ends well formed: non-decreasing, the last one n? */
static int uw_groups_valid(size_t n, const size_t *end, size_t n_groups)
{
    size_t g;

    if (end == NULL || n_groups == 0 || n_groups > UW_READV_GROUPS_MAX || end[n_groups - 1] != n)
        return 0;
    for (g = 1; g < n_groups; g++)
        if (end[g] < end[g - 1])
            return 0;
    return 1;
}

int uw_readv_groups(uw_reader *r, uw_iov *iov, size_t n, const size_t *end, size_t n_groups)
{
    uint64_t total = 0, calls = 0;
    int first = 0;
    size_t i;
    int rc;

    UW_ASSERT(r != NULL && r->ops != NULL);
    if (n == 0)
        return 0;
    if (iov == NULL)
        return UW_ERR_INVALID_ARG;
    if (!uw_groups_valid(n, end, n_groups)) {
        for (i = 0; i < n; i++) /* no piece may look filled */
            iov[i].status = UW_ERR_INVALID_ARG;
        return UW_ERR_INVALID_ARG;
    }
    for (i = 0; i < n; i++)
        total += iov[i].len;
    if (r->ops->readv == NULL) {
        /* One backend request per piece, in order (which keeps every
         * group's order). */
        rc = uw_reader_charge(r, 0, total);
        if (rc != 0) {
            for (i = 0; i < n; i++)
                iov[i].status = rc;
            return rc;
        }
        for (i = 0; i < n; i++) {
            if (r->budget_calls != 0 && r->calls + 1 > r->budget_calls) {
                iov[i].status = UW_ERR_READ_BUDGET;
            } else {
                r->calls++;
                iov[i].status =
                    iov[i].len == 0 ? 0 : r->ops->read(r->ctx, iov[i].addr, iov[i].dst, iov[i].len);
            }
            if (iov[i].status != 0) {
                r->faults++;
                if (first == 0)
                    first = iov[i].status;
            }
        }
        return first;
    }
    rc = uw_reader_charge(r, 0, total);
    if (rc != 0) {
        for (i = 0; i < n; i++)
            iov[i].status = rc;
        return rc;
    }
    rc = r->ops->readv(r->ctx, iov, n, end, n_groups, &calls);
    r->calls += calls;
    for (i = 0; i < n; i++) {
        if (iov[i].status != 0) {
            r->faults++;
            if (first == 0)
                first = iov[i].status;
        }
    }
    return first != 0 ? first : rc;
}

int uw_readv(uw_reader *r, uw_iov *iov, size_t n)
{
    return uw_readv_groups(r, iov, n, &n, 1);
}

int uw_reader_clock(uw_reader *r, uint64_t tid, uint64_t *out)
{
    uint64_t calls = 0;
    int rc;

    UW_ASSERT(r != NULL && r->ops != NULL && out != NULL);
    if (r->ops->clock == NULL)
        return UW_ERR_NO_CLOCK;
    rc = r->ops->clock(r->ctx, tid, out, &calls);
    r->calls += calls;
    return rc;
}

int uw_reader_threads(uw_reader *r, uint64_t *tids, size_t cap, size_t *n)
{
    uint64_t calls = 0;
    int rc;

    UW_ASSERT(r != NULL && r->ops != NULL && tids != NULL && n != NULL);
    *n = 0;
    if (r->ops->threads == NULL)
        return UW_ERR_NO_CLOCK;
    rc = r->ops->threads(r->ctx, tids, cap, n, &calls);
    r->calls += calls;
    return rc;
}

int uw_read_u64(uw_reader *r, uint64_t addr, uint64_t *out)
{
    uint8_t b[8];
    int rc = uw_read(r, addr, b, sizeof b);
    if (rc != 0)
        return rc;
    memcpy(out, b, sizeof b); /* x86-64 only: host order is target order */
    return 0;
}
