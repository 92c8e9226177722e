"""feedsvc: topic feeds and Telegram alerts from a newsroom's article database."""

__version__ = "0.1.0"
