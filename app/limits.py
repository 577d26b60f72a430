"""Bounded reading of the files users hand us: suites, flow exports, Lex exports (JSON, zip or
folder) and `--lambda-responses`.

A file from elsewhere can be hostile or broken: a FIFO named `x.json` blocks a read forever, a
JSON nested thousands deep or an integer of 5,000 digits raises deep inside the parser, a 3 MB
zip can expand to 3 GB. Every reader here refuses such input first, with the error class the
caller already handles (SuiteError, FlowError, LexError, ...) and a message naming the file and
the limit, so that file fails alone and the other suites still run.

Limits (generous for real exports: the sample flow nests 9 deep, a large Lex V2 export is a few
MB and a few hundred files):
"""
import json
import os
import stat
import zipfile

MAX_FILE_BYTES = 50 * 1024 * 1024       # one JSON file (or one entry of a zip)
MAX_DEPTH = 128                         # nesting of arrays and objects
MAX_INT_DIGITS = 64                     # digits of one integer literal
MAX_DOCUMENTS = 10_000                  # files in one zip
MAX_ZIP_BYTES = 200 * 1024 * 1024       # everything a zip expands to
MAX_ZIP_RATIO = 200                     # expanded / compressed, for entries past RATIO_FROM_BYTES
RATIO_FROM_BYTES = 1024 * 1024
CHUNK = 1 << 16


class _TooManyDigits(Exception):
    pass


def check_file(path, error, max_bytes=None):
    """Refuse what is not a regular file (a FIFO would block, a device never end), or is too big."""
    max_bytes = max_bytes or MAX_FILE_BYTES
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"{path}: cannot read file: no such file or folder") from None
    except OSError as exc:
        raise error(f"{path}: cannot read file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(
            info.st_mode) else "a device or socket"
        raise error(f"{path}: is {kind}, not a file")
    if info.st_size > max_bytes:
        raise error(f"{path}: {info.st_size:,} bytes is past the limit of {max_bytes:,} bytes")


def read_bytes(path, error):
    """The file's bytes, after check_file; reads at most the limit even if the file grows."""
    check_file(path, error)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)      # a FIFO swapped in meanwhile: no block
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise error(f"{path}: is not a regular file")
        return _read_capped(lambda: os.read(fd, CHUNK), MAX_FILE_BYTES,
                            lambda: error(f"{path}: past the limit of {MAX_FILE_BYTES:,} bytes"))
    finally:
        os.close(fd)


def read_text(path, error, encoding="utf-8"):
    """read_bytes decoded (a UnicodeDecodeError is left to the caller, as Path.read_text's)."""
    return read_bytes(path, error).decode(encoding)


def loads(text, source, error):
    """json.loads within the limits on nesting and integer size; a JSONDecodeError is left to
    the caller (its messages already say line and column)."""
    try:
        data = json.loads(text, parse_int=_bounded_int)
    except _TooManyDigits as exc:
        raise error(f"{source}: an integer of {exc} digits is past the limit of "
                    f"{MAX_INT_DIGITS} digits") from None
    except RecursionError:
        raise error(f"{source}: nested deeper than the limit of {MAX_DEPTH} levels") from None
    if _depth_over(data, MAX_DEPTH):
        raise error(f"{source}: nested deeper than the limit of {MAX_DEPTH} levels")
    return data


def read_json(path, error, encoding="utf-8"):
    return loads(read_text(path, error, encoding), path, error)


def _bounded_int(literal):
    digits = len(literal.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _TooManyDigits(digits)
    return int(literal)


def _depth_over(data, limit):
    """Whether arrays/objects nest deeper than `limit` (iterative: no recursion of our own)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def read_zip(path, error, wanted=lambda name: True):
    """{name: bytes} of the entries `wanted(name)` picks, within the limits on entry count,
    expanded size (each and in total) and compression ratio. Sizes are checked against what is
    actually read, not only against the headers (which a crafted zip can fake)."""
    check_file(path, error, MAX_ZIP_BYTES)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_DOCUMENTS:
                raise error(f"{path}: {len(infos):,} entries is past the limit of {MAX_DOCUMENTS:,}")
            chosen = sorted((info for info in infos if not info.is_dir() and wanted(info.filename)),
                            key=lambda info: info.filename)
            declared = sum(info.file_size for info in chosen)
            if declared > MAX_ZIP_BYTES:
                raise error(f"{path}: expands to {declared:,} bytes, past the limit of "
                            f"{MAX_ZIP_BYTES:,} bytes")
            files, budget = {}, MAX_ZIP_BYTES
            for info in chosen:
                _check_ratio(path, info, error)
                files[info.filename] = _read_entry(archive, info, min(budget, MAX_FILE_BYTES),
                                                   path, error)
                budget -= len(files[info.filename])
            return files
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise error(f"{path}: not a readable zip: {exc}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from None


def _check_ratio(path, info, error):
    if info.file_size > RATIO_FROM_BYTES and info.file_size > MAX_ZIP_RATIO * max(1, info.compress_size):
        raise error(f"{path}: {info.filename} expands {info.file_size // max(1, info.compress_size):,} "
                    f"times, past the limit of {MAX_ZIP_RATIO} (a zip bomb?)")


def _read_entry(archive, info, limit, path, error):
    with archive.open(info) as entry:
        return _read_capped(lambda: entry.read(CHUNK), limit, lambda: error(
            f"{path}: {info.filename} expands past the limit of {limit:,} bytes"))


def _read_capped(read, limit, too_big):
    """Everything `read()` gives until it gives b"", raising `too_big()` as soon as more than
    `limit` bytes came: a file that grows or a zip entry that lies about its size never holds
    more than the limit in memory."""
    chunks, total = [], 0
    while True:
        chunk = read()
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise too_big()
        chunks.append(chunk)
