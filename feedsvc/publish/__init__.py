"""Feed publishing: topic feeds and reader pages rendered once per change, stored, served from
memory (:mod:`.publisher`); their metadata (:mod:`.metas`); restarts that serve the stored
renders at once (:mod:`.warm_start`)."""

from .publisher import DEFAULT_LIMIT, INDEX_SLUG, SNAPSHOT_TYPES, FeedPublisher, render_topic_feed

__all__ = ["DEFAULT_LIMIT", "INDEX_SLUG", "SNAPSHOT_TYPES", "FeedPublisher", "render_topic_feed"]
