"""What the bot says: short Vietnamese replies in Telegram HTML, every dynamic part escaped.

Pure functions only, so wording can change without touching handlers, and every reply is safe
for ``parse_mode=HTML`` (the fake Bot API in the tests rejects anything Telegram would).
"""

from __future__ import annotations

from html import escape

from feedsvc.store.subscriptions import Subscription
from feedsvc.store.topics import Topic

COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Bắt đầu"),
    ("help", "Hướng dẫn"),
    ("topics", "Danh sách chủ đề"),
    ("sub", "Đăng ký chủ đề hoặc truy vấn"),
    ("unsub", "Huỷ đăng ký"),
    ("list", "Các đăng ký hiện có"),
    ("pause", "Tạm dừng thông báo"),
    ("resume", "Bật lại thông báo"),
    ("preview", "Bật/tắt xem trước liên kết"),
)

HELP = (
    "<b>Các lệnh</b>\n"
    "/topics — danh sách chủ đề\n"
    "/sub &lt;chủ đề hoặc truy vấn&gt; — đăng ký\n"
    "/unsub &lt;chủ đề, truy vấn hoặc số thứ tự&gt; — huỷ đăng ký\n"
    "/list — các đăng ký hiện có\n"
    "/pause, /resume — tạm dừng / bật lại thông báo\n"
    "/preview on|off — bật / tắt xem trước liên kết dưới mỗi tin\n"
    "Ví dụ: <code>/sub the-thao</code> hoặc "
    '<code>/sub "công an" OR "an ninh"</code>\n'
    "Kênh (chỉ quản trị viên, trong chat riêng với bot): "
    "<code>/sub @tenkenh &lt;chủ đề hoặc truy vấn&gt;</code>, /unsub, /list, /pause, /resume"
)
START = "Xin chào! Bot gửi tin mới theo chủ đề hoặc truy vấn bạn đăng ký.\n\n" + HELP
SUB_USAGE = "Cách dùng: <code>/sub &lt;chủ đề hoặc truy vấn&gt;</code>. Xem chủ đề bằng /topics."
UNSUB_USAGE = "Cách dùng: <code>/unsub &lt;chủ đề, truy vấn hoặc số thứ tự trong /list&gt;</code>."
PREVIEW_USAGE = "Cách dùng: <code>/preview on</code> hoặc <code>/preview off</code>."
UNKNOWN_COMMAND = "Lệnh không rõ. Gõ /help để xem các lệnh."
APOLOGY = "Xin lỗi, đã có lỗi xảy ra. Vui lòng thử lại sau."
NOT_GROUP_ADMIN = "Chỉ quản trị viên của nhóm mới thay đổi được đăng ký."
NOT_BOT_ADMIN = "Chỉ quản trị viên của bot mới quản lý được đăng ký cho kênh."
NO_TOPICS = "Chưa có chủ đề nào."
QUERY_TOO_LONG = "Truy vấn quá dài (tối đa {limit} ký tự)."
ARG_TOO_LONG = "Lệnh quá dài (tối đa {limit} ký tự sau tên lệnh)."
ARG_CONTROL_CHARS = "Lệnh có ký tự điều khiển không dùng được. Hãy gõ lại bằng chữ thường."
TOO_MANY = "Đã đạt giới hạn {limit} đăng ký. Huỷ bớt bằng /unsub."
# Telegram's limit is 4096 UTF-16 units of visible text; the HTML source is always longer than the
# visible text and Vietnamese stays in the BMP, so capping the source length is safe.
MAX_REPLY = 3900
MAX_SHOWN_QUERY = 120


def fit(lines: list[str]) -> str:
    """Join ``lines``, dropping the tail (with a count) to stay within Telegram's length limit."""
    out: list[str] = []
    size = 0
    for i, line in enumerate(lines):
        if size + len(line) + 1 > MAX_REPLY - 40:
            out.append(f"… và {len(lines) - i} mục khác")
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)


