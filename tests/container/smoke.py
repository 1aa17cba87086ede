#!/usr/bin/env python3
"""Smoke test of the container image, run by .ci/run after `make test` (or `make smoke`).

Builds the image with `make image`, then checks, against the real image under podman:

1. the image's config: user 10001, stop signal SIGTERM, a health check;
2. `check-config` accepts the configuration and topics baked into the image;
3. `feedsvc demo` (the offline replica and feedsvc in one process, host network, loopback
   ports chosen free) fills the topic feeds: /api/topics shows articles before a deadline;
4. the process runs as uid 10001 (its /proc status on the host, and `id -u` inside);
5. SIGTERM makes it exit with status 0 within 10 s (what `podman stop` waits before SIGKILL).

Standard library only. Every step has a timeout; the container is removed whatever
happens; a failure ends with one line naming what failed. Exit status 0 or 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[2]
# runc with cgroupfs: hosts whose cgroup layout rejects the default runtime run it this way.
DEFAULT_PODMAN = "podman --runtime runc --cgroup-manager cgroupfs"
UID = "10001"
BUILD_TIMEOUT = 45 * 60  # a cold build (base image from Debian packages) takes a few minutes
FEEDS_TIMEOUT = 120.0    # the first poll stores articles within seconds
STOP_TIMEOUT = 10.0
T = TypeVar("T")


# What is checked, for the closing count; the docstring says what each one means.
CHECKS = ("image config", "check-config", "feeds fill", "uid", "SIGTERM")


class SmokeFailure(Exception):
    """One check failed; the message is the line printed."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="feedsvc:latest", help="tag `make image` builds")
    parser.add_argument("--podman", default=os.environ.get("PODMAN_RUN", DEFAULT_PODMAN),
                        help="podman command and global flags for running containers")
    parser.add_argument("--no-build", action="store_true", help="use the image as it is")
    args = parser.parse_args(argv)
    podman = shlex.split(args.podman)
    name = f"feedsvc-smoke-{os.getpid()}"
    started = time.monotonic()
    try:
        if not args.no_build:
            step("make image", lambda: run(["make", "image", f"IMAGE={args.image}"],
                                           timeout=BUILD_TIMEOUT, quiet=False))
        step("image config", lambda: check_image_config(podman, args.image))
        step("check-config", lambda: run([*podman, "run", "--rm", "--network", "host",
                                          "--no-healthcheck", args.image, "check-config"]))
        port, replica_port = free_ports(2)
        step("start demo", lambda: start_demo(podman, args.image, name, port, replica_port))
        counts = step("feeds fill", lambda: wait_for_articles(podman, name, port))
        step("uid", lambda: check_uid(podman, name))
        seconds = step("SIGTERM", lambda: stop_with_sigterm(podman, name))
    except (SmokeFailure, OSError, ValueError, KeyError) as failure:
        print_logs(podman, name)
        print(f"container smoke test FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        quietly([*podman, "rm", "--force", "--volumes", name])
    filled = ", ".join(f"{slug}={n}" for slug, n in counts.items() if n)
    print(f"container smoke test passed in {time.monotonic() - started:.0f} s: feeds filled "
          f"({filled}), uid {UID}, SIGTERM -> exit 0 in {seconds:.1f} s")
    print(f"smoke: {len(CHECKS)} passed, 0 failed")
    return 0


def step(title: str, action: Callable[[], T]) -> T:
    print(f"smoke: {title}", flush=True)
    return action()


def run(command: list[str], *, timeout: float = 120, quiet: bool = True) -> str:
    """Run a command; its failure or timeout is a SmokeFailure naming it."""
    try:
        done = subprocess.run(command, cwd=ROOT, timeout=timeout, text=True,
                              stdout=subprocess.PIPE if quiet else None,
                              stderr=subprocess.STDOUT if quiet else None)
    except FileNotFoundError as exc:
        raise SmokeFailure(f"{command[0]}: not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise SmokeFailure(f"`{shlex.join(command)}` took more than {timeout:.0f} s") from exc
    if done.returncode != 0:
        last = (done.stdout or "").strip().splitlines()[-1:] or [""]
        raise SmokeFailure(f"`{shlex.join(command)}` exited {done.returncode} {last[0]}".rstrip())
    return done.stdout or ""


def check_image_config(podman: list[str], image: str) -> None:
    (info,) = json.loads(run([*podman, "image", "inspect", image]))
    config = info.get("Config") or {}
    if config.get("User") != f"{UID}:{UID}":
        raise SmokeFailure(f"image user is {config.get('User')!r}, not {UID}:{UID}")
    if config.get("StopSignal") != "SIGTERM":
        raise SmokeFailure(f"image stop signal is {config.get('StopSignal')!r}, not SIGTERM")
    if not (info.get("Healthcheck") or {}).get("Test"):
        raise SmokeFailure("image has no health check (built without --format docker?)")


def free_ports(count: int) -> list[int]:
    """Ports the kernel hands out on loopback; held together so they differ."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def start_demo(podman: list[str], image: str, name: str, port: int, replica_port: int) -> None:
    # The health check probes port 8080, which the demo does not use; podman would also
    # need systemd to schedule it. The image's health check is checked above instead.
    run([*podman, "run", "--detach", "--name", name, "--network", "host", "--no-healthcheck",
         image, "demo", "--port", str(port), "--replica-port", str(replica_port),
         "--data", "/srv/feedsvc/data/demo"])


def wait_for_articles(podman: list[str], name: str, port: int) -> dict[str, int]:
    """Poll /api/topics until a topic has articles; fail early if the container stops."""
    deadline = time.monotonic() + FEEDS_TIMEOUT
    while time.monotonic() < deadline:
        counts = topic_counts(f"http://127.0.0.1:{port}/api/topics")
        if any(counts.values()):
            return counts
        if container_state(podman, name).get("Running") is not True:
            raise SmokeFailure("the demo container stopped before any feed filled")
        time.sleep(0.5)
    raise SmokeFailure(f"no topic feed had articles after {FEEDS_TIMEOUT:.0f} s")


def topic_counts(url: str) -> dict[str, int]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.load(response)
    except (OSError, ValueError):  # not listening yet, or not ready
        return {}
    return {topic["slug"]: int(topic["count"]) for topic in body.get("topics", [])}


def container_state(podman: list[str], name: str) -> dict[str, object]:
    state: dict[str, object] = json.loads(
        run([*podman, "inspect", "--format", "{{json .State}}", name]))
    return state


def check_uid(podman: list[str], name: str) -> None:
    pid = container_state(podman, name).get("Pid")
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    if set(uids) != {UID}:
        raise SmokeFailure(f"the container's process runs as uid {'/'.join(uids)}, not {UID}")
    inside = run([*podman, "exec", name, "id", "-u"]).strip()
    if inside != UID:
        raise SmokeFailure(f"`id -u` in the container says {inside}, not {UID}")


def stop_with_sigterm(podman: list[str], name: str) -> float:
    sent = time.monotonic()
    run([*podman, "kill", "--signal", "TERM", name], timeout=STOP_TIMEOUT)
    left = max(STOP_TIMEOUT - (time.monotonic() - sent), 0.1)
    try:
        status = run([*podman, "wait", name], timeout=left).strip()
    except SmokeFailure as exc:
        raise SmokeFailure(f"still running {STOP_TIMEOUT:.0f} s after SIGTERM") from exc
    seconds = time.monotonic() - sent
    if status != "0":
        raise SmokeFailure(f"exit status {status} after SIGTERM, not 0")
    return seconds


def print_logs(podman: list[str], name: str) -> None:
    logs = quietly([*podman, "logs", "--tail", "30", name])
    if logs:
        print(f"--- last lines of {name}'s log ---\n{logs}---", file=sys.stderr)


def quietly(command: list[str]) -> str:
    """Output of a clean-up or diagnostic command; its own failure is not the news."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout + done.stderr if done.returncode == 0 else ""


if __name__ == "__main__":
    sys.exit(main())
