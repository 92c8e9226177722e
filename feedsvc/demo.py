"""Generated sample articles for ``feedsvc demo`` and the benchmarks.

The text is written for this project (templates over Hải Phòng place names, sections and
people), deterministic for a given seed, and varied enough that every shipped topic has hits
and misses: public-security stories, courts, traffic, and Kiến Thụy's old and new commune names.

Each article is about one place: its title, summary and body name the same one, so a locality
topic matches the articles about that locality and nothing else. Kiến Thụy's places are drawn
for :data:`KIEN_THUY_SHARE` of the articles, so every shipped topic matches a plausible share
(5–30 %, ``tests/test_demo.py``) instead of nearly everything.
"""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from feedsvc.articles import Article
from feedsvc.db import Database
from feedsvc.importer import import_articles
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import list_topics

log = logging.getLogger("feedsvc.demo")

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ARCHIVE_SPAN = timedelta(days=30)

#: Places the shipped ``kien-thuy`` topic covers (new communes and old names).
KIEN_THUY_PLACES = [
    "Kiến Thụy",
    "Núi Đối",
    "Đoàn Xá",
    "Ngũ Đoan",
    "Kiến Hải",
    "Kiến Hưng",
    "Kiến Minh",
    "Nghi Dương",
    "xã Tân Trào",
    "xã Đại Hà",
]
KIEN_THUY_SHARE = 0.22
#: The rest of the city.
CITY_PLACES = [
    "Đồ Sơn",
    "Lê Chân",
    "Ngô Quyền",
    "Hải An",
    "An Dương",
    "Thủy Nguyên",
    "Vĩnh Bảo",
    "Tiên Lãng",
    "Kiến An",
    "Dương Kinh",
    "Hồng Bàng",
    "Cát Bà",
]
PLACES = KIEN_THUY_PLACES + CITY_PLACES
AUTHORS = ["Minh Châu", "Thu Hà", "Quang Huy", "Hoàng Lan", "Đức Thịnh", "Ngọc Ánh", "Văn Toàn"]
PEOPLE = ["Nguyễn Văn H.", "Trần Thị M.", "Phạm Văn K.", "Lê Thị T.", "Vũ Đình S.", "Đỗ Văn Q."]

SECTIONS: dict[str, dict[str, list[str]]] = {
    "An ninh - Trật tự": {
        "titles": [
            "Công an {place} triệt phá đường dây đánh bạc qua mạng",
            "Bắt giữ đối tượng trộm cắp tài sản tại {place}",
            "{place}: Tăng cường tuần tra bảo đảm an ninh trật tự dịp cuối năm",
            "Công an huyện phối hợp xử lý nhóm thanh niên gây rối ở {place}",
        ],
        "tags": ["An ninh - Trật tự", "Công an"],
        "sentences": [
            "Lực lượng công an đã lập biên bản và thu giữ tang vật.",
            "Đối tượng {person} khai nhận hành vi của mình.",
            "Vụ việc đang được cơ quan điều tra tiếp tục làm rõ.",
            "Người dân được khuyến cáo nâng cao cảnh giác với tội phạm công nghệ cao.",
        ],
    },
    "Pháp luật": {
        "titles": [
            "Tòa án nhân dân thành phố xét xử vụ án lừa đảo tại {place}",
            "Tuyên án bị cáo chiếm đoạt tài sản ở {place}",
            "Viện kiểm sát truy tố nhóm đối tượng vi phạm quy định về đất đai",
        ],
        "tags": ["Pháp luật", "Tòa án"],
        "sentences": [
            "Hội đồng xét xử tuyên phạt bị cáo {person} mức án tù giam.",
            "Phiên tòa thu hút đông đảo người dân đến theo dõi.",
            "Đại diện viện kiểm sát giữ nguyên quan điểm truy tố.",
        ],
    },
    "Giao thông": {
        "titles": [
            "Tai nạn giao thông trên đường tỉnh qua {place}, một người bị thương",
            "{place}: Xử lý hơn 200 trường hợp vi phạm nồng độ cồn",
            "Thông xe cầu mới nối {place} với trung tâm thành phố",
        ],
        "tags": ["Giao thông", "An toàn giao thông"],
        "sentences": [
            "Cảnh sát giao thông đã có mặt phân luồng, bảo đảm an toàn cho người đi đường.",
            "Người điều khiển xe máy {person} được đưa đi cấp cứu kịp thời.",
            "Lực lượng chức năng khuyến cáo người dân đã uống rượu bia thì không lái xe.",
        ],
    },
    "Thời sự": {
        "titles": [
            "{place} tổng kết công tác năm, đề ra nhiệm vụ trọng tâm",
            "Hội nghị bàn giải pháp phát triển kinh tế - xã hội tại {place}",
            "Lãnh đạo thành phố thăm và làm việc tại {place}",
        ],
        "tags": ["Thời sự", "Chính quyền"],
        "sentences": [
            "Hội nghị đánh giá kết quả thực hiện các chỉ tiêu trong năm.",
            "Thu ngân sách trên địa bàn đạt và vượt kế hoạch đề ra.",
            "Các đại biểu thảo luận giải pháp giải phóng mặt bằng các dự án trọng điểm.",
        ],
    },
    "Văn hóa - Xã hội": {
        "titles": [
            "Lễ hội truyền thống ở {place} thu hút hàng nghìn du khách",
            "Trao nhà tình nghĩa cho hộ khó khăn tại {place}",
            "Thư viện lưu động về với học sinh {place}",
        ],
        "tags": ["Văn hóa", "Xã hội"],
        "sentences": [
            "Chương trình mang lại niềm vui cho người dân địa phương.",
            "Các em học sinh hào hứng tham gia hoạt động đọc sách.",
            "Nhiều hoạt động văn hóa, thể thao diễn ra sôi nổi.",
        ],
    },
}


