"""A cache bounded by bytes, not entries: the least recently used entries go first.

Entries differ in size by orders of magnitude (a 304 page of five items, a 200-item
feed in three encodings), so a bound on their number bounds nothing. Each entry
carries its size; ``resize`` accounts for an encoding added later. ``on_evict``
hears of every entry that leaves, whatever the reason, so indexes over the cache
stay in step with it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ByteLRU(Generic[K, V]):
    def __init__(self, max_bytes: int, on_evict: Callable[[K], None] | None = None) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._on_evict = on_evict

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: K) -> V | None:
        """The value, now the most recently used; None when absent."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def touch(self, key: K) -> None:
        """Mark the entry used now, if it is here."""
        if key in self._entries:
            self._entries.move_to_end(key)

    def put(self, key: K, value: V, size: int) -> None:
        """Keep ``value``; older entries leave until the total fits. A value larger than
        the whole bound is not kept at all (it would only push everything else out)."""
        self.discard(key)
        if size > self.max_bytes:
            return
        self._entries[key] = (value, size)
        self.bytes += size
        self._shrink()

    def resize(self, key: K, size: int) -> None:
        """The entry grew (an encoding was added): account for it, then fit."""
        entry = self._entries.get(key)
        if entry is not None:
            self.bytes += size - entry[1]
            self._entries[key] = (entry[0], size)
            self._shrink()

    def discard(self, key: K) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.bytes -= entry[1]
            if self._on_evict is not None:
                self._on_evict(key)

    def keys(self) -> list[K]:
        return list(self._entries)

    def _shrink(self) -> None:
        while self.bytes > self.max_bytes and self._entries:
            oldest = next(iter(self._entries))
            self.discard(oldest)
