"""Mutated settings and topics files: the readers succeed or raise ConfigError, nothing else.

The shipped ``config/feedsvc.toml`` and ``config/topics.toml`` are mutated (``mutate.py``:
bit flips, junk and NUL bytes, truncation, duplicated and swapped lines, deep nesting,
dotted keys, values of the wrong type, stray headers, credentials in URLs). In process,
each file is loaded; every problem must be one line that starts with the file's name,
and no line may show a URL's password. Every key also gets every odd value once, in a
sweep. Then a few files go through a real ``python -m feedsvc check-config``: exit
status 0 or 1, never a traceback.

Hypothesis runs derandomized, so every run tries the same files; a failure prints the
seed that rebuilds the file. The whole module takes about 20 s.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsvc.config import iter_documented_keys, load_settings
from feedsvc.errors import ConfigError
from feedsvc.topics import load_topics
from tests.security.mutate import MUTATIONS, VALUES, mutate

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_SETTINGS = (ROOT / "config" / "feedsvc.toml").read_bytes()
SHIPPED_TOPICS = (ROOT / "config" / "topics.toml").read_bytes()
PASSWORD = "hunter2"
SETTINGS_KEYS = tuple(
    key.replace("sources.", "[sources].", 1) for key, _, _ in iter_documented_keys()
) + ("sources.selectors.body", "sources.selectors.section_names", "sources.selectors.tag_labels")
TOPIC_KEYS = ("slug", "title", "description", "query", "exclude", "sections", "sources", "max_age",
              "limit", "colour")
TOPICS_KEYS = tuple(f"[topics].{key}" for key in TOPIC_KEYS) + ("topics",)
ONE_TOPIC = {"slug": b'"gaza"', "title": b'"x"', "description": b'"d"', "query": '"غزة"'.encode()}
FUZZ = settings(max_examples=250, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
ROUNDS = st.integers(min_value=1, max_value=4)


def assert_problems_are_lines(problems: list[str], path: Path) -> None:
    assert problems, "a ConfigError without a problem"
    for problem in problems:
        assert len(problem.splitlines()) == 1, problem
        assert problem.startswith((f"{path}:", f"{path.parent}", "environment:")), problem
        assert PASSWORD not in problem, problem


def settings_file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "feedsvc.toml"
    path.write_bytes(data)
    return path


@FUZZ
@given(seed=SEEDS, rounds=ROUNDS)
def test_mutated_settings_load_or_raise_config_error(tmp_path: Path, seed: int, rounds: int) -> None:
    (tmp_path / "topics.toml").write_bytes(SHIPPED_TOPICS)
    path = settings_file(tmp_path, mutate(SHIPPED_SETTINGS, random.Random(seed), rounds, SETTINGS_KEYS))
    try:
        load_settings(path, {})
    except ConfigError as exc:
        assert_problems_are_lines(exc.problems, path)


@FUZZ
@given(seed=SEEDS, rounds=ROUNDS)
def test_mutated_topics_load_or_raise_config_error(tmp_path: Path, seed: int, rounds: int) -> None:
    path = tmp_path / "topics.toml"
    path.write_bytes(mutate(SHIPPED_TOPICS, random.Random(seed), rounds, TOPICS_KEYS))
    try:
        load_topics(path)
    except ConfigError as exc:
        assert_problems_are_lines(exc.problems, path)


@pytest.mark.parametrize("key", SETTINGS_KEYS)
def test_every_settings_key_takes_every_odd_value(tmp_path: Path, key: str) -> None:
    (tmp_path / "topics.toml").write_bytes(SHIPPED_TOPICS)
    table, _, name = key.rpartition(".")
    header = f"[{table}]\n".encode() if table else b""
    for value in VALUES:
        path = settings_file(tmp_path, header + name.encode() + b" = " + value + b"\n")
        try:
            load_settings(path, {})
        except ConfigError as exc:
            assert_problems_are_lines(exc.problems, path)


@pytest.mark.parametrize("key", TOPIC_KEYS)
def test_every_topic_key_takes_every_odd_value(tmp_path: Path, key: str) -> None:
    path = tmp_path / "topics.toml"
    for value in VALUES:
        fields = {**ONE_TOPIC, key: value}
        path.write_bytes(b"[[topics]]\n" + b"".join(k.encode() + b" = " + v + b"\n" for k, v in fields.items()))
        try:
            load_topics(path)
        except ConfigError as exc:
            assert_problems_are_lines(exc.problems, path)


def test_every_mutation_changes_the_shipped_files() -> None:
    """A mutation that never changes anything would make the fuzzing above weaker than it looks."""
    for mutation in MUTATIONS:
        for shipped in (SHIPPED_SETTINGS, SHIPPED_TOPICS):
            results = {mutation(shipped, random.Random(seed)) for seed in range(20)}
            assert results - {shipped}, mutation.__name__


def check_config(config: Path) -> tuple[int, str]:
    process = subprocess.run([sys.executable, "-m", "feedsvc", "check-config", "--config", str(config)],
                             capture_output=True, text=True, timeout=60, cwd=config.parent)
    return process.returncode, process.stdout + process.stderr


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_check_config_on_mutated_files_never_prints_a_traceback(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    topics = mutate(SHIPPED_TOPICS, rng, 2, TOPICS_KEYS) if seed % 2 else SHIPPED_TOPICS
    (tmp_path / "topics.toml").write_bytes(topics)
    settings = mutate(SHIPPED_SETTINGS, rng, 2, SETTINGS_KEYS) if seed % 3 else SHIPPED_SETTINGS
    config = settings_file(tmp_path, settings)
    code, output = check_config(config)
    assert code in (0, 1), output
    assert "Traceback" not in output and PASSWORD not in output, output
    if code == 1:
        assert all(line.startswith(str(tmp_path)) or line.startswith("environment:")
                   for line in output.splitlines()), output
