"""The dedupe settings: one frozen value with a default and a help line per key.

The defaults come from measurements on the replica's content; the figures and the
reasoning are in the design notes ("Near-duplicate thresholds").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from feedsvc.errors import ConfigError
from feedsvc.policy import help_lines, setting


@dataclass(frozen=True, slots=True)
class DedupePolicy:
    """How hard dedupe tries to merge; invalid values raise ``ConfigError``."""

    min_tokens: int = setting(
        40, "Bodies with fewer normalized words get no content fingerprint and no near-duplicate check."
    )
    threshold: float = setting(
        0.5, "Word-trigram Jaccard similarity at or above which two bodies are the same story."
    )
    window: timedelta = setting(
        timedelta(days=3), "Near-duplicate candidates must be published within this span of each other."
    )
    num_perm: int = setting(
        128, "MinHash values per signature; changing it invalidates stored signatures."
    )
    bands: int = setting(
        32, "LSH bands over the signature (num_perm must divide evenly); more bands, more recall."
    )

    def __post_init__(self) -> None:
        problems = [f"dedupe.{key}: {value!r}: {reason}" for key, value, reason in self._faults()]
        if problems:
            raise ConfigError(problems)

    def _faults(self) -> list[tuple[str, object, str]]:
        faults: list[tuple[str, object, str]] = []
        if self.min_tokens < 1:
            faults.append(("min_tokens", self.min_tokens, "must be at least 1"))
        if not 0.0 < self.threshold <= 1.0:
            faults.append(("threshold", self.threshold, "must be in (0, 1]"))
        if self.window <= timedelta(0):
            faults.append(("window", self.window, "must be positive"))
        if not 8 <= self.num_perm <= 1024:
            faults.append(("num_perm", self.num_perm, "must be between 8 and 1024"))
        if self.bands < 1 or self.num_perm % self.bands:
            faults.append(("bands", self.bands, f"must divide num_perm ({self.num_perm})"))
        return faults

    @property
    def rows(self) -> int:
        """Signature values per LSH band."""
        return self.num_perm // self.bands

    def candidate_probability(self, similarity: float) -> float:
        """Chance that two bodies of this Jaccard similarity share at least one band."""
        return float(1.0 - (1.0 - similarity**self.rows) ** self.bands)


def policy_help() -> dict[str, str]:
    """Each setting's one-line help, keyed by name, for the configuration reference."""
    return help_lines(DedupePolicy)
