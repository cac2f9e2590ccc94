"""bench/run's output: per-pair Markdown table, CSV and chart, micro-benchmarks, and
docs/benchmarks.md. The CSVs are the record: the docs are rebuilt from them."""

import csv
import datetime
import json
import os
import platform
import subprocess

CSV_FIELDS = ["dataset", "tool", "kind", "target_bytes", "bytes", "ratio", "comp_s", "comp_s_min",
              "comp_s_max", "comp_mbps", "dec_s", "dec_s_min", "dec_s_max", "dec_mbps", "comp_cpu_s",
              "dec_cpu_s", "comp_rss_mib", "dec_rss_mib", "roundtrip", "runs", "cached",
              "ref_bytes", "corpus_bytes", "build_s", "build_s_min", "build_s_max", "build_mbps",
              "build_rss_mib", "command", "date", "commit"]


def _run(argv, cwd=None):
    try:
        return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def short_version(tool, text):
    import re
    m = re.search(r"v?(\d+\.\d+(\.\d+)?)", text)
    return f"{tool} {m.group(1)}" if m else text


def environment(root, reducto, peer_versions):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = _run(["git", "rev-parse", "--short=12", "HEAD"], root)
    # Dirty only if what the reducto binary is built from differs from the commit.
    dirty = _run(["git", "status", "--porcelain", "--", "src", "include", "cli", "CMakeLists.txt", "cmake"], root)
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit + ("+dirty" if dirty else ""),
        "cores": os.cpu_count(), "cpu": cpu, "mem_gib": round(mem_gib),
        "kernel": platform.release(),
        "reducto": _run([reducto, "--version"]) or "reducto",
        "peers": {k: short_version(k, v) for k, v in peer_versions.items()},
    }


