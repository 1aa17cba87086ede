"""A compiled topics file, as bytes: what a restart of the same file loads instead of
parsing and compiling every query again.

Reading and compiling 10,000 topics takes seconds; loading their snapshot, a tenth
of that. A snapshot is named by the digest of what it was made from (the file's
bytes, the limits it was checked against, feedsvc's version and the matcher's), so
any change to any of them misses it and the file is read as usual.

The bytes are a pickle of plain values only (tuples, lists, dicts, sets, strings,
numbers): the reader refuses every class and function, so a snapshot can hold
nothing but data, whoever wrote the row it came from.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from typing import Any, cast

from feedsvc import __version__
from feedsvc.topics.bulk import collector_paused
from feedsvc.topics.index import IndexState, TopicIndex
from feedsvc.topics.model import MATCHER_VERSION, Topic, TopicLimits

FORMAT = b"feedsvc-topics-1\n"


class SnapshotError(ValueError):
    """The bytes are not a snapshot this version of feedsvc can read."""


def digest(file_bytes: bytes, limits: TopicLimits) -> str:
    """The name of the snapshot of a topics file read under ``limits``."""
    made_from = hashlib.blake2b(digest_size=20)
    for part in (FORMAT, __version__.encode(), MATCHER_VERSION.encode(),
                 repr((limits.max_file_bytes, limits.max_topics)).encode(), file_bytes):
        made_from.update(len(part).to_bytes(8, "big"))
        made_from.update(part)
    return made_from.hexdigest()


def dumps(index: TopicIndex) -> bytes:
    return FORMAT + pickle.dumps(index.state(), protocol=5)


def loads(blob: bytes) -> tuple[tuple[Topic, ...], TopicIndex]:
    """The topics and their index; ``SnapshotError`` for anything else."""
    if not blob.startswith(FORMAT):
        raise SnapshotError("not a topics snapshot of this format")
    try:
        with collector_paused():
            state = _PlainUnpickler(io.BytesIO(blob[len(FORMAT):])).load()
            index = TopicIndex.from_state(cast(IndexState, state))
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError,
            IndexError, AttributeError) as exc:
        raise SnapshotError(f"unreadable topics snapshot: {exc!r}") from exc
    return tuple(index.topic(slug) for slug in index.slugs), index


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"a snapshot holds plain values only, not {module}.{name}")
