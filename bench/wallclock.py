#!/usr/bin/env python3
"""Wall-clock cost of the shim, as ratios measured side by side in one run.

    bench/wallclock.py [BUILD_DIR]          (default: build)

Every workload runs ROUNDS times (9; OM_BENCH_ROUNDS to change) with and
without the shim, the variants interleaved in a fresh random order each
round (the seed is printed; OM_BENCH_SEED repeats it) so that machine noise
and the order hit all alike; the figure is the ratio of medians (with /
without; 1.00 = no cost), and in brackets the lowest and highest of the
per-round ratios: the spread a repeat run should fall within.  The "control" column runs
the program without the shim but with an environment of the same size:
its distance from 1.00 is what memory layout alone does to that workload
on this machine, the noise floor to read the onionmeter column against.  Connect/close churn also runs
under torsocks and proxychains4, which wrap connect() only, for context.
A Node.js HTTP server is loaded with wrk; there the ratio is of requests
per second (without / with, so that above 1.00 still means slower).
"""
import os, random, re, shutil, socket, statistics, subprocess, sys, tempfile, time

ROUNDS = int(os.environ.get("OM_BENCH_ROUNDS", "9"))
SEED = int(os.environ.get("OM_BENCH_SEED", str(random.SystemRandom().randrange(1 << 30))))
rng = random.Random(SEED)
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.path.join(root, sys.argv[1] if len(sys.argv) > 1 else "build")
bench = os.path.join(build, "bench", "iobench")
shim = os.path.join(build, "shim", "libonionmeter.so")
tmp = tempfile.mkdtemp(prefix="om-wall.")
ncpu = os.cpu_count() or 1

ts_conf = os.path.join(tmp, "torsocks.conf")
open(ts_conf, "w").write("TorAddress 127.0.0.1\nTorPort 9\nAllowOutboundLocalhost 1\n")
pc_conf = os.path.join(tmp, "proxychains.conf")
open(pc_conf, "w").write("strict_chain\nquiet_mode\nlocalnet 127.0.0.0/255.0.0.0\n[ProxyList]\nsocks5 127.0.0.1 9\n")


def env_for(variant):
    e = dict(os.environ)
    e.pop("LD_PRELOAD", None)
    if variant == "onionmeter":
        e["LD_PRELOAD"] = shim
        e["ONIONMETER_SEGMENT"] = os.path.join(tmp, "segment")
    elif variant == "control":
        # the same environment size, nothing preloaded: what layout alone does
        e["LD_PRELOAX"] = shim
        e["ONIONMETER_SEGMENX"] = os.path.join(tmp, "segment")
    return e


def wrap(variant, cmd):
    if variant == "torsocks":
        return ["env", "TORSOCKS_CONF_FILE=" + ts_conf, "torsocks"] + cmd
    if variant == "proxychains4":
        return ["proxychains4", "-q", "-f", pc_conf] + cmd
    return cmd


def timed(variant, cmd):
    t = time.perf_counter()
    subprocess.run(wrap(variant, cmd), env=env_for(variant), check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def rounds(variants, run):
    """run(variant) for every variant, ROUNDS times, in a shuffled order
    each round; returns {variant: [value per round]}."""
    out = {v: [] for v in variants}
    for _ in range(ROUNDS):
        order = list(variants)
        rng.shuffle(order)
        for v in order:
            out[v].append(run(v))
    return out


def ratio(times, v, base="plain"):
    """ratio of medians, and the range of the per-round ratios"""
    per = [a / b for a, b in zip(times[v], times[base])]
    return "%.3f (%.2f-%.2f)" % (statistics.median(times[v]) / statistics.median(times[base]),
                                 min(per), max(per))


def compare(name, cmd, extra=()):
    variants = ("plain", "control", "onionmeter") + tuple(extra)
    times = rounds(variants, lambda v: timed(v, cmd))
    r = {v: ratio(times, v) for v in variants}
    print("| %s | %.3f s | %s | %s | %s | %s |" % (
        name, statistics.median(times["plain"]), r["control"], r["onionmeter"],
        r.get("torsocks", "-"), r.get("proxychains4", "-")))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def node_rps(variant):
    port = free_port()
    srv = subprocess.Popen(["node", "-e", "require('http').createServer((q, s) => s.end('ok')).listen(%d, '127.0.0.1')" % port],
                           env=env_for(variant))
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        out = subprocess.run(["wrk", "-t1", "-c32", "-d3s", "http://127.0.0.1:%d/" % port],
                             capture_output=True, text=True, env=env_for("plain"), check=True).stdout
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    finally:
        srv.terminate()
        srv.wait()


print("machine: %d cores, %s; date: %s; %d rounds, order shuffled (OM_BENCH_SEED=%d)"
      % (ncpu, os.uname().release, time.strftime("%Y-%m-%d", time.gmtime()), ROUNDS, SEED))
print()
print("| workload | without shim (median) | control | onionmeter | torsocks | proxychains4 |")
print("|---|---:|---:|---:|---:|---:|")
compare("64-byte ping-pong, 50000 round trips", [bench, "pingpong", "50000", "64"])
compare("bulk transfer, 4 GiB in 64 KiB writes", [bench, "bulk", str(4 << 30)])
have = [v for v in ("torsocks", "proxychains4") if shutil.which(v)]
compare("connect/accept/close churn, 40000", [bench, "churn", "40000"], have)
compare("%d threads x 100000 64-byte write+read" % ncpu, [bench, "threads", str(ncpu), "100000"])
compare("%d threads x 25000 64-byte write+read" % (4 * ncpu), [bench, "threads", str(4 * ncpu), "25000"])
# one-time cost: loading the library and attaching to the segment
def start(v):
    a = time.perf_counter()
    for _ in range(50):
        subprocess.run(["/bin/true"], env=env_for(v), check=True)
    return (time.perf_counter() - a) / 50
starts = rounds(("plain", "onionmeter"), start)
per = [(a - b) * 1000 for a, b in zip(starts["onionmeter"], starts["plain"])]
d = statistics.median(starts["onionmeter"]) - statistics.median(starts["plain"])
print("| process start (/bin/true), once per exec: %.2f ms | - | - | %+.3f ms (%+.3f-%+.3f) | - | - |"
      % (statistics.median(starts["plain"]) * 1000, d * 1000, min(per), max(per)))
if shutil.which("node") and shutil.which("wrk"):
    # requests per second: without / with, so that above 1.00 still means slower
    rps = rounds(("plain", "onionmeter"), node_rps)
    print("| Node.js http server under wrk (1 thread, 32 connections, 3 s): %.0f req/s | - | - | %s | - | - |"
          % (statistics.median(rps["plain"]), ratio(rps, "plain", "onionmeter")))
# the segment's semaphore set outlives its file: removed with it
subprocess.run([os.path.join(build, "exporter", "onionmeter-exporter"), "--remove", "--segment",
                os.path.join(tmp, "segment")], stderr=subprocess.DEVNULL)
shutil.rmtree(tmp)
