"""Make a tiny wheel (or sdist) for the build tests: no network, no build tools.

usage: python3 make_wheel.py DIR NAME VERSION TAG [--init TEXT] [--native KIND]
                             [--requires REQUIREMENT ...]
       python3 make_wheel.py DIR NAME VERSION --sdist

``--sdist`` writes what a package that ships only source code looks like to
pip: ``NAME-VERSION.tar.gz`` with a C extension (``NAME.answer()`` returns
42) and its own build backend, which pip runs offline where a C compiler and
Python's headers are (the Docker build mode's image).

TAG is the wheel's compatibility tag, e.g. ``py3-none-any`` or
``py3-none-manylinux_2_28_x86_64``. ``--native`` adds ``NAME/_native.so``:

* ``macho``: a file that starts like a 64-bit macOS (Mach-O) binary;
* ``elf:MACHINE:GLIBC``, e.g. ``elf:x86_64:2.28``: a minimal 64-bit ELF file
  for MACHINE (x86_64 or aarch64) whose version needs
  (``.gnu.version_r``) ask libc.so.6 for ``GLIBC_<GLIBC>``.
"""

import argparse
import io
import struct
import tarfile
import zipfile
from pathlib import Path

ELF_MACHINES = {"x86_64": 62, "aarch64": 183}
SHT_STRTAB = 3
SHT_GNU_VERNEED = 0x6FFFFFFE


def elf(machine: str, glibc: str) -> bytes:
    """An ELF64 file with a string table and one version need."""
    strings = b"\0libc.so.6\0GLIBC_" + glibc.encode() + b"\0"
    file_name, version_name = 1, 11
    # Elf64_Verneed: version, aux count, file, aux offset, next; then one Vernaux:
    # hash, flags, other, name, next.
    verneed = struct.pack("<HHIII", 1, 1, file_name, 16, 0)
    verneed += struct.pack("<IHHII", 0, 0, 2, version_name, 0)
    header_size = 64
    strings_offset = header_size
    verneed_offset = strings_offset + len(strings)
    sections_offset = verneed_offset + len(verneed)
    sections = [
        struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        struct.pack(
            "<IIQQQQIIQQ", 0, SHT_STRTAB, 0, 0, strings_offset, len(strings), 0, 0, 1, 0
        ),
        struct.pack(
            "<IIQQQQIIQQ",
            0,
            SHT_GNU_VERNEED,
            0,
            0,
            verneed_offset,
            len(verneed),
            1,
            1,
            8,
            0,
        ),
    ]
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header = ident + struct.pack(
        "<HHIQQQIHHHHHH",
        3,  # ET_DYN
        ELF_MACHINES[machine],
        1,
        0,
        0,
        sections_offset,
        0,
        header_size,
        0,
        0,
        64,
        len(sections),
        0,
    )
    return header + strings + verneed + b"".join(sections)


def native_library(kind: str) -> bytes:
    if kind == "macho":
        return b"\xcf\xfa\xed\xfe" + bytes(60)
    _, machine, glibc = kind.split(":")
    return elf(machine, glibc)


def write_wheel(args: argparse.Namespace) -> None:
    name, version, tag = args.name, args.version, args.tag
    path = Path(args.dir) / f"{name}-{version}-{tag}.whl"
    info = f"{name}-{version}.dist-info/"
    files = {
        f"{name}/__init__.py": args.init,
        f"{name}/tests/__init__.py": "",
    }
    if args.native:
        files[f"{name}/_native.so"] = native_library(args.native)
    files[info + "METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {r}\n" for r in args.requires)
    )
    files[info + "WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: "
        f"{'false' if args.native else 'true'}\nTag: {tag}\n"
    )
    record = "".join(f"{file},,\n" for file in [*files, info + "RECORD"])
    files[info + "RECORD"] = record
    with zipfile.ZipFile(path, "w") as wheel:
        for file, data in files.items():
            wheel.writestr(file, data)


# The sdist: its PEP 517 backend is inside it (`backend-path`) and needs only a
# C compiler and Python's headers, so pip builds it offline from a folder of
# wheels that holds no build tools. Its package's `answer()` (42) is written in C.
SDIST_PYPROJECT = """\
[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]
"""

SDIST_BACKEND = r'''"""A PEP 517 backend that compiles _native.c with the system's C compiler."""

import os
import subprocess
import sys
import sysconfig
import tempfile
import zipfile

NAME, VERSION = NAME_VERSION


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    python = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    tag = f"{python}-{python}-{platform}"
    extension = "_native" + sysconfig.get_config_var("EXT_SUFFIX")
    include = "-I" + sysconfig.get_paths()["include"]
    wheel = f"{NAME}-{VERSION}-{tag}.whl"
    info = f"{NAME}-{VERSION}.dist-info/"
    with tempfile.TemporaryDirectory() as tmp:
        built = os.path.join(tmp, extension)
        command = ["cc", "-shared", "-fPIC", include, "_native.c", "-o", built]
        subprocess.run(command, check=True)
        with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w") as w:
            w.write(built, f"{NAME}/{extension}")
            w.writestr(f"{NAME}/__init__.py", "from ._native import answer\n")
            w.writestr(
                info + "METADATA",
                f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n",
            )
            w.writestr(
                info + "WHEEL",
                "Wheel-Version: 1.0\nGenerator: test\n"
                f"Root-Is-Purelib: false\nTag: {tag}\n",
            )
            w.writestr(info + "RECORD", "")
    return wheel
'''

SDIST_NATIVE_C = """\
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *answer(PyObject *self, PyObject *args) {
    return PyLong_FromLong(42);
}

static PyMethodDef methods[] = {
    {"answer", answer, METH_NOARGS, "The answer, computed in C."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};

PyMODINIT_FUNC PyInit__native(void) {
    return PyModule_Create(&module);
}
"""


def write_sdist(args: argparse.Namespace) -> None:
    """An sdist whose C extension pip compiles with SDIST_BACKEND, offline."""
    base = f"{args.name}-{args.version}"
    files = {
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {args.name}\nVersion: {args.version}\n",
        "pyproject.toml": SDIST_PYPROJECT,
        "backend.py": SDIST_BACKEND.replace(
            "NAME_VERSION", f"{args.name!r}, {args.version!r}"
        ),
        "_native.c": SDIST_NATIVE_C,
    }
    with tarfile.open(Path(args.dir) / f"{base}.tar.gz", "w:gz") as sdist:
        for name, text in files.items():
            data = text.encode()
            member = tarfile.TarInfo(f"{base}/{name}")
            member.size = len(data)
            member.mode = 0o644
            sdist.addfile(member, io.BytesIO(data))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("name")
    parser.add_argument("version")
    parser.add_argument("tag", nargs="?")
    parser.add_argument("--init", default="")
    parser.add_argument("--native")
    parser.add_argument("--requires", action="append", default=[])
    parser.add_argument("--sdist", action="store_true")
    args = parser.parse_args()
    if args.sdist:
        write_sdist(args)
    else:
        write_wheel(args)


if __name__ == "__main__":
    main()
