"""Write a dependency cache whose one member lies about its size, for the
build tests: a zip in the build's own format (written by the project's
tools/deterministic_zip.py), holding ``lsdemo_dep/padding.bin``, which says
it unzips to DECLARED bytes (with the CRC of that many zero bytes) while its
deflated data inflates to INFLATED zero bytes.

usage: python3 crafted_cache.py PROJECT OUT DECLARED INFLATED

The data is a deflate bomb made without ever holding what it inflates to: one
MiB of zeros deflated once, ended by a full flush (so it refers to nothing
before it), repeated, then the rest as a stream of its own that ends the data.
"""

import sys
import zlib
from pathlib import Path

MIB = 1024 * 1024


def deflated_zeros(size: int) -> bytes:
    """Raw deflate data that inflates to ``size`` zero bytes."""
    block = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    mib = block.compress(bytes(MIB)) + block.flush(zlib.Z_FULL_FLUSH)
    last = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    rest = last.compress(bytes(size % MIB)) + last.flush()
    return mib * (size // MIB) + rest


def crc_of_zeros(size: int) -> int:
    crc = 0
    for start in range(0, size, MIB):
        crc = zlib.crc32(bytes(min(MIB, size - start)), crc)
    return crc


def main() -> None:
    project, out, declared, inflated = sys.argv[1:]
    sys.path.insert(0, str(Path(project) / "tools"))
    import deterministic_zip

    member = deterministic_zip.Member(
        "lsdemo_dep/padding.bin",
        deterministic_zip.FILE_MODE,
        crc_of_zeros(int(declared)),
        int(declared),
        zlib.DEFLATED,
        deflated_zeros(int(inflated)),
    )
    Path(out).write_bytes(deterministic_zip.zip_bytes([member]))


if __name__ == "__main__":
    main()
