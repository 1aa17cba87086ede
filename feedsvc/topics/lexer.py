"""Split a topic query string into lexemes, keeping each one's 0-based position.

Lexemes: ``(`` ``)``, the operators ``AND`` ``OR`` ``NOT`` (upper case only: a lower
case ``and`` is an ordinary word), a field scope such as ``title:``, a quoted phrase
(``"..."``, ``«...»`` or ``“...”``), and a word (anything else up to white space, a
parenthesis or a quote). The lexer never normalizes: positions refer to the string
as the user wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from feedsvc.errors import QueryError

__all__ = ["Kind", "Lexeme", "lex"]


class Kind(Enum):
    LPAREN = "("
    RPAREN = ")"
    AND = "AND"
    OR = "OR"
    NOT = "NOT"
    FIELD = "field"
    PHRASE = "phrase"
    WORD = "word"


@dataclass(frozen=True, slots=True)
class Lexeme:
    kind: Kind
    text: str  # a word or phrase as written (without quotes); a field name without ':'
    position: int  # 0-based offset of the lexeme's first character


_QUOTES = {'"': '"', "«": "»", "“": "”"}
_OPERATORS = {"AND": Kind.AND, "OR": Kind.OR, "NOT": Kind.NOT}
_FIELD_RE = re.compile(r"[A-Za-z]+:")
_STOP = frozenset('()"«»“”')
# A word runs to white space (str.isspace, as re's \s for str patterns), a parenthesis
# or a quote.
_WORD_RE = re.compile(r'[^\s()"«»“”]+')


def lex(query: str) -> list[Lexeme]:
    """The lexemes of ``query``; raises QueryError for an unterminated phrase."""
    lexemes: list[Lexeme] = []
    index = 0
    while index < len(query):
        char = query[index]
        if char.isspace():
            index += 1
        elif char in "()":
            lexemes.append(Lexeme(Kind(char), char, index))
            index += 1
        elif char in _QUOTES:
            index = _lex_phrase(query, index, lexemes)
        elif char in _STOP:
            raise QueryError(f"closing quote {char!r} without an opening one", index)
        else:
            index = _lex_word(query, index, lexemes)
    return lexemes


def _lex_phrase(query: str, start: int, out: list[Lexeme]) -> int:
    closing = _QUOTES[query[start]]
    end = query.find(closing, start + 1)
    if end < 0:
        raise QueryError(f"unterminated phrase: missing closing {closing!r}", start)
    out.append(Lexeme(Kind.PHRASE, query[start + 1 : end], start))
    return end + 1


def _lex_word(query: str, start: int, out: list[Lexeme]) -> int:
    field = _FIELD_RE.match(query, start)
    if field is not None:
        out.append(Lexeme(Kind.FIELD, field.group()[:-1], start))
        return field.end()
    found = _WORD_RE.match(query, start)
    end = found.end() if found is not None else start
    word = query[start:end]
    out.append(Lexeme(_OPERATORS.get(word, Kind.WORD), word, start))
    return end
