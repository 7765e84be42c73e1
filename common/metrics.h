/* Every metric family the exporter serves: name, type, labels and HELP
 * text in one table, in exposition order.  The renderers (exporter/
 * render.c) write families from it; the man page's METRICS section is
 * generated from it (man/metrics.c); a test checks that the README names
 * every family (tests/it_exporter.sh).  Labels never hold an address, a
 * host name or a pid. */
#ifndef OM_METRICS_H
#define OM_METRICS_H

#define OM_METRICS(X)                                                                              \
	/* the shim's counts, summed over the segment */                                          \
	X(DIALS, "onionmeter_dials_total", "counter", "class,outcome",                            \
	  "Dials (connect() to outcome) by destination class and outcome.")                       \
	X(DIAL_DURATION, "onionmeter_dial_duration_seconds", "histogram", "class",                \
	  "Time from connect() to the dial's outcome.")                                           \
	X(BYTES, "onionmeter_bytes_total", "counter", "class,direction",                          \
	  "Bytes moved through tracked sockets by class and direction.")                          \
	X(CONNECTIONS, "onionmeter_connections", "gauge", "class",                                \
	  "TCP connections open now in live processes, by class.")                                \
	X(ACCEPTED, "onionmeter_accepted_total", "counter", "class",                              \
	  "Inbound connections accepted, by class.")                                              \
	X(LEAKS, "onionmeter_leaks_total", "counter", "kind,action",                              \
	  "Traffic or lookups that bypassed Tor, by kind and action.")                            \
	X(PROXY_UNREACHABLE, "onionmeter_proxy_unreachable_total", "counter", "",                 \
	  "Connects to a configured proxy endpoint that failed.")                                 \
	X(PROCESSES, "onionmeter_processes", "gauge", "", "Live processes attached to the segment.") \
	X(SLOTS, "onionmeter_segment_slots", "gauge", "", "Process slots in the segment (capacity).") \
	X(SLOTS_USED, "onionmeter_segment_slots_used", "gauge", "",                               \
	  "Slots ever claimed; dead processes' counts stay in theirs.")                           \
	X(UNCOUNTED, "onionmeter_uncounted_processes_total", "counter", "reason",                 \
	  "Processes that found the segment but ran uncounted, by reason.")                       \
	X(POLICY_INFO, "onionmeter_policy_info", "gauge", "policy,enforce",                       \
	  "1 if a live attached process runs under this policy and enforcement, else 0.")         \
	X(LIVENESS_UP, "onionmeter_segment_liveness_up", "gauge", "",                             \
	  "1 if the segment's liveness semaphores can be read (same IPC namespace); "             \
	  "without them processes and open connections read 0.")                                 \
	X(SEGMENT_UP, "onionmeter_segment_up", "gauge", "",                                       \
	  "1 if the segment is attached and valid, else 0.")                                      \
	/* the kernel's view (--kernel-interval) */                                               \
	X(KERNEL_UP, "onionmeter_kernel_up", "gauge", "",                                         \
	  "1 if the last poll of the kernel's socket list (sock_diag) succeeded.")                \
	X(KERNEL_CONNECTIONS, "onionmeter_kernel_connections", "gauge", "class",                  \
	  "TCP connections the kernel lists, held by a process, established or closing, "         \
	  "by peer: a listed proxy, direct, local.")                                              \
	X(KERNEL_SEEN, "onionmeter_kernel_connections_seen_total", "counter", "class",            \
	  "TCP connections first seen in the kernel's list, by peer class.")                      \
	X(KERNEL_BYTES, "onionmeter_kernel_connection_bytes", "gauge", "class,direction",         \
	  "Bytes moved so far by the connections open now (tcp_info), by peer class.")            \
	X(KERNEL_UDP, "onionmeter_kernel_udp_sockets", "gauge", "class",                          \
	  "Connected UDP sockets (a peer set with connect()) the kernel lists, held by a "        \
	  "process, by peer class.")                                                              \
	X(UNSEEN, "onionmeter_unseen_connections", "gauge", "class",                              \
	  "Connections the kernel lists that no attached process accounts for: "                  \
	  "what the preload cannot see (Go, static binaries, raw system calls).")                 \
	X(KERNEL_POLLS, "onionmeter_kernel_polls_total", "counter", "",                           \
	  "Polls of the kernel's socket list that succeeded.")                                    \
	X(KERNEL_POLL_DURATION, "onionmeter_kernel_poll_duration_seconds", "gauge", "",           \
	  "Time the last poll of the kernel's socket list took.")                                 \
	X(KERNEL_POLL_INTERVAL, "onionmeter_kernel_poll_interval_seconds", "gauge", "",           \
	  "Time between polls: --kernel-interval, longer while a poll takes more than "          \
	  "a twentieth of it.")                                                                   \
	/* Tor's view (--tor-control) */                                                          \
	X(TOR_UP, "onionmeter_tor_up", "gauge", "tor",                                            \
	  "1 if the exporter is connected and authenticated to tor number N's control "           \
	  "port (--tor-control, in the order given).")                                            \
	X(TOR_STREAMS, "onionmeter_tor_streams_total", "counter", "class,outcome",                \
	  "Streams through tor by target class (onion, or proxied: exit traffic) and dial "       \
	  "outcome, for any program.")                                                            \
	X(TOR_DIAL_DURATION, "onionmeter_tor_dial_duration_seconds", "histogram", "class",        \
	  "Time from a stream's request reaching tor to tor's answer.")                           \
	X(TOR_BYTES, "onionmeter_tor_bytes_total", "counter", "class,direction",                  \
	  "Bytes moved by clients' connections to tor's ports (the kernel's count, SOCKS or "     \
	  "HTTP handshake included), by the stream's class.")                                     \
	X(TOR_OPEN, "onionmeter_tor_open_streams", "gauge", "class",                              \
	  "Streams tor carries now, by class.")                                                   \
	X(TOR_UNSEEN_STREAMS, "onionmeter_tor_unseen_streams_total", "counter", "class,outcome",  \
	  "Streams whose client no attached process accounts for (Go, static binaries): "         \
	  "the blind spot, by class and outcome.")                                                \
	X(TOR_UNSEEN_BYTES, "onionmeter_tor_unseen_bytes_total", "counter", "class,direction",    \
	  "Bytes of those streams' connections, by class.")                                       \
	X(TOR_UNATTRIBUTED, "onionmeter_tor_unattributed_streams_total", "counter", "reason",     \
	  "Streams whose client connection could not be found in the kernel's list: a "           \
	  "Unix-domain SocksPort, a connection gone first, a full table.")                        \
	X(TOR_REPORTED_BYTES, "onionmeter_tor_reported_bytes_total", "counter", "class,direction", \
	  "Tor's own count (STREAM_BW) of unattributed streams' payload: no handshake, and "      \
	  "not exact.")                                                                           \
	X(TOR_EVENTS, "onionmeter_tor_events_total", "counter", "",                               \
	  "Stream events read from tor's control ports.")                                         \
	X(TOR_BOOTSTRAP, "onionmeter_tor_bootstrap_percent", "gauge", "tor",                      \
	  "Tor's bootstrap progress, 0 to 100.")                                                  \
	X(TOR_LIVENESS, "onionmeter_tor_network_liveness", "gauge", "tor",                        \
	  "1 if tor believes the network is reachable, 0 if not (NETWORK_LIVENESS).")             \
	X(TOR_CIRC_BUILT, "onionmeter_tor_circuits_built_total", "counter", "tor",                \
	  "Circuits tor built while the exporter watched.")                                       \
	X(TOR_CIRC_FAILED, "onionmeter_tor_circuits_failed_total", "counter", "tor",              \
	  "Circuits that failed while the exporter watched.")                                     \
	X(TOR_CIRC_BUILD, "onionmeter_tor_circuit_build_seconds", "histogram", "tor",             \
	  "Time from a circuit's creation to its being built.")                                   \
	/* the exporter itself */                                                                 \
	X(BUILD_INFO, "onionmeter_build_info", "gauge", "version,revision",                       \
	  "Build information; always 1.")                                                         \
	X(SCRAPE_DURATION, "onionmeter_scrape_duration_seconds", "gauge", "",                     \
	  "Time taken to read the segments for this scrape.")                                     \
	X(CPU, "process_cpu_seconds_total", "counter", "",                                        \
	  "Total user and system CPU time spent in seconds.")                                     \
	X(RSS, "process_resident_memory_bytes", "gauge", "", "Resident memory size in bytes.")    \
	X(VSZ, "process_virtual_memory_bytes", "gauge", "", "Virtual memory size in bytes.")      \
	X(OPEN_FDS, "process_open_fds", "gauge", "", "Number of open file descriptors.")          \
	X(MAX_FDS, "process_max_fds", "gauge", "", "Maximum number of open file descriptors.")    \
	X(START_TIME, "process_start_time_seconds", "gauge", "",                                  \
	  "Start time of the process since unix epoch in seconds.")

enum om_metric_id {
#define OM_METRIC_ID(id, name, type, labels, help) OM_M_##id,
	OM_METRICS(OM_METRIC_ID)
#undef OM_METRIC_ID
	OM_NMETRIC
};

struct om_metric_def {
	const char *name, *type, *labels, *help;
};

#define OM_METRIC_DEF(id, name, type, labels, help) { name, type, labels, help },

#endif
