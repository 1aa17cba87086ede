"""The process around a command: signals, and a failed start in one line.

A command that cannot start exits at once with status 1 and one line on stderr
naming the cause (``file:line: reason`` for a bad file), never a traceback:
invalid settings or topics, a port in use, a store that cannot be opened or
written. SIGTERM or SIGINT at any moment, start-up included, cancels the command:
its contexts close in reverse (polls in flight get their grace, the store closes)
and the process exits with status 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable

from feedsvc.errors import ConfigError, FeedsvcError

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def run_until_signalled(command: Callable[[], Awaitable[int]],
                        signals: tuple[signal.Signals, ...] = STOP_SIGNALS) -> int:
    """Run ``command`` on a new event loop until it returns or one of ``signals`` cancels it."""
    try:
        return asyncio.run(_cancel_on_signal(command, signals))
    except asyncio.CancelledError:
        return 0
    except ConfigError as exc:
        more = len(exc.problems) - 1
        hint = f" (and {more} more: feedsvc check-config lists them)" if more else ""
        print(f"feedsvc: cannot start: {exc.problems[0]}{hint}", file=sys.stderr)
    except (FeedsvcError, OSError) as exc:
        print(f"feedsvc: cannot start: {_one_line(exc)}", file=sys.stderr)
    return 1


async def _cancel_on_signal(command: Callable[[], Awaitable[int]],
                            signals: tuple[signal.Signals, ...]) -> int:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signum in signals:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, task.cancel)
    return await command()


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror and exc.filename is None:
        text = exc.strerror
    return " ".join(text.split())
