"""Feed publishing: topic feeds and reader pages rendered once per change, stored, served from
memory (:mod:`.publisher`, what is served: :mod:`.serving`); their metadata (:mod:`.metas`);
restarts that serve the stored renders at once (:mod:`.warm_start`, :mod:`.takedowns`); the
snapshot writes and the index (:mod:`.rendered`): its entries kept per topic (:mod:`.index_page`)
and its pages and filtered views (:mod:`.index_pages`)."""

from .index_pages import INDEX_SLUG
from .publisher import FeedPublisher
from .rendered import SNAPSHOT_TYPES
from .serving import DEFAULT_LIMIT, render_topic_feed

__all__ = ["DEFAULT_LIMIT", "INDEX_SLUG", "SNAPSHOT_TYPES", "FeedPublisher", "render_topic_feed"]