def where(label: str | None) -> str:
    """`` cho kênh @x`` when acting on a channel from a private chat, else nothing."""
    return f" cho {escape(label)}" if label else ""


def subscribed(what: str, label: str | None) -> str:
    return f"Đã đăng ký{where(label)}: {what}"


def already_subscribed(what: str, label: str | None) -> str:
    return f"Đã đăng ký rồi{where(label)}: {what}"


def unsubscribed(what: str, label: str | None) -> str:
    return f"Đã huỷ đăng ký{where(label)}: {what}"


def shown(text: str, limit: int = MAX_SHOWN_QUERY) -> str:
    """What a reply may echo of user input: at most ``limit`` characters, HTML-escaped."""
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


def not_subscribed(arg: str) -> str:
    return f"Không có đăng ký <code>{shown(arg)}</code>. Xem /list."


def topic_label(topic: Topic) -> str:
    return f"<b>{escape(topic.title)}</b> (<code>{escape(topic.slug)}</code>)"


def query_label(query: str) -> str:
    return f"truy vấn <code>{escape(query)}</code>"


def topic_disabled(slug: str) -> str:
    return f"Chủ đề <code>{shown(slug)}</code> đang tạm ngưng. Xem /topics."


def invalid_query(query: str, error: str) -> str:
    return (
        f"Truy vấn không hợp lệ: <code>{escape(query)}</code>\n{escape(error)}\n"
        "Chủ đề có sẵn: /topics. Cụm từ nhiều chữ đặt trong ngoặc kép."
    )


def topics(items: list[Topic]) -> str:
    if not items:
        return NO_TOPICS
    lines = ["<b>Chủ đề</b> (đăng ký: <code>/sub &lt;mã&gt;</code>)"]
    for t in items:
        line = f"• <code>{escape(t.slug)}</code> — <b>{escape(t.title)}</b>"
        if t.description:
            line += f": {escape(t.description)}"
        lines.append(line)
    return fit(lines)


def subscription_list(
    subs: list[Subscription], paused: bool, disabled: str | None, label: str | None
) -> str:
    head = f"<b>Đăng ký{where(label)}</b>"
    if paused:
        head += " — ⏸ đang tạm dừng (/resume để bật lại)"
    if disabled:
        head += f"\n⚠ Đã tắt: {escape(disabled)}"
    if not subs:
        return f"{head}\nChưa có đăng ký nào. Xem /topics, rồi /sub."
    lines = [head]
    for i, sub in enumerate(subs, 1):
        if sub.topic_slug is not None:
            title = escape(sub.topic_title or sub.topic_slug)
            lines.append(f"{i}. <b>{title}</b> (<code>{escape(sub.topic_slug)}</code>)")
        else:
            query = sub.query or ""
            if len(query) > MAX_SHOWN_QUERY:
                query = query[: MAX_SHOWN_QUERY - 1] + "…"
            lines.append(f"{i}. {query_label(query)}")
    return fit(lines)


def link_preview(on: bool, label: str | None) -> str:
    return f"Xem trước liên kết: {'bật' if on else 'tắt'}{where(label)}."


def paused(now_paused: bool, changed: bool, label: str | None) -> str:
    if now_paused:
        state = "Đã tạm dừng" if changed else "Đang tạm dừng rồi"
        return f"{state} thông báo{where(label)}. Gõ /resume để bật lại."
    state = "Đã bật lại" if changed else "Thông báo vẫn đang bật"
    return f"{state}{where(label)}."


def channel_not_found(ref: str) -> str:
    return f"Không tìm thấy kênh {escape(ref)}. Bot phải được thêm vào kênh làm quản trị viên."


def not_a_channel(ref: str) -> str:
    return f"{escape(ref)} không phải là kênh."


def sender_not_channel_admin(ref: str) -> str:
    return f"Bạn không phải quản trị viên của kênh {escape(ref)}."


def bot_not_channel_admin(ref: str) -> str:
    return f"Bot chưa là quản trị viên của kênh {escape(ref)}. Hãy thêm bot làm quản trị viên."
