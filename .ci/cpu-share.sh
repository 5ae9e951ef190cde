#!/usr/bin/env bash
# CPU share of the daemon (`serve`), the load generator (`bench inbound`) and
# PostgreSQL over the next N seconds (default 5), plus idle and steal (time the
# hypervisor gave the cores to someone else), as % of one core. Run it beside a
# benchmark: `.ci/cpu-share.sh 5`. Not part of CI.
exec python3 - "${1:-5}" <<'PY'
import os, sys, time
hz = os.sysconf("SC_CLK_TCK")
def group(cmd):
    if " serve" in cmd: return "daemon"
    if "bench inbound" in cmd: return "bench"
    if "postgres" in cmd: return "postgres"
    return "other"
def snap():
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit(): continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
            stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        g = group(cmd)
        out[(pid, g)] = int(stat[11]) + int(stat[12])
    cpu = open("/proc/stat").readline().split()
    return out, int(cpu[4]), int(cpu[8])
t0 = time.monotonic(); a, idle0, steal0 = snap()
time.sleep(float(sys.argv[1]))
b, idle1, steal1 = snap(); d = time.monotonic() - t0
share = {}
for key, v in b.items():
    share[key[1]] = share.get(key[1], 0) + v - a.get(key, 0)
print(" ".join(f"{g} {share.get(g, 0) / hz / d * 100:.0f}%" for g in ("bench", "daemon", "postgres", "other")),
      f"idle {(idle1 - idle0) / hz / d * 100:.0f}% steal {(steal1 - steal0) / hz / d * 100:.0f}% ({d:.1f}s)")
PY
