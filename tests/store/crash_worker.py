"""Run as a process: fold copy N into survivor N for every pair, as fast as it can.

The test kills this process with SIGKILL at an arbitrary moment and then checks that
every pair is wholly merged or wholly not.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from feedsvc.store import SQLiteStore

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


async def main(path: Path, pairs: int) -> None:
    store = SQLiteStore(path)
    await store.open()
    print("ready", flush=True)
    for n in range(pairs):
        await store.absorb(f"rt-arabic:{2_000_000 + n}", f"rt-arabic:{1_000_000 + n}", now=NOW)
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
