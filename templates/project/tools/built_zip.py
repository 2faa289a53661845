"""Reading a built zip back: ``lambda-scaffold invoke --zip`` runs a handler
from the files of ``target/NAME.zip`` (and of the layer,
``target/dependencies.zip``), extracted by ``tools/package_lambda.py
--from-zip``.

A zip is checked whole before anything is written: every member must be a
plain file or folder (no symbolic link, no device), named by a relative path
that stays inside the folder (no ``/`` at its start, no ``..``, no
backslash, no drive), named once, and all of them together no larger than
Lambda's 250 MB unzipped limit. zipfile never writes more than a member's
stated size, so that bound holds however the data was compressed.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from pathlib import Path

from deterministic_zip import leaves_its_folder

# Lambda's limit on a function's files, unzipped, with its layers.
MAX_UNZIPPED = 250 * 1024 * 1024
# More members than any Lambda zip this project builds would hold.
MAX_MEMBERS = 100_000
# What zipfile raises for a zip it cannot read, whose data included (a member's
# deflated bytes changed: zlib.error, or EOFError when they end early).
UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError)


class BadZip(Exception):
    """A zip that is not extracted; the message says why."""


def checked_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The members of ``archive``, once every one is known to be safe."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise BadZip(f"it has {len(members)} members, more than {MAX_MEMBERS}")
    seen: set[str] = set()
    total = 0
    for member in members:
        name = member.filename
        if leaves_its_folder(name):
            raise BadZip(f"member `{name}` leaves the folder it is extracted into")
        kind = stat.S_IFMT(member.external_attr >> 16)
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise BadZip(f"member `{name}` is not a plain file or folder")
        key = name.rstrip("/")
        if key in seen:
            raise BadZip(f"member `{name}` is in it twice")
        seen.add(key)
        total += member.file_size
        if total > MAX_UNZIPPED:
            raise BadZip(f"it unzips to more than Lambda's {MAX_UNZIPPED} bytes")
    return members


def check(zip_path: Path) -> None:
    """Raise :class:`BadZip` unless the zip is safe to extract."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            checked_members(archive)
    except UNREADABLE as error:
        raise BadZip(f"it is not a readable zip ({error})") from None


def extract(zip_path: Path, destination: Path) -> None:
    """Write the members of the zip into the empty folder ``destination``.

    Files are readable by all, executable where the zip says so; raises
    :class:`BadZip` before writing anything when the zip is not safe.
    """
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = checked_members(archive)
            for member in members:
                target = destination / member.filename
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(member))
                executable = (member.external_attr >> 16) & 0o111
                target.chmod(0o755 if executable else 0o644)
    except UNREADABLE as error:
        raise BadZip(f"it is not a readable zip ({error})") from None
