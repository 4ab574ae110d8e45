"""Search index: builds the Pagefind index of a staged site, byte-identical from one build
to the next.

Pagefind writes its filter chunks in the iteration order of a randomly seeded hash map, so
two builds of the same site differ in the filter files, in the metadata file that lists them
and in the entry file that names that metadata, although the index means the same. This module
puts those pieces in a canonical order (sorted by name and value), re-encodes them exactly as
Pagefind does (a ``pagefind_dcd`` signature followed by CBOR, gzip-compressed) and renames them
after a digest of their content, as Pagefind names them. Pure: takes the index files as
{relative path: bytes} and returns the files to write and the paths to remove.
``build_index`` runs Pagefind on a staging folder the pipeline hands it and applies that order
there; it never touches a published site.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys

SIGNATURE = b"pagefind_dcd"


class IndexFormatError(ValueError):
    """The index is not in the format this module understands (a new Pagefind version?)."""


# --- a small CBOR codec: unsigned integers, byte and text strings, arrays and maps ----------

def _decode(data: bytes, i: int):
    head = data[i]
    major, info = head >> 5, head & 31
    i += 1
    if info < 24:
        arg = info
    elif info in (24, 25, 26, 27):
        size = 1 << (info - 24)
        arg = int.from_bytes(data[i:i + size], "big")
        i += size
    else:
        raise IndexFormatError(f"unsupported CBOR item 0x{head:02x}")
    if major == 0:
        return arg, i
    if major == 2:
        return bytes(data[i:i + arg]), i + arg
    if major == 3:
        return data[i:i + arg].decode("utf-8"), i + arg
    if major == 4:
        items = []
        for _ in range(arg):
            item, i = _decode(data, i)
            items.append(item)
        return items, i
    if major == 5:
        pairs = []
        for _ in range(arg):
            key, i = _decode(data, i)
            value, i = _decode(data, i)
            pairs.append((key, value))
        return ("map", pairs), i
    raise IndexFormatError(f"unsupported CBOR major type {major}")


def _head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes([major << 5 | arg])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            return bytes([major << 5 | info]) + arg.to_bytes(size, "big")
    raise IndexFormatError("integer too large")


def _encode(value) -> bytes:
    if isinstance(value, bool) or value is None:
        raise IndexFormatError("unsupported value")
    if isinstance(value, int):
        return _head(0, value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _head(3, len(raw)) + raw
    if isinstance(value, tuple) and value and value[0] == "map":
        return _head(5, len(value[1])) + b"".join(_encode(k) + _encode(v) for k, v in value[1])
    if isinstance(value, list):
        return _head(4, len(value)) + b"".join(_encode(v) for v in value)
    raise IndexFormatError(f"unsupported value {type(value).__name__}")


def read_chunk(data: bytes):
    raw = gzip.decompress(data)
    if not raw.startswith(SIGNATURE):
        raise IndexFormatError("missing pagefind_dcd signature")
    value, end = _decode(raw, len(SIGNATURE))
    if end != len(raw):
        raise IndexFormatError("trailing bytes after the CBOR value")
    return value


def write_chunk(value) -> tuple[bytes, str]:
    """The gzip-compressed chunk (no timestamp, so the bytes depend only on the content) and
    a hex digest of its content."""
    raw = SIGNATURE + _encode(value)
    return gzip.compress(raw, compresslevel=9, mtime=0), hashlib.sha256(raw).hexdigest()


# --- the index -----------------------------------------------------------------------------

def canonicalize(files: dict[str, bytes]) -> tuple[dict[str, bytes], list[str]]:
    """Given pagefind-entry.json, the *.pf_meta files and filter/*.pf_filter files, return
    (files to write, paths to remove) that give the same index in a canonical form."""
    entry = json.loads(files["pagefind-entry.json"])
    write: dict[str, bytes] = {}
    remove: list[str] = []
    for lang, info in sorted(entry["languages"].items()):
        meta_path = f"pagefind.{info['hash']}.pf_meta"
        meta = read_chunk(files[meta_path])
        filters = _find_filter_list(meta)
        renamed = {}
        for pair in filters:
            name, old_hash = pair
            path = f"filter/{old_hash}.pf_filter"
            chunk = read_chunk(files[path])
            if not (isinstance(chunk, list) and len(chunk) == 2 and isinstance(chunk[1], list)):
                raise IndexFormatError(f"unexpected filter chunk {path}")
            chunk[1].sort(key=lambda v: (str(v[0]), json.dumps(v[1:], default=str)))
            data, digest = write_chunk(chunk)
            prefix = old_hash.split("_", 1)[0]
            new_hash = f"{prefix}_{digest[:7]}"
            renamed[old_hash] = new_hash
            remove.append(path)
            write[f"filter/{new_hash}.pf_filter"] = data
            pair[1] = new_hash
        filters.sort(key=lambda p: p[0])
        data, digest = write_chunk(meta)
        new_meta_hash = f"{info['hash'].split('_', 1)[0]}_{digest[:10]}"
        remove.append(meta_path)
        write[f"pagefind.{new_meta_hash}.pf_meta"] = data
        info["hash"] = new_meta_hash
    write["pagefind-entry.json"] = json.dumps(entry, ensure_ascii=False,
                                              separators=(",", ":")).encode("utf-8")
    remove = [p for p in remove if p not in write]
    return write, sorted(set(remove))


def _find_filter_list(meta) -> list:
    """The metadata's list of [filter name, chunk hash] pairs (the only list of 2-item lists
    of strings whose second items look like chunk hashes of filters)."""
    if not isinstance(meta, list):
        raise IndexFormatError("unexpected metadata")
    candidates = [item for item in meta if isinstance(item, list) and item
                  and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                          and isinstance(p[1], str) and "_" in p[1] for p in item)]
    if len(candidates) != 1:
        if not any(isinstance(item, list) and not item for item in meta):
            raise IndexFormatError("no filter list in the metadata")
        return []
    return candidates[0]


def build_index(staging: str, subdir: str) -> str | None:
    """Build the Pagefind search index into ``staging/subdir``; a message if that failed.

    Runs the Pagefind binary that the ``pagefind[bin]`` package ships, with the staging folder
    as working directory so that no configuration file from elsewhere can change the index."""
    cmd = [sys.executable, "-m", "pagefind", "--site", ".", "--output-subdir", subdir,
           "--silent"]
    try:
        proc = subprocess.run(cmd, cwd=staging, capture_output=True, text=True, timeout=600,
                              env=dict(os.environ, NO_COLOR="1"))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the search index could not be built: {exc}"
    if proc.returncode != 0 or not os.path.isfile(os.path.join(staging, subdir,
                                                               "pagefind.js")):
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        return ("the search index could not be built (Pagefind: "
                f"{detail[-1] if detail else f'exit code {proc.returncode}'}); "
                "nothing was written")
    return canonicalize_folder(os.path.join(staging, subdir))


def canonicalize_folder(folder: str) -> str | None:
    """Pagefind orders its filter chunks randomly; put them in a canonical order so that two
    builds of the same content stay byte-identical."""
    names = ["pagefind-entry.json"] + [n for n in os.listdir(folder) if n.endswith(".pf_meta")]
    filter_dir = os.path.join(folder, "filter")
    if os.path.isdir(filter_dir):
        names += [f"filter/{n}" for n in os.listdir(filter_dir)]
    files = {}
    for name in names:
        with open(os.path.join(folder, name), "rb") as f:
            files[name] = f.read()
    try:
        write, remove = canonicalize(files)
    except (IndexFormatError, KeyError, ValueError, OSError) as exc:
        return f"the search index is not in the expected format ({exc}); nothing was written"
    for name in remove:
        os.remove(os.path.join(folder, name))
    for name, data in write.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    return None
