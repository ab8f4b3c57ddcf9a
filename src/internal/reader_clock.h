/*
 * reader_clock.h — run clocks of a live process's threads (reader.h), from
 * the kernel's per-thread CPU clock.
 *
 * Each thread gets a perf event counting its task clock (the nanoseconds
 * it spent on a CPU), opened the first time the thread is asked for and
 * kept while it is asked for.  A thread that is on a CPU while the count
 * is read has its count brought up to that instant, so two equal readings
 * mean it did not run at all in between; and a thread's stores are seen
 * by every other CPU before its count stops (the switch away from it
 * orders them).
 *
 * Readings are kept per sample: the first reading of a thread in a sample
 * is taken only while no byte of the sample was read before it (the replay
 * reads the whole sample's predicted bytes at its first read), and later
 * askings in that sample get the same reading.
 *
 * Bounds: UW_CLOCK_THREADS threads held; at most UW_CLOCK_OPENS events
 * opened per sample (a torn thread id costs its probe once a sample, not
 * once a thread).  A refusal of perf events as such (permission, no
 * support) turns clocks off for the process: the walks then read every
 * thread, as without clocks.
 */
#ifndef TORNSTACK_READER_CLOCK_H
#define TORNSTACK_READER_CLOCK_H

#include <stdint.h>
#include <sys/types.h>

#ifndef UW_CLOCK_THREADS
#define UW_CLOCK_THREADS 256
#endif
#define UW_CLOCK_OPENS 8

typedef struct uw_clock_entry {
    uint64_t tid;   /* 0: free */
    int fd;         /* its perf event */
    uint32_t asked; /* the sample it was last asked for in */
    uint32_t read;  /* the sample of `value` (0: none) */
    uint64_t value; /* its reading in sample `read` */
} uw_clock_entry;

typedef struct uw_clocks {
    pid_t pid;
    int off;         /* perf events refused: no clocks */
    uint32_t sample; /* samples begun (0: none, then every asking reads) */
    uint32_t opened; /* events opened in this sample */
    size_t hi;       /* entries from here on are free */
    uw_clock_entry e[UW_CLOCK_THREADS];
} uw_clocks;

/* A table for process pid (NULL: no memory). */
uw_clocks *uw__clocks_new(pid_t pid);
/* Close every event and free the table. */
void uw__clocks_free(uw_clocks *c);
/* A sample begins: readings of the last one are no longer served. */
void uw__clocks_begin(uw_clocks *c);
/* The reading of thread tid (reader.h): the sample's if taken, else a
 * fresh one unless `late` (a byte of this sample was read before now);
 * *calls gets the system calls made.  0 or UW_ERR_NO_CLOCK. */
int uw__clocks_read(uw_clocks *c, uint64_t tid, int late, uint64_t *out, uint64_t *calls);

/* The thread ids of process pid, from /proc/PID/task, into tids[0..*n)
 * (the listing is taken after the call began): 0, UW_ERR_CAPACITY (more
 * than cap), UW_ERR_NO_PROCESS.  *calls gets the system calls made (an
 * estimate: open, the directory reads, close). */
int uw__clocks_threads(pid_t pid, uint64_t *tids, size_t cap, size_t *n, uint64_t *calls);

#endif /* TORNSTACK_READER_CLOCK_H */
