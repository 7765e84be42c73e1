/* Who else holds a socket: its inode in the descriptor tables of /proc.
 * Async-signal-safe (close() runs in signal handlers): raw getdents64, no
 * allocation, no stdio. */
#ifndef OM_HOLDERS_H
#define OM_HOLDERS_H

/* A descriptor of process pid (0: this one) for the socket with inode
 * ino: its number, or -1 (none, or the table cannot be read). */
int om_fd_holding(long pid, unsigned long ino);
/* 1 if a child of any of this process's threads holds it. */
int om_children_hold(unsigned long ino);

#endif
