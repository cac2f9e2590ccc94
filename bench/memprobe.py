#!/usr/bin/env python3
"""Runs a shell command (a pipeline is fine) and reports, for every process of it
whose name matches --name (default: reducto), its peak RSS (VmHWM), the peak of its
anonymous memory (RssAnon, sampled every --interval seconds: the kernel keeps no
peak of it) and of its file-backed pages (RssFile: the mapped corpus), plus the
command's wall time. With --cgroup-limit SIZE the command runs inside a fresh cgroup
v1 memory cgroup (/sys/fs/cgroup/memory/reducto-memprobe-PID) with that limit, and
the cgroup's own peak (memory.max_usage_in_bytes, which counts page cache) and
failure count are reported too.

usage: memprobe.py [--name NAME] [--interval S] [--cgroup-limit BYTES] [--json FILE] -- CMD
"""
import argparse
import json
import os
import subprocess
import sys
import time

CGROUP_ROOT = "/sys/fs/cgroup/memory"


def descendants(root):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except OSError:
            continue
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            found.append(child)
            todo.append(child)
    return found


def status_of(pid):
    values = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("Name", "VmHWM", "RssAnon", "RssFile"):
                    values[key] = rest.split()[0] if key == "Name" else int(rest.split()[0])
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            values["cmdline"] = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None
    return values


def make_cgroup(limit):
    path = f"{CGROUP_ROOT}/reducto-memprobe-{os.getpid()}"
    os.makedirs(path, exist_ok=True)
    with open(f"{path}/memory.limit_in_bytes", "w") as f:
        f.write(str(limit))
    return path


def read_int(path):
    with open(path) as f:
        return int(f.read().split()[0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="reducto")
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--cgroup-limit", type=int)
    parser.add_argument("--json")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    cgroup = make_cgroup(args.cgroup_limit) if args.cgroup_limit else None

    def enter_cgroup():
        if cgroup:
            with open(f"{cgroup}/cgroup.procs", "w") as f:
                f.write(str(os.getpid()))

    start = time.monotonic()
    proc = subprocess.Popen(["bash", "-o", "pipefail", "-c", " ".join(command)],
                            preexec_fn=enter_cgroup)
    peaks = {}
    while proc.poll() is None:
        # bash execs a lone command itself, so the shell's pid is a candidate too.
        for pid in [proc.pid] + descendants(proc.pid):
            s = status_of(pid)
            if not s or s.get("Name") != args.name:
                continue
            p = peaks.setdefault(pid, {"cmdline": s["cmdline"], "vm_hwm_kib": 0,
                                       "rss_anon_kib": 0, "rss_file_kib": 0})
            p["vm_hwm_kib"] = max(p["vm_hwm_kib"], s.get("VmHWM", 0))
            p["rss_anon_kib"] = max(p["rss_anon_kib"], s.get("RssAnon", 0))
            p["rss_file_kib"] = max(p["rss_file_kib"], s.get("RssFile", 0))
        time.sleep(args.interval)
    seconds = time.monotonic() - start
    report = {"command": " ".join(command), "exit": proc.returncode, "seconds": round(seconds, 2),
              "processes": list(peaks.values())}
    if cgroup:
        report["cgroup_limit"] = args.cgroup_limit
        report["cgroup_max_usage"] = read_int(f"{cgroup}/memory.max_usage_in_bytes")
        report["cgroup_failcnt"] = read_int(f"{cgroup}/memory.failcnt")
        os.rmdir(cgroup)
    for p in report["processes"]:
        print(f"{p['cmdline'][:90]}\n  peak RSS {p['vm_hwm_kib'] / 1024:.0f} MiB, "
              f"peak RssAnon {p['rss_anon_kib'] / 1024:.0f} MiB, "
              f"peak RssFile {p['rss_file_kib'] / 1024:.0f} MiB", file=sys.stderr)
    print(f"exit {proc.returncode}, {seconds:.1f} s", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
