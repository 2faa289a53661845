#!/usr/bin/env python3
"""Makes a log-centric project with N added handlers, quickly, exactly as
`lambda-scaffold new-project my-service --layout log-centric --no-input` followed by
N calls of `lambda-scaffold add-handler` would leave it.

Handler i (1-based) is the producer `event_<i:05>` when i is odd, the consumer
`sink_<i:05>` when i is even, added in that order; every fourth one (i divisible by 4)
is a consumer with `--event sqs`, so a quarter of the manifest's entries carry an
`event = "sqs"` key (issue 12). The project therefore has N + 2 handlers: the two
examples of new-project (log_event, log_sink) and the N added ones.

How: the real binary makes the base project and, in scratch copies of it, one seed
handler of each variant (`qqseedp`, `qqseedc`, `qqseedq` for the sqs consumer). Each
seed's files, their modes, the `[[handlers]]` entry that add-handler appended to
lambdas.toml and its marked part of template.yaml (appended at the end of the file,
where `Resources`, the last section, ends) become templates: the seed name (and its
UpperCamelCase form, as heck's to_upper_camel_case gives it) is replaced by the new
name, and the hash in the part's begin marker is computed again as src/stack.rs does
(the first 16 hex digits of the sha256 of the block without markers, common
indentation and trailing blanks). Files a seed writes outside the handler's folders
(the sqs sample event, the new project.sha256 that records it) are written once, by
the first handler of that variant. The handler's record file,
`.lambda-scaffold/generated/KIND/NAME.sha256`, is not templated but rewritten: one
`HEX  PATH` line (sha256sum format) per generated file of the handler, sorted by path,
under the `# lambda-scaffold VERSION` line of the seed's record,
with the sha256 of the new file's bytes; the model is checked against the seed's own
record, byte for byte. Folders add-handler creates outside the handler's folders
(e.g. `.lambda-scaffold/generated/KIND` when missing) are made once, with the seed's mode.

Usage:
  make_project.py --bin BIN --n N --out DIR [--reuse]   # DIR/my-service
  make_project.py --bin BIN --verify [--n 4]            # byte-for-byte against real add-handler
  make_project.py --bin BIN --verify-step --n 1000      # N, then one real add-handler, == N + 1
With --reuse, DIR is kept when its stamp matches this binary's seed output and N.
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

PROJECT = "my-service"
# variant (kind, --event or None) -> seed name
SEEDS = {("producers", None): "qqseedp", ("consumers", None): "qqseedc",
         ("consumers", "sqs"): "qqseedq"}
TEMPLATE = "template.yaml"
MARKER = "# lambda-scaffold:"
HASH_DIGITS = 16


def camel(name):
    """heck's to_upper_camel_case for snake_case names of lowercase letters and digits."""
    return "".join(w[:1].upper() + w[1:].lower() for w in name.split("_") if w)


def handler(i):
    """(kind, event or None, name) of the i-th added handler."""
    if i % 2:
        return "producers", None, f"event_{i:05}"
    return "consumers", ("sqs" if i % 4 == 0 else None), f"sink_{i:05}"


def add_args(kind, event, name):
    return ["add-handler", kind, name] + (["--event", event] if event else [])


def with_parts(base, at, parts):
    """The base template with `parts` (one block each), in order, at offset `at` of
    `base` (its end: `Resources` is the last section)."""
    return "".join([base[:at], *parts, base[at:]])


def normalized(block):
    """A block's lines without common indentation and trailing blanks (src/stack.rs)."""
    lines = block.splitlines()
    indent = min((len(l) - len(l.lstrip(" ")) for l in lines if l.strip()), default=0)
    return "".join(l[indent:].rstrip() + "\n" for l in lines)


def part_blocks(text, handler_string):
    """[(start, end)] of the marked blocks of a handler in a template, markers included."""
    begin = f"  {MARKER} begin {handler_string} (sha256 "
    end = f"  {MARKER} end {handler_string}\n"
    out, at = [], 0
    while (start := text.find(begin, at)) >= 0:
        stop = text.index(end, start) + len(end)
        out.append((start, stop))
        at = stop
    return out


def run(args, cwd):
    subprocess.run(args, cwd=cwd, check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL)


def new_project(binary, where):
    os.makedirs(where, exist_ok=True)
    run([binary, "new-project", PROJECT, "--layout", "log-centric", "--no-input"], where)
    return os.path.join(where, PROJECT)


