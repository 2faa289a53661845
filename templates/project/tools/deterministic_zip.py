"""Deterministic zips from members compressed once and copied as they are.

A member is an entry already compressed (raw deflate, level 9) with its CRC
and sizes: the zip writer here copies its bytes into every zip that holds it,
so the dependencies every Lambda's zip shares are compressed once per lock,
not once per Lambda (``tools/build_cache.py`` keeps them in a zip of their
own, read back with :func:`read_members`).

Everything a zip records that could vary is pinned: members are written in
the order given (the packager sorts them), timestamped 1980-01-01, with fixed
modes and no extra fields, so the same members give the same bytes whichever
zip they came from. No ZIP64: a zip of more than 65,535 entries or 4 GiB is
refused, far beyond what Lambda accepts (250 MB unzipped).

Deflated bytes are inflated a chunk at a time and never past the size their
member states, so a member read back costs at most that much: a deflate bomb
(a few MB of deflated zeros that inflate to GBs) is refused after one byte
too many, and a member that states more than a Lambda can hold is refused
unread.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

COMPRESS_LEVEL = 9
FILE_MODE = 0o100644
# Files that were executable stay so (a binary a wheel ships must still run).
EXEC_FILE_MODE = 0o100755
DIR_MODE = 0o040755
MSDOS_DIRECTORY = 0x10
# 1980-01-01 00:00:00 in MS-DOS date and time fields.
DOS_DATE = (0 << 9) | (1 << 5) | 1
DOS_TIME = 0
# Made by Unix (3), zip spec 2.0; 2.0 is needed to extract deflate.
MADE_BY = (3 << 8) | 20
NEEDED = 20
UTF8_FLAG = 0x800
LIMIT = 0xFFFFFFFF
MAX_ENTRIES = 0xFFFF
# How much is inflated at a time.
INFLATE_CHUNK = 1024 * 1024

LOCAL_HEADER = struct.Struct("<4s5H3L2H")
CENTRAL_HEADER = struct.Struct("<4s6H3L5H2L")
END_RECORD = struct.Struct("<4s4H2LH")


class ZipError(Exception):
    """A zip cannot be written, or a cached one is not what it should be."""


@dataclass(frozen=True)
class Member:
    """One zip entry: its name, mode, and its bytes as stored in the zip."""

    name: str
    mode: int
    crc: int
    size: int
    method: int
    stored: bytes

    def data(self) -> bytes:
        """The bytes the member holds, uncompressed."""
        if self.method == zipfile.ZIP_DEFLATED:
            return b"".join(inflate(self.stored, self.size))
        return self.stored

    def renamed(self, name: str) -> Member:
        """The same compressed bytes under another name (a layer's ``python/``)."""
        return Member(name, self.mode, self.crc, self.size, self.method, self.stored)


def file_member(name: str, data: bytes, executable: bool) -> Member:
    """A file entry, compressed here."""
    packer = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    stored = packer.compress(data) + packer.flush()
    mode = EXEC_FILE_MODE if executable else FILE_MODE
    return Member(name, mode, zlib.crc32(data), len(data), zipfile.ZIP_DEFLATED, stored)


def directory_member(name: str) -> Member:
    """A folder entry (``a/b/``): stored, empty."""
    return Member(name, DIR_MODE, 0, 0, zipfile.ZIP_STORED, b"")


def directories_of(names: Iterable[str]) -> set[str]:
    """Every parent folder of the given entries, as ``a/`` and ``a/b/``."""
    folders: set[str] = set()
    for name in names:
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folders.add("/".join(parts[:depth]) + "/")
    return folders


def write(out: BinaryIO, members: Iterable[Member]) -> int:
    """Write a zip of ``members``, in their order; return the unzipped size."""
    central = []
    unzipped = 0
    offset = 0
    for member in members:
        name = member.name.encode("utf-8")
        flags = 0 if name.isascii() else UTF8_FLAG
        if offset > LIMIT or len(member.stored) > LIMIT or member.size > LIMIT:
            raise ZipError("a zip over 4 GiB needs ZIP64, which Lambda never needs")
        fields = (
            NEEDED,
            flags,
            member.method,
            DOS_TIME,
            DOS_DATE,
            member.crc,
            len(member.stored),
            member.size,
            len(name),
        )
        out.write(LOCAL_HEADER.pack(b"PK\x03\x04", *fields, 0) + name)
        out.write(member.stored)
        attributes = member.mode << 16
        if member.name.endswith("/"):
            attributes |= MSDOS_DIRECTORY
        central.append(
            CENTRAL_HEADER.pack(
                b"PK\x01\x02", MADE_BY, *fields, 0, 0, 0, 0, attributes, offset
            )
            + name
        )
        offset += LOCAL_HEADER.size + len(name) + len(member.stored)
        unzipped += member.size
    if len(central) > MAX_ENTRIES:
        raise ZipError(f"a zip of {len(central)} entries needs ZIP64")
    directory = b"".join(central)
    out.write(directory)
    out.write(
        END_RECORD.pack(
            b"PK\x05\x06", 0, 0, len(central), len(central), len(directory), offset, 0
        )
    )
    return unzipped


def zip_bytes(members: Iterable[Member]) -> bytes:
    """The zip of ``members`` as bytes (a small zip, or one kept whole anyway)."""
    out = io.BytesIO()
    write(out, members)
    return out.getvalue()


def inflate(stored: bytes, size: int) -> Iterator[bytes]:
    """The bytes the raw deflate data ``stored`` holds, a chunk at a time.

    Never more than ``size`` + 1 of them: a caller that counts them sees
    that the data holds more than ``size`` without inflating the rest.
    """
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    pending = stored
    room = size + 1
    while room > 0 and not inflater.eof:
        chunk = inflater.decompress(pending, min(room, INFLATE_CHUNK))
        pending = inflater.unconsumed_tail
        if not chunk and not inflater.eof:
            raise zlib.error("the deflated data ends early")
        room -= len(chunk)
        yield chunk


def read_members(data: bytes, max_size: int) -> list[Member]:
    """The members of a zip this module wrote, their bytes as stored.

    Every member is checked: a relative name, the mode of a plain file, a
    size of at most ``max_size``, its bytes inflating to its size and CRC.
    Anything else (a zip of another writer, a link, a name that could leave
    the folder it is extracted into, bytes changed after writing, a member
    no Lambda could hold) is a :class:`ZipError`: the caller rebuilds.
    """
    members = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                members.append(checked_member(info, data, max_size))
    except (zipfile.BadZipFile, struct.error, zlib.error, UnicodeError) as error:
        raise ZipError(str(error)) from error
    return members


def leaves_its_folder(name: str) -> bool:
    """Whether a member named ``name`` lands outside the folder it is extracted
    into, or has no name: absolute, ``..``, a backslash, a drive, a NUL."""
    parts = PurePosixPath(name).parts
    return (
        not parts
        or name.startswith("/")
        or "\\" in name
        or ":" in parts[0]
        or ".." in parts
        or "\0" in name
    )


def checked_member(info: zipfile.ZipInfo, data: bytes, max_size: int) -> Member:
    """The member ``info`` of the zip ``data``, refused unless it checks out."""
    name = info.filename
    if leaves_its_folder(name):
        raise ZipError(f"`{name}` is not a relative entry name")
    mode = info.external_attr >> 16
    if mode not in (FILE_MODE, EXEC_FILE_MODE):
        raise ZipError(f"`{name}` is not a plain file (mode {mode:o})")
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise ZipError(f"`{name}` is not deflated")
    if info.file_size > max_size:
        raise ZipError(
            f"`{name}` says it unzips to {info.file_size} bytes, more than the "
            f"{max_size} a Lambda takes"
        )
    header = LOCAL_HEADER.unpack_from(data, info.header_offset)
    start = info.header_offset + LOCAL_HEADER.size
    if header[0] != b"PK\x03\x04" or header[10] != 0:
        raise ZipError(f"`{name}` has a local header of another writer")
    if data[start : start + header[9]] != name.encode("utf-8"):
        raise ZipError(f"`{name}` has two names")
    stored = data[start + header[9] : start + header[9] + info.compress_size]
    crc = inflated = 0
    for chunk in inflate(stored, info.file_size):
        crc = zlib.crc32(chunk, crc)
        inflated += len(chunk)
    if inflated != info.file_size or crc != info.CRC:
        raise ZipError(f"`{name}` does not match its size and CRC")
    return Member(name, mode, info.CRC, info.file_size, info.compress_type, stored)
