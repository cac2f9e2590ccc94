#!/usr/bin/python3
"""Bar chart of bench/transfer.sh's table: wire bytes / zstd -3 per pair, tool and case.

usage: bench/transfer_chart.py RESULTS.md OUT.png   (Debian's python3-matplotlib)
"""
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def rows(path):
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 9 and cells[0] not in ("pair", "---") and cells[2] in ("a", "b"):
            yield cells[0], cells[1], cells[2], float(cells[5])


def main(results, out):
    data = list(rows(results))
    pairs = sorted({p for p, _, _, _ in data}, key=[p for p, _, _, _ in data].index)
    series = [(t, c) for t in ("reducto", "zchunk", "casync", "zsync") for c in ("a", "b")]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(series)
    for k, (tool, case) in enumerate(series):
        values = [next((r for p, t, c, r in data if (p, t, c) == (pair, tool, case)), 0)
                  for pair in pairs]
        ax.bar([i + k * width for i in range(len(pairs))], values, width,
               label=f"{tool} {'(holds old)' if case == 'a' else '(holds nothing)'}",
               hatch="" if case == "a" else "//")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(pairs))], pairs)
    ax.set_ylabel("bytes on the wire / zstd -3 of the new version")
    ax.set_ylim(0, 2)
    ax.legend(ncol=2, fontsize=8)
    ax.set_title("Rebuilding the new version over HTTP (bench/transfer.sh; lower is better)")
    fig.tight_layout()
    fig.savefig(out, dpi=100)


if __name__ == "__main__":
    main(*sys.argv[1:3])