def save_environment(out_dir, env):
    """The run's environment, so that --report-only can rewrite the docs later."""
    with open(os.path.join(out_dir, "environment.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "value"])
        for k, v in env.items():
            w.writerow([k, json.dumps(v)])


def load_environment(out_dir):
    with open(os.path.join(out_dir, "environment.csv"), newline="") as f:
        return {row["key"]: json.loads(row["value"]) for row in csv.DictReader(f)}


def _fmt_bytes(n):
    return f"{int(n):,}"


def pair_markdown(res):
    env = res["env"]
    lines = [f"### {res['name']}",
             "",
             f"ref {_fmt_bytes(res['ref_bytes'])} bytes, target {_fmt_bytes(res['target_bytes'])} bytes; "
             f"{env['date']}, commit {env['commit']}, {env['cores']} cores {env['cpu']}; "
             f"ratio = target / output; throughput = target bytes / wall seconds (median of "
             f"{env['repeat']} rounds; runs = 1 for the slow peers).",
             ""]
    c = res.get("corpus")
    if c:
        lines += [f"Reducto corpus build (once per reference, not in the compress times): "
                  f"{c['build_s']:.2f} s ({c['build_mbps']:.0f} MB/s of reference, median of {c['runs']}), "
                  f"peak RSS {c['build_rss_mib']:.0f} MiB, corpus {_fmt_bytes(c['corpus_bytes'])} bytes on disk.", ""]
    lines += ["| tool | bytes | ratio | compress MB/s | decompress MB/s | compress s | decompress s "
              "| peak RSS MiB c / d | round trip | runs |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    front = {r["tool"] for r in pareto(res["rows"])}
    for r in res["rows"]:
        name = f"**{r['tool']}**" if r["kind"] == "reducto" else r["tool"]
        if r["tool"] in front:
            name += " ◆"
        runs = f"{r['runs']}" + (" (cached)" if r["cached"] in (True, "True") else "")
        lines.append(f"| {name} | {_fmt_bytes(r['bytes'])} | {float(r['ratio']):.2f} | {float(r['comp_mbps']):.1f} "
                     f"| {float(r['dec_mbps']):.1f} | {float(r['comp_s']):.2f} | {float(r['dec_s']):.2f} "
                     f"| {float(r['comp_rss_mib']):.0f} / {float(r['dec_rss_mib']):.0f} | {r['roundtrip']} | {runs} |")
    lines += ["", "◆ on the Pareto front of ratio against compression throughput.", ""]
    return "\n".join(lines)


def pareto(rows):
    """Rows that no other row beats on both ratio and compression throughput."""
    pts = [r for r in rows if r.get("kind") != "corpus"]
    front = []
    for r in pts:
        rr, rt = float(r["ratio"]), float(r["comp_mbps"])
        if not any(float(o["ratio"]) >= rr and float(o["comp_mbps"]) >= rt and
                   (float(o["ratio"]) > rr or float(o["comp_mbps"]) > rt) for o in pts):
            front.append(r)
    return front


def write_pair(res, out_dir):
    name, env = res["name"], res["env"]
    with open(os.path.join(out_dir, f"{name}.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        rows = ([res["corpus"]] if res.get("corpus") else []) + res["rows"]
        for r in rows:
            w.writerow({**{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()},
                        "dataset": name, "target_bytes": res["target_bytes"], "ref_bytes": res["ref_bytes"],
                        "date": env["date"], "commit": env["commit"]})
    with open(os.path.join(out_dir, f"{name}.md"), "w") as f:
        f.write(pair_markdown(res))
    chart(res, os.path.join(out_dir, f"{name}.png"))


def read_pair(out_dir, name):
    """The result of an earlier run, from its CSV."""
    with open(os.path.join(out_dir, f"{name}.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    corpus = next((r for r in rows if r["kind"] == "corpus"), None)
    if corpus:
        for k in ("build_s", "build_mbps", "build_rss_mib"):
            corpus[k] = float(corpus[k])
        corpus["runs"] = int(corpus["runs"])
    rows = [r for r in rows if r["kind"] != "corpus"]
    for r in rows:
        r["runs"] = int(r["runs"])
    first = rows[0]
    return {"name": name, "rows": rows, "corpus": corpus, "target_bytes": int(first["target_bytes"]),
            "ref_bytes": int(first["ref_bytes"]), "date": first["date"], "commit": first["commit"]}


STYLE = {  # tool -> (color, marker)
    "gzip -6": ("#7f7f7f", "v"),
    "zstd -3": ("#1f77b4", "o"),
    "zstd -19 --long": ("#1f77b4", "s"),
    "zstd --patch-from -3": ("#2ca02c", "o"),
    "zstd --patch-from -19": ("#2ca02c", "s"),
    "xdelta3 -9": ("#9467bd", "D"),
}


def chart(res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    rows = res["rows"]
    fig, ax = plt.subplots(figsize=(9, 5.6), dpi=90)
    xs = [float(r["comp_mbps"]) for r in rows]
    ys = [float(r["ratio"]) for r in rows]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(min(xs) / 1.6, max(xs) * 3)
    ax.set_ylim(min(ys) / 1.25, max(ys) * 1.4)
    for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        for mantissas in ((1, 1.5, 2, 3, 4, 5, 7), (1, 2, 3, 5), (1, 2, 5), (1, 3), (1,)):
            ticks = [m * 10**e for e in range(-2, 6) for m in mantissas if lim[0] <= m * 10**e <= lim[1]]
            if len(ticks) <= 10:
                break
        axis.set_major_locator(FixedLocator(ticks))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())
    fig.canvas.draw()
    placed = []  # Label boxes in display pixels, to keep labels from overlapping.
    markers = []
    for x, y in zip(xs, ys):
        mx, my = ax.transData.transform((x, y))
        markers.append((mx - 7, my - 7, mx + 7, my + 7))

    def place_label(text, x, y):
        px, py = ax.transData.transform((x, y))
        w, h = 6.0 * len(text) + 4, 11
        for dx, dy, ha in ((8, 4, "left"), (8, -13, "left"), (-8, 4, "right"), (-8, -13, "right"),
                           (8, 14, "left"), (8, -24, "left"), (-8, 14, "right"), (-8, -24, "right")):
            x0 = px + dx if ha == "left" else px + dx - w
            box = (x0, py + dy, x0 + w, py + dy + h)
            inside = ax.bbox.x0 <= box[0] and box[2] <= ax.bbox.x1 and ax.bbox.y0 <= box[1] and box[3] <= ax.bbox.y1
            own = (px - 7, py - 7, px + 7, py + 7)
            if inside and not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
                                  for b in placed + [m for m in markers if m != own]):
                break
        placed.append(box)
        ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx * 72 / 90, dy * 72 / 90),
                    fontsize=8, ha=ha, zorder=4)

    reducto_markers = ["*", "P", "X", "p", "h", "H", "8"]
    ri = 0
    for r in rows:
        x, y = float(r["comp_mbps"]), float(r["ratio"])
        if r["kind"] == "reducto":
            color, marker, size = "#d62728", reducto_markers[ri % len(reducto_markers)], 190
            ri += 1
        else:
            color, marker = STYLE.get(r["tool"], ("#444444", "o"))
            size = 80
        label = r["tool"] + (" (1 run)" if int(r["runs"]) == 1 else "")
        ax.scatter([x], [y], s=size, c=color, marker=marker, label=label, zorder=3,
                   edgecolors="black", linewidths=0.6)
        place_label(r["tool"], x, y)
    c = res.get("corpus")
    base = next((r for r in rows if r["tool"] == "reducto"), None)
    if c and base:
        # The first use of a new reference: corpus build plus one compression.
        x = float(res["target_bytes"]) / (float(c["build_s"]) + float(base["comp_s"])) / 1e6
        ax.scatter([x], [float(base["ratio"])], s=150, facecolors="none", edgecolors="#d62728", marker="*",
                   linewidths=1.2, label="reducto incl. corpus build (first use)", zorder=3)
    front = sorted(pareto(rows), key=lambda r: float(r["comp_mbps"]))
    if len(front) > 1:
        ax.plot([float(r["comp_mbps"]) for r in front], [float(r["ratio"]) for r in front],
                ls="--", c="#999999", lw=1, zorder=1, label="Pareto front")
    ax.set_xlabel("compression throughput, MB/s of target (log scale; right is faster)")
    ax.set_ylabel("ratio = target / output (log scale; up is smaller)")
    date = res.get("env", {}).get("date") or res.get("date", "")
    ax.set_title(f"{res['name']}: {res['target_bytes'] / 1e6:.1f} MB target against a "
                 f"{res['ref_bytes'] / 1e6:.1f} MB reference ({date})", fontsize=10)
    ax.grid(True, which="major", ls=":", c="#cccccc")
    ax.legend(fontsize=7.5, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def run_micro(bench_bin, out_dir):
    """Google Benchmark micro-benchmarks, 3 repetitions, medians; kept as micro.csv."""
    if not os.path.exists(bench_bin):
        print(f"bench/run: {bench_bin} missing; micro-benchmarks skipped")
        return None
    p = subprocess.run([bench_bin, "--benchmark_repetitions=3", "--benchmark_report_aggregates_only=true",
                        "--benchmark_format=json"], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"bench/run: {bench_bin} failed: {p.stderr[-400:]}")
        return None
    data = json.loads(p.stdout)
    rows = []
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        rows.append({"benchmark": b["run_name"],
                     "time": b["real_time"], "unit": b["time_unit"],
                     "gb_per_s": b.get("bytes_per_second", 0) / 1e9 if b.get("bytes_per_second") else "",
                     "items_per_s": b.get("items_per_second", ""),
                     "counters": ";".join(f"{k}={b[k]:g}" for k in ("chunks", "container_bytes", "entries", "hit_rate")
                                          if k in b)})
    with open(os.path.join(out_dir, "micro.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["benchmark", "time", "unit", "gb_per_s", "items_per_s", "counters"])
        w.writeheader()
        w.writerows(rows)
    return rows


def micro_markdown(rows):
    lines = ["| benchmark | median time | GB/s | items/s | |", "|---|---:|---:|---:|---|"]
    for r in rows:
        gb = f"{float(r['gb_per_s']):.2f}" if r["gb_per_s"] not in ("", None) else ""
        it = f"{float(r['items_per_s']) / 1e6:.2f} M" if r["items_per_s"] not in ("", None) else ""
        lines.append(f"| {r['benchmark']} | {float(r['time']):.3g} {r['unit']} | {gb} | {it} | {r['counters']} |")
    return "\n".join(lines)


def observations(res):
    rows = res["rows"]
    peers = [r for r in rows if r["kind"] == "peer"]
    out = []
    front = {r["tool"] for r in pareto(rows)}
    for r in rows:
        if r["kind"] != "reducto":
            continue
        beaters = [o["tool"] for o in rows if o is not r and float(o["ratio"]) >= float(r["ratio"])
                   and float(o["comp_mbps"]) >= float(r["comp_mbps"])]
        where = "on the Pareto front" if r["tool"] in front else "dominated by " + ", ".join(beaters)
        out.append(f"- {r['tool']}: {float(r['ratio']):.2f}x at {float(r['comp_mbps']):.0f} MB/s, {where}.")
    if peers:
        best = max(peers, key=lambda r: float(r["ratio"]))
        out.append(f"- Best peer ratio: {best['tool']} {float(best['ratio']):.2f}x at "
                   f"{float(best['comp_mbps']):.1f} MB/s.")
    return "\n".join(out)


def write_docs(root, out_dir, names, env, micro):
    doc = os.path.join(root, "docs", "benchmarks.md")
    names = names or []
    # Pairs run now first, then any other pair whose CSV is in out_dir.
    for f in sorted(os.listdir(out_dir)):
        n = f[:-4]
        if f.endswith(".csv") and n not in ("micro", "environment") and n not in names:
            names.append(n)
    order = ["kernel", "pgdump", "vm-ext4", "ci-build"]
    names.sort(key=lambda n: (order.index(n) if n in order else len(order), n))
    if micro is None and os.path.exists(os.path.join(out_dir, "micro.csv")):
        with open(os.path.join(out_dir, "micro.csv"), newline="") as f:
            micro = list(csv.DictReader(f))
    callgrind = ""
    base = os.path.join(root, "bench", "callgrind", "baseline.txt")
    if os.path.exists(base):
        with open(base) as f:
            callgrind = f.read().strip()
    peers = env["peers"]
    rel = os.path.relpath(out_dir, os.path.dirname(doc))
    parts = [TEMPLATE_HEAD.format(**env, zstd=peers.get("zstd", ""), gzip=peers.get("gzip", ""),
                                  xdelta3=peers.get("xdelta3", ""))]
    for n in names:
        res = read_pair(out_dir, n)
        res["env"] = {**env, "date": res["date"], "commit": res["commit"]}
        chart(res, os.path.join(out_dir, f"{n}.png"))  # Redrawn from the CSV: one style for all.
        with open(os.path.join(out_dir, f"{n}.md"), "w") as f:
            f.write(pair_markdown(res))
        cmds = "\n".join(f"{r['tool']:24s} {r['command']}" for r in
                         ([res["corpus"]] if res.get("corpus") else []) + res["rows"])
        parts.append(pair_markdown(res).replace(f"### {n}", f"### {n}", 1) +
                     f"\n![{n}: ratio against compression throughput]({rel}/{n}.png)\n\n"
                     f"{observations(res)}\n\n<details><summary>exact commands</summary>\n\n```\n"
                     f"{cmds}\n```\n</details>\n")
    if micro:
        parts.append("## Micro-benchmarks\n\n`build/bench/reducto_bench --benchmark_repetitions=3` "
                     "(medians; inputs in memory, one thread; the same run, so ratios between rows "
                     "are meaningful, absolute numbers less so):\n\n" + micro_markdown(micro) + "\n")
    # Hand-written pages: the reading of the run, and the scale benchmarks that take
    # too long for every run (bench/streaming.sh, bench/large_corpus.sh).
    for name in ("notes.md", "scale.md"):
        path = os.path.join(out_dir, name)
        if os.path.exists(path):
            with open(path) as f:
                parts.append(f.read())
    parts.append(TEMPLATE_TAIL.format(callgrind=callgrind or "(no baseline yet)"))
    with open(doc, "w") as f:
        f.write("\n".join(parts))


TEMPLATE_HEAD = """# Benchmarks

Reducto against the tools a user would otherwise pick, on the pairs of
`../shared/bench/datasets.sh`. Regenerate this page, its tables, CSVs and charts with
one command (it builds Reducto, builds any missing pair, runs everything; slow peers
come from the cache when they ran before):

```
bench/run --docs
```

Latest run: **{date}**, commit `{commit}`, {cores} cores, {cpu}, {mem_gib} GiB,
Linux {kernel}. {reducto}; {zstd}; {gzip}; {xdelta3}.
Command: `{command}`.

## How to read it

- **ratio** = target bytes / output bytes. **Throughput** = target bytes / wall
  seconds, for compression and for decompression (Reducto's decompression includes the
  fsync that makes its output durable; the peers do not sync).
- Fast tools ran {repeat} rounds, alternating the order of the tools between rounds;
  the tables give the median (min and max are in the CSVs). The slow peers (`zstd -19
  --long`, `zstd --patch-from -19`) run once ("1 (cached)") and are cached by the
  SHA-256 of the pair, the tool's version and its command line, in
  `~/.cache/reducto-bench` (`--cache` or `$REDUCTO_BENCH_CACHE`); `--refresh` reruns them.
- **Reducto's corpus build** is reported apart, above each table: a corpus is built
  once per reference and used for many targets. `zstd --patch-from` and `xdelta3`
  read and index the whole reference on every call, and that is inside their times.
  The hollow star on each chart is Reducto's first use of a new reference (corpus
  build + one compression).
- **Peak RSS** is the maximum resident set of the process (GNU time `%M`), compress /
  decompress.
- **Round trip** is a byte-for-byte `cmp` of the restored file with the target, on every run.
- Peers are single-threaded, with the invocations of `../shared/bench/peers.sh`
  (listed under each table). The zstd window log is ceil(log2(largest input)) + 1 and
  xdelta3's source window the reference rounded up to a power of two (at least 64 MiB),
  so both see the whole reference.
- The machine is shared and noisy (2 cores): compare rows of one table, not absolute
  times across runs.

### Reducto rows

The harness reads `reducto compress --help` and only runs rows whose flags are
advertised (table `REDUCTO_SETTINGS` in `bench/run`):

| row | flags | appears when |
|---|---|---|
| reducto | (defaults: level 3) | always |
| reducto -19 | `--level 19` | always |
| reducto --threads 1 | `--threads 1` | `--threads` exists |
| reducto --profile fast / max | `--profile fast` / `--profile max` | `--profile` exists |
| reducto --profile fast -T1 / max -T1 | the profile with `--threads 1` | both exist |

Flags that `reducto decompress --help` advertises (e.g. `--threads`) are passed to
decompression too. Rows whose flags the binary does not advertise are left out, so the
tables show which ran; without a `--threads` row Reducto ran single-threaded, and its
rows are also its one-thread figures.

## Results
"""

TEMPLATE_TAIL = """
## Performance regression guard (CI)

`bench/callgrind/guard.sh` counts instructions (valgrind `--tool=callgrind`, total Ir;
deterministic for one binary and one input, unlike a clock) of `reducto chunk`,
`reducto compress` and `reducto decompress` on a fixed pair from
`reducto-gen --size 67108864 --seed 7` (a 68 MB reference, a 69 MB target), compares
each with `bench/callgrind/baseline.txt` and fails on more than 5% growth. `.ci/run`
runs it after the tests (about 10 s). Two runs of the same binary agree to within
0.01% (the chunk count is exact; compress and decompress move by a few thousand
instructions, RocksDB's background threads).
Under valgrind BLAKE3's runtime CPU dispatch and zstd may take other code paths than
natively (valgrind does not emulate every instruction set extension); that is fine as
they are the same on every run of the same binary, but the counts describe the
valgrind path, not a native profile. A different compiler or library version changes
the counts too: then the baseline is refreshed deliberately with
`bench/callgrind/guard.sh --update`, in a commit of its own that says why.

Current baseline:

```
{callgrind}
```
"""
