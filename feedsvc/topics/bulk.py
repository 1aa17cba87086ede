"""Build thousands of small objects at once without the cyclic collector walking them.

Reading and compiling a topics file (or loading its snapshot) creates some hundreds of
thousands of tuples, lists, dicts and dataclasses in a second. Each few hundred new
objects the collector runs, and every tenth run walks all the objects built so far:
at 10,000 topics that is over a third of the compile time, spent finding no garbage
(these structures hold no cycles to free). ``collector_paused`` keeps the collector
off for the length of such a build; reference counting frees memory as usual, and any
cycle left behind is found at the first collection after.

The pause is counted, so builds in several threads at once (a reload while another
reload reads the file) end it only when the last one finishes, and a collector that
was off before stays off.

After the pause the collector still walks each new object a few times as it ages,
and every full collection walks them all again: at 10,000 topics, a second of a
first poll. So a command freezes the heap once at start-up, right after the topics
are compiled (``freeze_start_up``): what exists then (modules, settings, the store's
connection, the compiled topics) lives as long as the process or is freed by
reference counting, which freezing does not stop. Only a cycle among those objects
would never be freed; the compiled index holds none (a test checks it), and it is
the one that is ever replaced. Reloads do not freeze: requests in flight then are
left to the collector.

Ending a pause is not free either: the first allocation after it starts a collection
of everything built during it (the youngest generation's count is then in the
hundreds of thousands). So the start-up keeps one pause around the whole build and
freezes inside it, which also resets that count (``LiveTopics.load``).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

__all__ = ["collector_paused", "freeze_start_up"]

_lock = threading.Lock()
_holders = 0
_was_enabled = True


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()


def freeze_start_up() -> None:
    """Leave every object alive now out of the collector's walks, for good."""
    gc.freeze()
