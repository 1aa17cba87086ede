"""A task that runs while a block runs: the shape of every worker the service keeps.

Each long-lived loop (the feed cache's warm worker, the change channel's delivery and
catch-up, a lease's renewal, the topics watcher, the LISTEN session, the polling child's
supervisor and its metrics) lives exactly as long as a context: started on entry,
cancelled on exit and awaited, so nothing outlives what it works for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any


@contextlib.asynccontextmanager
async def background(work: Coroutine[Any, Any, None], name: str) -> AsyncIterator[None]:
    """Run ``work`` as a task named ``name`` while the block runs; then cancel it and
    wait for it to end."""
    task = asyncio.create_task(work, name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