def tree(root):
    """{relative path: (mode, bytes or None for a folder)} of every file and folder."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            p = os.path.join(dirpath, d)
            out[os.path.relpath(p, root)] = (os.lstat(p).st_mode, None)
        for f in filenames:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = (os.lstat(p).st_mode, fh.read())
    return out


class Seed:
    """What add-handler writes for one kind, as templates over the handler's name."""

    def __init__(self, binary, base, scratch, variant):
        kind, event = variant
        seed = SEEDS[variant]
        proj = os.path.join(scratch, seed, PROJECT)
        os.makedirs(os.path.dirname(proj))
        shutil.copytree(base, proj, symlinks=True)
        before = tree(proj)
        run([binary] + add_args(kind, event, seed), proj)
        after = tree(proj)
        old_toml = before["lambdas.toml"][1].decode()
        new_toml = after["lambdas.toml"][1].decode()
        if not new_toml.startswith(old_toml):
            sys.exit("make_project.py: add-handler did not append to lambdas.toml; "
                     "the generator's model of it is out of date")
        self.entry = new_toml[len(old_toml):]
        if "sha256" in self.entry or "files." in self.entry:
            sys.exit("make_project.py: add-handler's lambdas.toml entry carries file hashes; "
                     "the generator's model of it is out of date")
        self.kind, self.seed, self.seed_class = kind, seed, camel(seed)
        self.parts(before[TEMPLATE][1].decode(), after[TEMPLATE][1].decode())
        changed = sorted(p for p in after
                         if p not in ("lambdas.toml", TEMPLATE) and after[p] != before.get(p))
        rec = self.record_path(seed)
        if rec not in changed or after[rec][1] is None:
            sys.exit(f"make_project.py: add-handler {kind} wrote no record file {rec}")
        changed.remove(rec)
        self.record_mode = after[rec][0]
        # the version line(s) of the record: the tool version that wrote it
        self.record_head = "".join(
            line for line in after[rec][1].decode().splitlines(keepends=True) if line.startswith("#"))
        # what it writes outside the handler's folders: new folders, shared files (the
        # sample event of its source, project.sha256), written once by the first handler
        self.shared = [(p, after[p][0], after[p][1]) for p in changed if seed not in p]
        named = [p for p, _, data in self.shared if data is not None and seed.encode() in data]
        if named:
            sys.exit(f"make_project.py: add-handler {kind} wrote its name outside its folders: {named}")
        self.items = [(p, after[p][0], after[p][1]) for p in changed if seed in p]  # folders sort first
        _items, record = self.render(seed)
        if record[2] != after[rec][1]:
            sys.exit(f"make_project.py: the record file {rec} that add-handler wrote is not "
                     "what the generator's model gives; the model is out of date")

    def parts(self, before, after):
        """The seed's block of template.yaml and where it went into the base's."""
        blocks = part_blocks(after, f"{self.kind}.{self.seed}")
        if len(blocks) != 1 or blocks[0][1] != len(after):
            sys.exit(f"make_project.py: add-handler wrote {len(blocks)} marked blocks into "
                     f"{TEMPLATE}, not 1 at its end; the model is out of date")
        (r0, r1), = blocks
        self.block = after[r0:r1]
        # the insertion offset in the base template
        self.at = r0
        if self.render_part(self.seed) != self.block or \
                with_parts(before, self.at, [self.block]) != after:
            sys.exit(f"make_project.py: the parts of {TEMPLATE} that add-handler wrote are not "
                     "what the generator's model gives; the model is out of date")

    def render_part(self, name):
        """The block of handler `name`, its hash computed again."""
        hash_re = re.compile(r"\(sha256 [0-9a-f]+\)")
        piece = self.sub(self.block, name)
        digest = hashlib.sha256(
            normalized("".join(piece.splitlines(keepends=True)[1:-1])).encode()
        ).hexdigest()[:HASH_DIGITS]
        return hash_re.sub(f"(sha256 {digest})", piece, count=1)

    def record_path(self, name):
        return f".lambda-scaffold/generated/{self.kind}/{name}.sha256"

    def sub(self, text, name):
        return text.replace(self.seed, name).replace(self.seed_class, camel(name))

    def render(self, name):
        """[(path, mode, bytes or None)], (record path, mode, bytes)."""
        items, hashes = [], {}
        for path, mode, data in self.items:
            path = path.replace(self.seed, name)
            if data is not None:
                data = self.sub(data.decode(), name).encode()
                hashes[path] = hashlib.sha256(data).hexdigest()
            items.append((path, mode, data))
        record = (self.record_head + "".join(f"{hashes[p]}  {p}\n" for p in sorted(hashes))).encode()
        return items, (self.record_path(name), self.record_mode, record)

    def entry_for(self, name):
        return self.sub(self.entry, name)


def seeds(binary, scratch):
    base = new_project(binary, os.path.join(scratch, "base"))
    seed_map = {seed: Seed(binary, base, scratch, variant) for variant, seed in SEEDS.items()}
    if len({s.at for s in seed_map.values()}) != 1:
        sys.exit(f"make_project.py: the seeds' parts went to different places of {TEMPLATE}")
    return base, seed_map


def stamp_of(base, seed_map, n):
    h = hashlib.sha256(b"make_project v4 (one template part, at the end) n=%d\n" % n)
    for rel, (mode, data) in sorted(tree(base).items()):
        h.update(b"%s %o %s\n" % (rel.encode(), mode, b"-" if data is None else hashlib.sha256(data).hexdigest().encode()))
    for seed in sorted(SEEDS.values()):
        s = seed_map[seed]
        h.update(s.entry.encode())
        h.update(b"record %o\n" % s.record_mode)
        h.update(s.block.encode())
        for path, mode, data in s.shared:
            h.update(b"shared %s %o %s\n" % (path.encode(), mode, data or b"-"))
        for path, mode, data in s.items:
            h.update(b"%s %o %s\n" % (path.encode(), mode, data or b"-"))
    return h.hexdigest()


