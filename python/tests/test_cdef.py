"""The cdef (reducto/_cdef.py) declares what include/reducto/reducto.h declares: every
reducto_ function, struct, typedef and the error codes, the same way.

cffi's ABI mode trusts the cdef: a parameter the header added or a changed type would
not fail at load time but corrupt memory at call time, so the two are compared here,
after stripping comments, preprocessor lines and REDUCTO_API, statement by statement.
"""

import os
import pathlib
import re

import pytest

HERE = pathlib.Path(__file__).resolve().parent
HEADER = pathlib.Path(os.environ.get("REDUCTO_HEADER",
                                     HERE.parent.parent / "include" / "reducto" / "reducto.h"))


def _cdef_text():
    # Loaded by path, not through the package, so that it is the source tree's copy
    # whichever reducto is installed.
    namespace = {}
    exec((HERE.parent / "reducto" / "_cdef.py").read_text(), namespace)
    return namespace["CDEF"]


def _statements(text):
    """The top-level declarations of C text, each normalized to one line."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"\\\n", " ", text)  # continuation lines of macros
    lines, skip = [], 0
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            if re.match(r"#\s*ifdef\s+__cplusplus", stripped):
                skip += 1
            elif skip and re.match(r"#\s*endif", stripped):
                skip -= 1
            continue
        if not skip:
            lines.append(line)
    text = " ".join(lines).replace("REDUCTO_API", " ")
    statements, depth, current = [], 0, []
    for char in text:
        current.append(char)
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == ";" and depth == 0:
            statements.append("".join(current))
            current = []
    assert "".join(current).strip() == "", f"unterminated declaration: {''.join(current)!r}"
    return [_normalize(s) for s in statements]


def _normalize(statement):
    statement = re.sub(r"\s+", " ", statement).strip()
    statement = re.sub(r"\s*([*(),;{}\[\]=])\s*", r"\1", statement)
    return statement


def _by_name(statements):
    named = {}
    for statement in statements:
        # The declared name: a function's (before its parameter list), a typedef's (its
        # last identifier, or the pointer name of a function type), an enum by itself.
        function = re.match(r"[\w\s*]*?\b(reducto_\w+)\(", statement)
        pointer = re.search(r"\(\*(reducto_\w+)\)", statement)
        if statement.startswith("enum{"):
            name = "enum"
        elif statement.startswith("typedef") and pointer:
            name = pointer.group(1)
        elif statement.startswith("typedef"):
            name = re.search(r"(\w+);$", statement).group(1)
        elif function:
            name = function.group(1)
        else:
            name = statement
        assert name not in named, f"declared twice: {name}"
        named[name] = statement
    return named


def test_the_header_is_there():
    assert HEADER.is_file(), f"{HEADER}: set REDUCTO_HEADER to include/reducto/reducto.h"


def test_the_cdef_declares_what_the_header_declares():
    header = _by_name(_statements(HEADER.read_text()))
    cdef = _by_name(_statements(_cdef_text()))
    missing = sorted(set(header) - set(cdef))
    extra = sorted(set(cdef) - set(header))
    different = sorted(name for name in set(header) & set(cdef) if header[name] != cdef[name])
    assert not missing, f"in reducto.h but not in the cdef: {missing}"
    assert not extra, f"in the cdef but not in reducto.h: {extra}"
    assert not different, "declared differently:\n" + "\n".join(
        f"  header: {header[name]}\n  cdef:   {cdef[name]}" for name in different)
    functions = [name for name in header if name.startswith("reducto_")
                 and "(" in header[name] and not header[name].startswith("typedef")]
    assert len(functions) >= 30  # the parse found the functions at all


def test_the_comparison_catches_a_difference():
    header = _by_name(_statements(HEADER.read_text()))
    changed = _cdef_text().replace("size_t src_size,\n                     void* dst",
                                   "int src_size,\n                     void* dst")
    assert changed != _cdef_text()
    cdef = _by_name(_statements(changed))
    assert header["reducto_compress"] != cdef["reducto_compress"]
    dropped = _by_name(_statements(_cdef_text().replace(
        "int reducto_corpus_verify(reducto_session* session, const char* path);", "")))
    assert "reducto_corpus_verify" in header and "reducto_corpus_verify" not in dropped


@pytest.mark.parametrize("name", ["REDUCTO_VERSION_MAJOR", "REDUCTO_VERSION_MINOR",
                                  "REDUCTO_VERSION_PATCH"])
def test_the_loaded_library_is_the_headers_version(name):
    import reducto
    value = int(re.search(rf"#define {name} (\d+)", HEADER.read_text()).group(1))
    number = reducto.version_number
    part = {"REDUCTO_VERSION_MAJOR": number // 10000,
            "REDUCTO_VERSION_MINOR": number // 100 % 100,
            "REDUCTO_VERSION_PATCH": number % 100}[name]
    assert part == value
    assert reducto.__version__ == re.search(r'#define REDUCTO_VERSION_STRING "([^"]+)"',
                                            HEADER.read_text()).group(1)
