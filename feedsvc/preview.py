"""Operator previews over the stored articles: an unsaved query (``feedsvc topics try``)
and a candidate topics file (``feedsvc topics diff``). The counting is pure, in
``feedsvc.topics.preview``; this module feeds it from the store.
"""

from __future__ import annotations

from datetime import datetime

from feedsvc.store import Cursor, Store
from feedsvc.topics.model import Topic
from feedsvc.topics.preview import (
    PAGE,
    Example,
    MembershipDiff,
    Plan,
    QueryTrial,
    TopicsDiff,
    TrialResult,
)


async def run_trial(store: Store, topic: Topic, *, now: datetime, limit: int) -> TrialResult:
    """``topic`` tried against every live article of ``store``."""
    trial = QueryTrial(topic, now=now, limit=limit)
    async for article in store.iter_articles():
        trial.add(article)
    return trial.result()


async def run_diff(store: Store, plan: Plan) -> TopicsDiff:
    """What loading the plan's candidate file would change in ``store``'s feeds."""
    slugs = [topic.slug for topic in plan.added + plan.changed] + list(plan.removed)
    diff = MembershipDiff(plan, {slug: await current_members(store, slug) for slug in slugs})
    async for article in store.iter_articles():
        diff.add(article)
    return diff.result()


async def current_members(store: Store, slug: str) -> list[Example]:
    """Every article the store holds in topic ``slug``, newest first."""
    members: list[Example] = []
    before: Cursor | None = None
    while True:
        page = await store.topic_page(slug, limit=PAGE, before=before)
        members += (Example(a.id, a.title, a.published) for a in page)
        if len(page) < PAGE:
            return members
        before = Cursor(page[-1].published, page[-1].id)