def build(binary, n, out, reuse):
    """Makes OUT/my-service; returns 'reused' or 'built'."""
    with tempfile.TemporaryDirectory(prefix="mkproj.") as scratch:
        base, seed_map = seeds(binary, scratch)
        stamp = stamp_of(base, seed_map, n)
        stamp_file = os.path.join(out, ".stamp")
        if reuse and os.path.exists(stamp_file):
            with open(stamp_file) as fh:
                if fh.read() == stamp:
                    return "reused"
        if os.path.exists(out):
            shutil.rmtree(out)
        os.makedirs(out)
        proj = os.path.join(out, PROJECT)
        shutil.copytree(base, proj, symlinks=True)
        with open(os.path.join(proj, "lambdas.toml")) as fh:
            toml = [fh.read()]
        with open(os.path.join(proj, TEMPLATE), newline="") as fh:
            base_template = fh.read()
        parts, used = [], set()
        for i in range(1, n + 1):
            kind, event, name = handler(i)
            seed = seed_map[SEEDS[(kind, event)]]
            if seed.seed not in used:
                used.add(seed.seed)
                for path, mode, data in seed.shared:
                    p = os.path.join(proj, path)
                    if data is not None:
                        with open(p, "wb") as fh:
                            fh.write(data)
                    elif not os.path.isdir(p):
                        os.mkdir(p)
                    os.chmod(p, mode & 0o7777)
            parts.append(seed.render_part(name))
            items, record = seed.render(name)
            for path, mode, data in items + [record]:
                p = os.path.join(proj, path)
                if data is None:
                    os.mkdir(p)
                else:
                    with open(p, "wb") as fh:
                        fh.write(data)
                os.chmod(p, mode & 0o7777)
            toml.append(seed.entry_for(name))
        with open(os.path.join(proj, "lambdas.toml"), "w") as fh:
            fh.write("".join(toml))
        at = next(iter(seed_map.values())).at
        with open(os.path.join(proj, TEMPLATE), "w", newline="") as fh:
            fh.write(with_parts(base_template, at, parts))
        with open(stamp_file, "w") as fh:
            fh.write(stamp)
        return "built"


# Each new project's owner token is random: two projects never share it.
PER_PROJECT = {".lambda-scaffold-owner"}


def diff_trees(a, b):
    ta, tb = tree(a), tree(b)
    bad = sorted(p for p in set(ta) | set(tb) if ta.get(p) != tb.get(p) and p not in PER_PROJECT)
    return bad


def verify(binary, n):
    """Generator output for N against base + N real add-handler calls."""
    with tempfile.TemporaryDirectory(prefix="mkproj-verify.") as tmp:
        gen = os.path.join(tmp, "gen")
        build(binary, n, gen, False)
        os.remove(os.path.join(gen, ".stamp"))
        real = new_project(binary, os.path.join(tmp, "real"))
        for i in range(1, n + 1):
            run([binary] + add_args(*handler(i)), real)
        bad = diff_trees(os.path.join(gen, PROJECT), real)
        if bad:
            print(f"make_project.py: N={n} differs from {n} real add-handler calls: {bad[:10]}",
                  file=sys.stderr)
            return 1
        files = sum(1 for _, (_, d) in tree(real).items() if d is not None)
        print(f"make_project.py: N={n} identical to {n} real add-handler calls "
              f"({files} files, contents and modes)")
        return 0


def verify_step(binary, n):
    """Generator output for N, plus one real add-handler call, against the generator's N + 1."""
    with tempfile.TemporaryDirectory(prefix="mkproj-step.") as tmp:
        a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
        build(binary, n, a, False)
        build(binary, n + 1, b, False)
        kind, event, name = handler(n + 1)
        run([binary] + add_args(kind, event, name), os.path.join(a, PROJECT))
        bad = diff_trees(os.path.join(a, PROJECT), os.path.join(b, PROJECT))
        if bad:
            print(f"make_project.py: N={n} plus a real `{' '.join(add_args(kind, event, name))}` differs "
                  f"from N={n + 1}: {bad[:10]}", file=sys.stderr)
            return 1
        print(f"make_project.py: N={n} plus a real `{' '.join(add_args(kind, event, name))}` "
              f"is identical to N={n + 1}")
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--out")
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--verify-step", action="store_true")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    if a.verify:
        return verify(binary, a.n)
    if a.verify_step:
        return verify_step(binary, a.n)
    if not a.out:
        ap.error("--out is required unless --verify")
    print(build(binary, a.n, os.path.abspath(a.out), a.reuse))
    return 0


if __name__ == "__main__":
    sys.exit(main())
