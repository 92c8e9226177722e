"""The transaction hooks an article runs through when it is stored or becomes public: one list.

Ingest (new and changed articles), the due check (a scheduled article whose time came) and an
editor's unhide of an article that was never public
(:func:`feedsvc.lifecycle.editors.unhide_article`) hand their changes to the same hooks, so every
way an article first becomes public alerts by the same rules: the outbox (one delivery per
(chat, article), ``telegram.alert_max_age_hours``, a first sync's archive never), corrections
(``telegram.edit_on_update``), then the PostgreSQL wake-up of every replica's dispatcher (after
the outbox, in the same transaction).
"""

from __future__ import annotations

from datetime import timedelta

from feedsvc.config import Settings
from feedsvc.ingest.lease import notify_new_deliveries
from feedsvc.ingest.model import TransactionHook
from feedsvc.outbox import Outbox
from feedsvc.retraction.hooks import Corrections


def release_hooks(settings: Settings) -> list[TransactionHook]:
    """New hook objects (the outbox keeps its own compiled chat queries: one list per thread
    that writes, never shared between the ingest thread and request threads)."""
    max_age = timedelta(hours=settings.telegram.alert_max_age_hours)
    return [Outbox(max_age), Corrections(settings.telegram.edit_on_update), notify_new_deliveries]
