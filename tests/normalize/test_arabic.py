"""Arabic normalization: the folding table, tokens, clitic forms and idempotence."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedsvc.normalize.arabic import clitic_spellings, normalize_text, tokenize, word_forms


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("أحمد إبراهيم آمال ٱلله", "احمد ابراهيم امال الله"),  # alef seats
        ("مسؤول مسئول", "مسءول مسءول"),  # waw/yeh hamza seats → ء
        ("على مستشفى", "علي مستشفي"),  # alef maqsura
        ("مدرسة", "مدرسه"),  # ta marbuta
        ("سُورِيَّا", "سوريا"),  # harakat and shadda
        ("ســــوريا", "سوريا"),  # tatweel
        ("صَلَّى ٱللَّهُ عَلَيْهِ ۖ", "صلي الله عليه"),  # Quranic marks
        ("کیف ڤلاديمير پوتين گاز", "كيف فلاديمير بوتين كاز"),  # Persian/Urdu letters
        ("٢٠٢٥ ۱۴۰۳", "2025 1403"),  # Arabic-Indic and Persian digits
        ("كي\u200bيف\u200f\u200e", "كييف"),  # zero-width and direction marks
        ("في\u00a0كييف", "في كييف"),  # NBSP
        ("سوريا، لبنان؛ لماذا؟", "سوريا, لبنان; لماذا?"),  # Arabic punctuation
        ("RT Arabic OPEC+", "rt arabic opec+"),  # Latin case folding
        ("ﻛﻴﻴﻒ", "كييف"),  # presentation forms
        ("  بين   الكلمات \n", "بين الكلمات"),  # white space collapsed
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_tokenize_splits_on_punctuation_and_quotes() -> None:
    text = 'لافروف: "ندعم الحوار"، و«جنيف-2» في ٢٠٢٥؟'
    assert tokenize(text) == ["لافروف", "ندعم", "الحوار", "و", "جنيف", "2", "في", "2025"]


@pytest.mark.parametrize(
    ("token", "forms"),
    [
        ("لافروف", ("لافروف", "افروف")),
        ("للافروف", ("للافروف", "لافروف", "افروف", "الافروف")),
        ("وبالامم", ("وبالامم", "بالامم", "الامم", "امم")),
        ("للامم", ("للامم", "لامم", "امم", "الامم")),
        ("البحر", ("البحر", "بحر")),
        ("بحر", ("بحر",)),  # حر is too short a stem
        ("كامل", ("كامل",)),  # a root-initial word: never امل
        ("وكامل", ("وكامل", "كامل")),
        ("والوكاله", ("والوكاله", "الوكاله", "وكاله")),
        ("الدم", ("الدم", "دم")),  # two letters are enough after the article
        ("سوريا", ("سوريا",)),
    ],
)
def test_word_forms(token: str, forms: tuple[str, ...]) -> None:
    assert word_forms(token) == forms


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


ARABIC = st.text(alphabet=st.characters(min_codepoint=0x0600, max_codepoint=0x06FF) | st.sampled_from(" \u200b\u200f\u00a0ـ"))


@given(ARABIC)
def test_normalize_is_idempotent_on_arabic(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert tokenize(once) == tokenize(text)


@given(ARABIC)
def test_word_forms_start_with_the_token(text: str) -> None:
    for token in tokenize(text):
        forms = word_forms(token)
        assert forms[0] == token
        assert all(token.endswith(form) or form.startswith("ال") for form in forms)


SPACES = [chr(code) for code in range(0x110000) if chr(code).isspace()]
MIXED = st.text(
    alphabet=st.characters(min_codepoint=0x0600, max_codepoint=0x06FF)
    | st.sampled_from(SPACES)
    | st.sampled_from("ﻛﻴﻒ\ufe70\ufe72\u00a8\u200b\u200dأإآ\u0654\u0655aBß0٣_-،«»")
)


@pytest.mark.parametrize("space", SPACES)
def test_every_white_space_character_separates_words(space: str) -> None:
    assert normalize_text(f"a{space}b") == "a b"


@given(MIXED)
def test_tokenize_by_chunks_equals_tokenizing_the_normalized_text(text: str) -> None:
    assert tokenize(text) == re.findall(r"[^\W_]+", normalize_text(text))


@given(ARABIC)
def test_clitic_spellings_cover_every_form(text: str) -> None:
    for token in tokenize(text):
        for form in word_forms(token):
            assert token in clitic_spellings(form)
