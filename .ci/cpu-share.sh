#!/usr/bin/env bash
# CPU share of the daemon (`serve`), the load generator (`bench inbound`) and
# PostgreSQL over the next N seconds (default 5), plus idle and steal (time the
# hypervisor gave the cores to someone else), as % of one core. Run it beside a
# benchmark: `.ci/cpu-share.sh 5`. Not part of CI.
N=${1:-5}
hz=$(getconf CLK_TCK)
snap() { for p in /proc/[0-9]*; do c=$(tr '\0' ' ' < $p/cmdline 2>/dev/null) || continue; s=$(cut -d' ' -f14,15 $p/stat 2>/dev/null) || continue; [ -z "$s" ] && continue; case "$c" in *" serve"*) g=daemon;; *"bench inbound"*) g=bench;; *postgres*) g=postgres;; *) g=other;; esac; echo "$g $s"; done | awk '{a[$1]+=$2+$3} END {for (k in a) print k, a[k]}'; }
s0=$(date +%s.%N); a=$(snap); t0=$(awk '/^cpu /{print $5, $9}' /proc/stat)
sleep "$N"
b=$(snap); t1=$(awk '/^cpu /{print $5, $9}' /proc/stat); s1=$(date +%s.%N)
d=$(echo "$s1 - $s0" | bc)
join <(echo "$a"|sort) <(echo "$b"|sort) | awk -v hz=$hz -v d=$d '{printf "%s %.0f%% ", $1, ($3-$2)/hz/d*100}'
echo "$t0 $t1" | awk -v d=$d -v hz=$hz '{printf "idle %.0f%% steal %.0f%% (%.1fs)\n", ($3-$1)/hz/d*100, ($4-$2)/hz/d*100, d}'
