#!/usr/bin/python3
"""Writes pieces-v1.seg and pieces-v1.b3: a segment and its piece table, made from the
format's description in docs/corpus.md ("Piece tables") and not from Reducto's code, so
that tests/corpus/piece_table_test.cc checks the writer against the specification.
Neither python3's blake3 module nor b3sum is installed where this was written, so the
script carries BLAKE3 itself (the specification's reference implementation, hashing
only), checked against the specification's known answers before it writes anything.
Run once when the golden files were added; never to "fix" a failing test."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
M32 = 0xFFFFFFFF
IV = [0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
      0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19]
PERMUTATION = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8]
CHUNK_START, CHUNK_END, PARENT, ROOT = 1, 2, 4, 8
CHUNK_LEN, BLOCK_LEN = 1024, 64


def rotr(x, n):
    return ((x >> n) | (x << (32 - n))) & M32


def g(s, a, b, c, d, mx, my):
    s[a] = (s[a] + s[b] + mx) & M32
    s[d] = rotr(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & M32
    s[b] = rotr(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b] + my) & M32
    s[d] = rotr(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & M32
    s[b] = rotr(s[b] ^ s[c], 7)


def compress(cv, words, counter, block_len, flags):
    s = list(cv) + IV[:4] + [counter & M32, counter >> 32, block_len, flags]
    m = list(words)
    for r in range(7):
        g(s, 0, 4, 8, 12, m[0], m[1]); g(s, 1, 5, 9, 13, m[2], m[3])
        g(s, 2, 6, 10, 14, m[4], m[5]); g(s, 3, 7, 11, 15, m[6], m[7])
        g(s, 0, 5, 10, 15, m[8], m[9]); g(s, 1, 6, 11, 12, m[10], m[11])
        g(s, 2, 7, 8, 13, m[12], m[13]); g(s, 3, 4, 9, 14, m[14], m[15])
        if r < 6:
            m = [m[i] for i in PERMUTATION]
    return [s[i] ^ s[i + 8] for i in range(8)]


def words(block):
    return list(struct.unpack("<16I", block.ljust(BLOCK_LEN, b"\0")))


def chunk_node(chunk, counter):
    """The last compression of a chunk, not yet run: (cv, words, counter, len, flags)."""
    cv = IV
    blocks = [chunk[i:i + BLOCK_LEN] for i in range(0, len(chunk), BLOCK_LEN)] or [b""]
    for i, block in enumerate(blocks):
        flags = (CHUNK_START if i == 0 else 0) | (CHUNK_END if i == len(blocks) - 1 else 0)
        if i == len(blocks) - 1:
            return (cv, words(block), counter, len(block), flags)
        cv = compress(cv, words(block), counter, BLOCK_LEN, flags)


def tree_node(nodes):
    if len(nodes) == 1:
        return nodes[0]
    left = 1 << ((len(nodes) - 1).bit_length() - 1)  # Largest power of two below len.
    cvs = [compress(*tree_node(part)) for part in (nodes[:left], nodes[left:])]
    return (IV, cvs[0] + cvs[1], 0, BLOCK_LEN, PARENT)


def blake3(data):
    chunks = [data[i:i + CHUNK_LEN] for i in range(0, len(data), CHUNK_LEN)] or [b""]
    cv, w, counter, block_len, flags = tree_node([chunk_node(c, i) for i, c in enumerate(chunks)])
    return struct.pack("<8I", *compress(cv, w, counter, block_len, flags | ROOT))


# Known answers from the BLAKE3 specification (test_vectors.json: input byte i is i % 251).
def kat(n):
    return bytes(i % 251 for i in range(n))


assert blake3(b"").hex() == "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
assert blake3(b"abc").hex() == "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
assert blake3(kat(1)).hex() == "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"
assert blake3(kat(1025)).hex() == "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"


def segment():
    """Three whole pieces of 4096 bytes and a short last one, so that each piece spans
    several BLAKE3 chunks and the table has a short piece."""
    return bytes(((i * 2654435761) >> 13) & 0xFF for i in range(3 * 4096 + 1000))


def piece_table(seg, piece_size=4096):
    count = (len(seg) + piece_size - 1) // piece_size
    header = b"RDCPIEC1" + struct.pack("<IIQQ", 1, piece_size, len(seg), count) + bytes(32)
    return header + b"".join(blake3(seg[i * piece_size:(i + 1) * piece_size]) for i in range(count))


if __name__ == "__main__":
    seg = segment()
    table = piece_table(seg)
    assert len(table) == 64 + 32 * 4
    with open(os.path.join(HERE, "pieces-v1.seg"), "wb") as f:
        f.write(seg)
    with open(os.path.join(HERE, "pieces-v1.b3"), "wb") as f:
        f.write(table)
