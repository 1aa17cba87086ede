"""The direct answer of topic matching, without any of the index's tables: each term
looked for in the article's tokens, each query tree evaluated, each topic checked.
The tests compare ``TopicIndex.match`` with it, and ``bench/bench_match.py`` times it
as the naive baseline."""

from __future__ import annotations

from collections.abc import Iterable

from feedsvc.models import Article
from feedsvc.normalize.arabic import word_forms
from feedsvc.topics import Topic
from feedsvc.topics.prepared import BODY, FIELD_MASKS, TAG, TITLE, PreparedArticle, prepare
from feedsvc.topics.query import And, Node, Not, Term


def term_holds(term: Term, prepared: PreparedArticle) -> bool:
    """Whether ``term`` occurs in the article, in the term's field."""
    if term.field in ("section", "source"):
        value = prepared.section if term.field == "section" else prepared.source
        wanted = term.words[0]
        return value.startswith(wanted) if term.prefix else value == wanted
    fields = [bit for bit in (TITLE, BODY, TAG) if FIELD_MASKS[term.field] & bit]
    if term.prefix:
        head = term.words[0]
        return any(form.startswith(head) for bit in fields
                   for token in prepared.tokens[bit] if token for form in word_forms(token))
    return any(_phrase_in(term.words, prepared.tokens[bit]) for bit in fields)


def _phrase_in(words: tuple[str, ...], tokens: list[str]) -> bool:
    """Each word among the clitic forms of consecutive tokens ("" separates segments)."""
    width = len(words)
    return any(all(tokens[start + step] and word in word_forms(tokens[start + step])
                   for step, word in enumerate(words))
               for start in range(len(tokens) - width + 1))


def holds(node: Node, prepared: PreparedArticle) -> bool:
    if isinstance(node, Term):
        return term_holds(node, prepared)
    if isinstance(node, Not):
        return not holds(node.operand, prepared)
    parts = (holds(child, prepared) for child in node.operands)
    return all(parts) if isinstance(node, And) else any(parts)


def reference(topics: Iterable[Topic], article: Article | PreparedArticle) -> frozenset[str]:
    """The slugs of the topics that match ``article``, every topic evaluated."""
    prepared = article if isinstance(article, PreparedArticle) else prepare(article)
    return frozenset(
        t.slug
        for t in topics
        if (not t.sections or prepared.section in t.sections)
        and holds(t.parsed_query.root, prepared)
        and not (t.parsed_exclude is not None and holds(t.parsed_exclude.root, prepared))
    )
