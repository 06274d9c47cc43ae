"""The docs assets (GraphiQL, Swagger UI) in gzip and br, compressed once (ADR 0020).

`gateway compress-assets` (run by `make install` after `npm ci`) writes `<file>.br` and
`<file>.gz` next to each allow-listed file, at the best (slowest) settings: 3.5 MB of
`graphiql.min.js` goes out as 0.57 MB of br. A process that finds no fresh sibling (say, after a
bare `npm ci`) compresses the file itself on first request, once, and keeps it in memory.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from gateway.http.middleware.codings import PREFERENCE, SUFFIX, Coding, compress

# Text compresses; PNGs are compressed already.
COMPRESSIBLE_TYPES: Final = ("text/javascript", "text/css")

_lock = threading.Lock()
_memory: dict[tuple[Path, Coding, float], bytes] = {}


def sibling(path: Path, coding: Coding) -> Path:
    return path.with_name(path.name + SUFFIX[coding])


def _fresh(path: Path, coding: Coding) -> Path | None:
    variant = sibling(path, coding)
    try:
        if variant.stat().st_mtime >= path.stat().st_mtime:
            return variant
    except OSError:
        pass
    return None


def encoded(path: Path, coding: Coding) -> Path | bytes:
    """`path` in `coding`: the file written at install when fresh, else bytes made once."""
    variant = _fresh(path, coding)
    if variant is not None:
        return variant
    key = (path, coding, path.stat().st_mtime)
    with _lock:  # one thread compresses; the others wait for its result
        data = _memory.get(key)
        if data is None:
            data = _memory[key] = compress(path.read_bytes(), coding)
    return data


def write_all(paths: Iterable[Path]) -> list[Path]:
    """Write every missing or stale variant of `paths` (atomically); returns those written."""
    written: list[Path] = []
    for path in paths:
        if not path.is_file():
            continue
        data: bytes | None = None
        for coding in PREFERENCE:
            if _fresh(path, coding) is not None:
                continue
            data = path.read_bytes() if data is None else data
            variant = sibling(path, coding)
            temporary = variant.with_name(f".{variant.name}.{os.getpid()}")
            temporary.write_bytes(compress(data, coding, best=True))
            os.replace(temporary, variant)
            written.append(variant)
    return written
