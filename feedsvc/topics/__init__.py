"""Topics: the Arabic-aware query language, the topics file and the compiled matcher.

The stage's entry points::

    topics = load_topics(Path("config/topics.toml"))   # TopicConfigError lists every fault
    index = compile_topics(topics)                       # one inverted index for all topics
    slugs = index.match(article)                         # frozenset of matching slugs
    index.explain("gaza", article)                       # the terms that matched, for operators

Matching is pure: no clock, no I/O. ``max_age`` and ``limit`` are parsed and checked
here but enforced by the serving layer. The language, the normalization table and
the clitic rules are documented in ``docs/topics.md``.

Modules: ``query`` (lexer + parser → AST), ``model`` (``Topic``), ``load`` (TOML file),
``prepared`` (an article normalized once), ``compiled`` (term ids, one function per
topic), ``triggers`` (what each present term sets off), ``index`` (the compiled matcher).
"""

from feedsvc.topics.index import TopicIndex, compile_topics
from feedsvc.topics.load import load_topics, parse_topics
from feedsvc.topics.model import Topic, parse_duration, rules_fingerprint
from feedsvc.topics.prepared import PreparedArticle, prepare
from feedsvc.topics.query import And, Node, Not, Or, Query, Term, parse_query

__all__ = [
    "And",
    "Node",
    "Not",
    "Or",
    "PreparedArticle",
    "Query",
    "Term",
    "Topic",
    "TopicIndex",
    "compile_topics",
    "load_topics",
    "parse_duration",
    "parse_query",
    "parse_topics",
    "prepare",
    "rules_fingerprint",
]
