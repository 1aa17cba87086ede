"""Dedupe: which stored article, if any, a fetched article is.

Entry point: ``resolve(identity_keys(...), lookups)`` climbs the identity ladder
(site id → canonical URL → content fingerprint → near-duplicate); see ``ladder``.

    (URL identity, native_id and canonical_url, is normalization: feedsvc.normalize.urls)
    fingerprint  content_fingerprint, shingles, signature, jaccard: keys of a body
    near         NearDuplicateIndex: in-memory MinHash LSH over recent bodies
    policy       DedupePolicy: thresholds and sizes, each with a help line
    ladder       resolve, identity_keys, the Lookups protocol the store implements
"""

from feedsvc.dedupe.fingerprint import (
    SIGNATURE_SCHEME,
    Signature,
    content_fingerprint,
    jaccard,
    shingles,
    signature,
)
from feedsvc.dedupe.ladder import (
    IdentityKeys,
    KnownArticle,
    Lookups,
    Resolution,
    identity_keys,
    resolve,
)
from feedsvc.dedupe.near import NearDuplicateIndex, NearMatch
from feedsvc.dedupe.policy import DedupePolicy, policy_help
from feedsvc.normalize.urls import canonical_url, native_id

__all__ = [
    "SIGNATURE_SCHEME", "DedupePolicy", "IdentityKeys", "KnownArticle", "Lookups",
    "NearDuplicateIndex", "NearMatch", "Resolution", "Signature", "canonical_url",
    "content_fingerprint", "identity_keys", "jaccard", "native_id", "policy_help",
    "resolve", "shingles", "signature",
]  # fmt: skip
