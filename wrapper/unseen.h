/* The run's blind spots, for onionmeter-run --report: while the command
 * runs, every process of it (the supervisor's descendants, orphans
 * included: it is their subreaper) is matched to the TCP connections the
 * kernel lists through its /proc/PID/fd socket inodes, and set against the
 * sockets its onionmeter slot says it holds.  Every connection held across
 * two looks is recorded with its destination; those of a process that
 * holds more than it accounts for are the blind spots: a Go or static
 * program that never attached, a socket made by a raw system call.  Same
 * user only (the supervisor reads its own processes' /proc). */
#ifndef OM_UNSEEN_H
#define OM_UNSEEN_H

#include <stdio.h>
#include <sys/types.h>

struct om_unseen;

/* NULL if out of memory.  segment: the run's, read for the slots. */
struct om_unseen *om_unseen_new(const char *segment, pid_t exporter);
/* One look; cheap enough every few hundred milliseconds. */
void om_unseen_poll(struct om_unseen *u);
/* Every connection of the run's processes seen in two looks in a row, one
 * per line, tab-separated:
 *   pid unseen attached accounted held class destination comm command
 * (destination: ADDR:PORT, or through tor "onion HOST:PORT" / "exit
 * HOST:PORT" when a torwatch named it)
 * (unseen 0/1: its process held more than it accounted for, twice in a
 * row; attached 0/1; accounted: sockets the slot holds; held: connections
 * the kernel lists for the process).  Returns the number of lines. */
int om_unseen_write(const struct om_unseen *u, FILE *f);
void om_unseen_free(struct om_unseen *u);
/* Name the target of connections to tor's ports from w's events (w may be
 * NULL, or outlive u). */
struct om_torwatch;
void om_unseen_tor(struct om_unseen *u, const struct om_torwatch *w);

#endif
