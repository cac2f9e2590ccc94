"""Small inputs of each kind the benchmarks use, each as (older version, newer version):
the corpus is built from the older one, the newer one is compressed against it."""

import io
import random
import tarfile


def _rng(name):
    return random.Random(name)


def source_code(version):
    rng = _rng("source")
    lines = []
    for i in range(3000):
        lines.append(f"static int function_{i}(int x) {{ return x * {rng.randrange(1000)} "
                     f"+ {i}; }}  /* helper {rng.randrange(10**6)} */")
    if version == 2:
        for i in range(0, len(lines), 97):
            lines[i] = lines[i].replace("return x", "return (x + 1)")
        lines.insert(1500, "/* a new function in version 2 */ int added(void) { return 2; }")
    return ("\n".join(lines) + "\n").encode()


def database_dump(version):
    rng = _rng("dump")
    rows = [f"INSERT INTO customers VALUES ({i}, 'name-{rng.randrange(10**9):09d}', "
            f"'{rng.choice(['Lyon', 'Oslo', 'Lima', 'Pune'])}', {rng.randrange(10**5)}.{i % 100:02d});"
            for i in range(4000)]
    if version == 2:
        for i in range(0, len(rows), 53):
            rows[i] = rows[i].replace("INSERT", "INSERT /* updated */")
        rows += [f"INSERT INTO customers VALUES ({i}, 'new', 'Kyiv', 0.00);"
                 for i in range(4000, 4200)]
    header = "-- dump of shop\nCREATE TABLE customers (id int, name text, city text, total numeric);\n"
    return (header + "\n".join(rows) + "\n").encode()


def tar_of_files(version):
    rng = _rng("tar")
    files = {f"project/file{i}.txt": bytes(rng.randrange(32, 127) for _ in range(3000))
             for i in range(12)}
    if version == 2:
        files["project/file3.txt"] = files["project/file3.txt"][:1000] + b"changed" + \
            files["project/file3.txt"][1000:]
        files["project/new.txt"] = b"a file new in version 2\n" * 50
        del files["project/file7.txt"]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000 + version
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def elf_binary(version):
    with open("/bin/ls", "rb") as f:
        data = bytearray(f.read())
    if version == 2:
        for offset in range(4096, len(data), len(data) // 7):
            data[offset] ^= 0x5A
        data += b"\x00version 2 trailer\x00"
    return bytes(data)


def random_bytes(version):
    return _rng(f"random{version}").randbytes(150_000)


def empty(version):
    return b"an older input, for the corpus\n" * 10 if version == 1 else b""


def one_byte(version):
    return b"an older input, for the corpus\n" * 10 if version == 1 else b"x"


KINDS = {
    "tar": tar_of_files,
    "source": source_code,
    "elf": elf_binary,
    "dump": database_dump,
    "random": random_bytes,
    "empty": empty,
    "one_byte": one_byte,
}