class ArticleGenerator:
    """Deterministic for a seed; ``make(at)`` gives one article published at ``at``."""

    def __init__(self, seed: int = 1, prefix: str = "DEMO") -> None:
        self.rng = random.Random(seed)
        self.prefix = prefix
        self.counter = 0

    def _place(self) -> str:
        local = self.rng.random() < KIEN_THUY_SHARE
        return self.rng.choice(KIEN_THUY_PLACES if local else CITY_PLACES)

    def _fill(self, template: str, place: str) -> str:
        return template.format(place=place, person=self.rng.choice(PEOPLE))

    def _body(self, section: dict[str, list[str]], paragraphs: int, place: str) -> str:
        parts = []
        for _ in range(paragraphs):
            sentences = [self._fill(s, place) for s in self.rng.sample(section["sentences"], 2)]
            parts.append(f"<p>{' '.join(sentences)}</p>")
        parts.append(f"<p>Ghi nhận tại {place}.</p>")
        return "\n".join(parts)

    def make(self, at: datetime, paragraphs: int = 4) -> Article:
        self.counter += 1
        name = self.rng.choice(list(SECTIONS))
        section = SECTIONS[name]
        place = self._place()
        title = self._fill(self.rng.choice(section["titles"]), place)
        body = self._body(section, paragraphs, place)
        key = f"{self.prefix}-{at:%Y%m%d}-{self.counter:06d}"
        return Article(
            source_key=key,
            url=f"https://example.vn/{at:%Y/%m/%d}/{key.lower()}.html",
            title=title,
            summary=self._fill(self.rng.choice(section["sentences"]), place),
            body=body,
            author=self.rng.choice(AUTHORS),
            section=name,
            tags=tuple(section["tags"]),
            image_url=f"https://example.vn/images/{key.lower()}.jpg",
            published_at=at.astimezone(TZ).replace(microsecond=0),
        )

    def archive(self, count: int, end: datetime, span: timedelta) -> Iterator[Article]:
        """``count`` articles spread over ``span`` before ``end``, oldest first."""
        step = span / max(count, 1)
        for i in range(count):
            yield self.make(end - span + step * i)


def seed(
    db: Database, count: int, gen: ArticleGenerator, stop: Callable[[], bool] = lambda: False
) -> int:
    """Fill the built-in source with an archive (old enough not to alert anyone). ``stop``
    (a signal came) ends it at the next article: what was read is committed, nothing more
    (``--articles 100000`` took long past the 5 s a SIGTERM leaves)."""
    now = datetime.now(UTC)
    archive = gen.archive(count, now - timedelta(days=3), ARCHIVE_SPAN)
    items = itertools.takewhile(lambda _item: not stop(), enumerate(archive))
    report = import_articles(db, items, now=lambda: datetime.now(UTC))
    return report.counts.inserted


def add_one(db: Database, gen: ArticleGenerator) -> Article:
    article = gen.make(datetime.now(UTC))
    import_articles(db, [(0, article)], now=lambda: datetime.now(UTC))
    return article


class NewArticles:
    """The demo's generator job: one new article a tick (:meth:`tick`). One the state DB cannot
    take now — SQLite locked by a CLI's long write (a ``topics import``), a full disk — is kept
    and stored at a later tick, before any new one is made: nothing generated is lost, and the
    job logs one line for it, not an ERROR with three chained tracebacks at every tick (the
    outage itself is told by :mod:`feedsvc.db.outage`, its start, summaries and end)."""

    def __init__(self, db: Database, gen: ArticleGenerator) -> None:
        self.db = db
        self.gen = gen
        #: the article made and not stored yet (the state DB was unavailable)
        self.waiting: Article | None = None

    def tick(self) -> Article | None:
        """Store the waiting article, else a new one; the article stored, or None when the
        state DB is unavailable (the article waits). A failure that is no outage (a bug)
        raises, with its traceback, as before."""
        from feedsvc.db.outage import report
        from feedsvc.importer import ImportAborted
        from feedsvc.keys import spelled

        article = self.waiting or self.gen.make(datetime.now(UTC))
        try:
            import_articles(self.db, [(0, article)], now=lambda: datetime.now(UTC))
        except ImportAborted as exc:
            cause = exc.__cause__
            if cause is None or not report(cause, "job demo-generator"):
                raise
            if self.waiting is None:  # once per article: the outage's own lines say the rest
                log.info(
                    "demo: new source article %s not stored yet, the state DB is unavailable "
                    "(%s): stored at a later tick",
                    spelled(article.source_key), exc.reason,
                )  # fmt: skip
            self.waiting = article
            return None
        self.waiting = None
        return article


DEMO_CHAT = 1  # the console "chat" the demo's alerts go to when no bot token is configured


def subscribe_console(db: Database) -> int:
    """Subscribe the demo's console chat to every enabled topic, so alerts visibly flow."""
    now = datetime.now(UTC)
    with db.write() as conn:
        ensure_chat(conn, DEMO_CHAT, "private", "demo console", now)
        topics = list_topics(conn, enabled_only=True)
        for topic in topics:
            subscribe(conn, DEMO_CHAT, topic_id=topic.id, query=None, now=now)
    return len(topics)
