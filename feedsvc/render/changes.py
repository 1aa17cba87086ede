"""The change stream's answer (``/api/changes``): changes to a feed in commit order.

::

    {"changes": [{"op": "upsert" | "delete", "id": ENTRY-ID, "topics": [SLUG, …],
                  "item": JSON-FEED-ITEM | null, "at": RFC-3339}, …],
     "next": TOKEN}

``id`` is the entry id of the feeds, and ``item`` the article exactly as the JSON
Feeds show it, so a consumer can mirror the feeds from the stream alone. ``topics``
are the topics the article is in (empty for a delete). Keys come in a fixed order, so
the same changes give the same bytes on every replica.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from feedsvc.models import UPSERT, FeedChange

from . import fields
from .ids import entry_id_for
from .jsonfeed import JsonObject, json_feed_item
from .model import FeedMeta


def render_changes(changes: Sequence[FeedChange], meta: FeedMeta, next_token: str) -> bytes:
    """The answer listing ``changes``, whose ``next`` is ``next_token``; items as in the
    feeds of ``meta``."""
    document = {"changes": [_change_object(meta, change) for change in changes],
                "next": next_token}
    return orjson.dumps(document, option=orjson.OPT_APPEND_NEWLINE)


def _change_object(meta: FeedMeta, change: FeedChange) -> JsonObject:
    article = change.article if change.op == UPSERT else None
    return {
        "op": change.op,
        "id": entry_id_for(meta.public_url, change.article_id),
        "topics": list(change.topics) if article else [],
        "item": json_feed_item(meta, article) if article else None,
        "at": fields.rfc3339(change.at),
    }
