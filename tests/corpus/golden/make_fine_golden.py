#!/usr/bin/python3
"""Writes fine-v1.seg and fine-v1.fine: a segment and its fine index, made from the
format's description in docs/corpus.md ("Fine index") and not from Reducto's code, so
that tests/corpus/fine_index_test.cc checks the writer against the specification.
Run once when the golden files were added; never to "fix" a failing test."""
import os
import struct

M = (1 << 64) - 1
HERE = os.path.dirname(os.path.abspath(__file__))


def fine_hash(window):
    a = int.from_bytes(window[:8], "little")
    b = int.from_bytes(window[8:16], "little")
    v = ((a * 0x9E3779B185EBCA87) ^ (b * 0xC2B2AE3D27D4EB4F)) & M
    v ^= v >> 29
    v = (v * 0xBF58476D1CE4E5B9) & M
    return v ^ (v >> 32)


def segment():
    a = bytes(((i * 2654435761) >> 11) & 0xFF for i in range(2048))
    b = bytes(((i * 40503) >> 5) & 0xFF for i in range(1024))
    return a + a[:1024] + b  # The repeated kilobyte gives windows that are already in.


def fine_index(seg, stride=32):
    positions = (len(seg) - 16) // stride + 1 if len(seg) >= 16 else 0
    buckets = max(1, (positions + 6) // 7)
    table = [[] for _ in range(buckets)]
    for i in range(positions):
        offset = i * stride
        h = fine_hash(seg[offset:offset + 16])
        first = ((h >> 32) * buckets) >> 32
        fingerprint = h & 0xFFFFFF
        for b in (first, (first + 1) % buckets):  # The next bucket when the first is full.
            if fingerprint in (e >> 40 for e in table[b]):
                break
            if len(table[b]) < 8:
                table[b].append((fingerprint << 40) | (offset + 1))
                break
    header = b"RDCFINE1" + struct.pack("<IIQQQ", 1, stride, len(seg), buckets, positions)
    out = header + bytes(64 - len(header))
    for bucket in table:
        out += b"".join(struct.pack("<Q", e) for e in bucket) + bytes(8 * (8 - len(bucket)))
    return out


if __name__ == "__main__":
    seg = segment()
    with open(os.path.join(HERE, "fine-v1.seg"), "wb") as f:
        f.write(seg)
    with open(os.path.join(HERE, "fine-v1.fine"), "wb") as f:
        f.write(fine_index(seg))
    for text in (b"\0" * 16, b"abcdefghijklmnop", bytes(range(16))):
        print(text, hex(fine_hash(text)))
