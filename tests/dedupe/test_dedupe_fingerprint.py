"""Content keys: fingerprint, shingles, signature, Jaccard."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from feedsvc.dedupe.fingerprint import (
    body_tokens,
    content_fingerprint,
    jaccard,
    shingles,
    signature,
    signature_of,
    signature_values,
)
from feedsvc.normalize.arabic import normalize_text

WORDS = "الرئيس وزير الخارجية الروسي أعلن اليوم أن المحادثات مع الجانب الأمريكي في جنيف كانت بناءة".split()
BODY = "\n\n".join(" ".join(WORDS[(i + j) % len(WORDS)] for j in range(15)) for i in range(6))


def test_fingerprint_ignores_title_and_spelling_variants() -> None:
    variant = BODY.replace("أعلن", "اعلن").replace("الخارجية", "الخارجيّة")
    assert content_fingerprint("عنوان", BODY) == content_fingerprint("عنوان آخر", variant)
    assert content_fingerprint("x", BODY) is not None


def test_fingerprint_is_none_below_min_tokens() -> None:
    assert content_fingerprint("عاجل", "انفجار في العاصمة") is None
    assert content_fingerprint("x", BODY, min_tokens=10_000) is None


def test_boilerplate_paragraphs_are_not_body() -> None:
    assert body_tokens("مباشر\n\nالتعليقات\n\nالمصدر: نوفوستي\n\nتابعوا RT على تلغرام") == []
    assert content_fingerprint("x", BODY + "\n\nالمصدر: نوفوستي") == content_fingerprint("x", BODY)
    # "المصدرون" (exporters) opens a real sentence: it stays.
    assert body_tokens("المصدرون يرفعون الأسعار") == ["المصدرون", "يرفعون", "الاسعار"]


def test_shingles_are_stable_across_processes() -> None:
    # Fixed values: Python's salted hash() would change these between runs.
    assert sorted(shingles("واحد اثنان ثلاثة")) == [1197292301]
    assert len(shingles("واحد اثنان ثلاثة اربعة")) == 2


def test_signature_is_compact_bytes() -> None:
    sig = signature(BODY, num_perm=64)
    assert isinstance(sig, bytes) and len(sig) == 256
    assert len(signature_values(sig)) == 64
    assert signature(BODY, num_perm=64) == sig


def test_signature_agreement_tracks_jaccard() -> None:
    a = shingles(BODY)
    b = shingles(BODY.replace("بناءة", "مثمرة"))
    values_a, values_b = signature_values(signature_of(a)), signature_values(signature_of(b))
    agreement = sum(x == y for x, y in zip(values_a, values_b, strict=True)) / len(values_a)
    assert abs(agreement - jaccard(a, b)) < 0.25


def test_jaccard_edges() -> None:
    assert jaccard(frozenset(), frozenset()) == 0.0
    assert jaccard(frozenset({1, 2}), frozenset({2, 3})) == 1 / 3
    assert jaccard(frozenset({1}), frozenset({1})) == 1.0


ARABIC = st.text(alphabet="ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىي\u064b\u064e\u0651\u0640 \n0123٤٥", max_size=400)


@given(ARABIC)
def test_keys_are_stable_across_renormalization(text: str) -> None:
    renormalized = "\n".join(normalize_text(line) for line in text.splitlines())
    assert content_fingerprint("", renormalized, min_tokens=1) == content_fingerprint("", text, min_tokens=1)
    assert shingles(renormalized) == shingles(text)
