/* Surviving a segment that changes under us.
 *
 * Anyone who may write the segment file can truncate it (or copy another
 * file over it, which truncates first), and the next store into a page
 * past the new end raises SIGBUS in the program.  The guard is a SIGBUS
 * handler installed at attach: a fault inside the segment's mapping
 * replaces the whole mapping with private memory (the faulting store then
 * completes there, harmlessly), gives the slot back, says so once, and the
 * process goes on uncounted.  Every other SIGBUS gets exactly what the
 * program asked for: its own handler, SIG_IGN or the default action.
 *
 * For that the program's view of SIGBUS is kept apart from the kernel's:
 * sigaction(), signal() and friends read and set the program's action in
 * our table while our handler stays installed, and a thread that blocks
 * SIGBUS (which would make the kernel kill the process on a fault) keeps
 * it deliverable while seeing it blocked; a SIGBUS sent to it by kill()
 * waits until it unblocks. */
#ifndef OM_GUARD_H
#define OM_GUARD_H

#include <stddef.h>

void om_guard_install(void *map, size_t size);

#endif
