"""Strings of the channels other than Telegram (issue 14): the Zalo bot (``bot.zalo_*``, written
like the other ``bot.*`` entries in Telegram HTML and turned into plain text for Zalo) and the
admin's channel words (``channel.*``)."""

from __future__ import annotations

_ZALO_HELP_VI = (
    "<b>Các lệnh</b>\n"
    "/topics — danh sách chủ đề\n"
    "/sub &lt;chủ đề hoặc truy vấn&gt; — đăng ký\n"
    "/unsub &lt;chủ đề, truy vấn hoặc số thứ tự&gt; — huỷ đăng ký\n"
    "/list — các đăng ký hiện có\n"
    "/pause, /resume — tạm dừng / bật lại thông báo\n"
    "/digest off|hourly|HH:MM — nhận tin gộp; /quiet HH:MM-HH:MM|off — giờ yên lặng; "
    "/settings — cài đặt hiện tại\n"
    'Ví dụ: /sub kien-thuy hoặc /sub "công an" OR "an ninh"'
)
_ZALO_HELP_EN = (
    "<b>Commands</b>\n"
    "/topics — the list of topics\n"
    "/sub &lt;topic or query&gt; — subscribe\n"
    "/unsub &lt;topic, query or number&gt; — unsubscribe\n"
    "/list — your subscriptions\n"
    "/pause, /resume — pause / resume alerts\n"
    "/digest off|hourly|HH:MM — digests; /quiet HH:MM-HH:MM|off — quiet hours; "
    "/settings — the current settings\n"
    'Examples: /sub kien-thuy or /sub "công an" OR "an ninh"'
)

MESSAGES: dict[str, tuple[str, str]] = {
    "bot.zalo_help": (_ZALO_HELP_VI, _ZALO_HELP_EN),
    "bot.zalo_private_only": (
        "Trong nhóm Zalo chỉ dùng được /help, /topics, /list và /settings; hãy đăng ký và "
        "thay đổi cài đặt trong chat riêng với bot.",
        "In a Zalo group only /help, /topics, /list and /settings work; subscribe and change "
        "settings in a private chat with the bot.",
    ),
    # a Telegram command the Zalo bot has not (channels.zalo.bot.TELEGRAM_ONLY), any argument
    "bot.zalo_no_silent": (
        "Zalo không có tin báo im lặng (không chuông): lệnh /silent chỉ dùng được trên Telegram. "
        "Trên Zalo, dùng /quiet HH:MM-HH:MM để giữ tin trong giờ yên lặng (nhận một tin gộp khi "
        "hết giờ), hoặc /digest để nhận tin gộp vào giờ đã chọn. Gõ /help để xem các lệnh.",
        "Zalo has no silent alerts: /silent works on Telegram only. On Zalo, use /quiet "
        "HH:MM-HH:MM to hold alerts during quiet hours (one digest when they end), or /digest "
        "to get digests at the times you choose. Type /help to see the commands.",
    ),
    "bot.zalo_no_preview": (
        "Lệnh /preview (xem trước liên kết dưới tin) chỉ dùng được trên Telegram: bot Zalo gửi "
        "tin dạng văn bản, không bật/tắt được phần xem trước. Gõ /help để xem các lệnh.",
        "/preview (link previews under alerts) works on Telegram only: the Zalo bot sends plain "
        "text, with no link-preview switch. Type /help to see the commands.",
    ),
    # a Zalo group's /topics and /list: /sub, /resume are refused there (tester4 G3)
    "bot.zalo_group_topics_head": (
        "<b>Chủ đề</b> (đăng ký trong chat riêng với bot: <code>/sub &lt;mã&gt;</code>)",
        "<b>Topics</b> (subscribe in a private chat with the bot: <code>/sub &lt;slug&gt;</code>)",
    ),
    "bot.zalo_group_list_paused": (" — ⏸ đang tạm dừng", " — ⏸ paused"),
    "bot.zalo_group_list_empty": (
        "Nhóm chưa có đăng ký nào. Đăng ký được trong chat riêng với bot: xem /topics, rồi /sub.",
        "This group has no subscriptions. Subscribing works in a private chat with the bot: "
        "see /topics, then /sub.",
    ),
    "channel.zalo": ("Zalo", "Zalo"),
    # a recipient as a page's words name it (Translator.recipient: the admin's rows, headings,
    # flashes and refusals, the API's `message`), the channel a proper noun in both languages;
    # the address is feedsvc.recipient_names' (an Apprise URL masked). Logs and the CLI keep
    # the operators' "telegram chat 1001" (recipient_names.RecipientName)
    "recipient.telegram": ("chat Telegram {address}", "Telegram chat {address}"),
    "recipient.zalo": ("chat Zalo {address}", "Zalo chat {address}"),
    "recipient.apprise": ("Apprise {address}", "Apprise {address}"),
    "chat_type.destination": ("đích Apprise", "Apprise destination"),
    # recipients named by an admin (feedsvc.channels.recipients)
    "op.channel_invalid": (
        "Kênh phải là telegram, zalo hoặc apprise.",
        "The channel must be telegram, zalo or apprise.",
    ),
    "op.chat_id_required": (
        "Cần có mã cuộc trò chuyện Telegram.",
        "A Telegram chat id is required.",
    ),
    "op.address_required": ("Cần có địa chỉ người nhận.", "A recipient address is required."),
    "op.address_invalid": (
        "Địa chỉ người nhận không hợp lệ cho kênh này.",
        "The recipient address is not valid for this channel.",
    ),
    "op.chat_id_not_telegram": (
        "chat_id chỉ dùng cho kênh Telegram; kênh này nhận địa chỉ người nhận (address).",
        "chat_id is for the Telegram channel; this channel takes a recipient address.",
    ),
    "op.address_conflict": (
        "Hãy cho mã cuộc trò chuyện hoặc địa chỉ, không phải hai người nhận khác nhau.",
        "Give the chat id or the address, not two different recipients.",
    ),
    "op.address_length": (
        "Địa chỉ phải có từ 1 đến 2.000 ký tự.",
        "The address must be 1 to 2,000 characters.",
    ),
    # an Apprise URL a service takes while ignoring part of it (channels.apprise_urls); {detail}
    # is Apprise's own warning, every piece of the URL in it replaced by ***
    "op.address_part_ignored": (
        "Apprise bỏ qua một phần của URL này vì cho là không hợp lệ ({detail}): tin sẽ không đến"
        " được đó. Hãy sửa phần đó (chủ đề ntfy hay địa chỉ e-mail người nhận không nhận chữ"
        " có dấu hoặc ngoài ASCII).",
        "Apprise ignores part of this URL as invalid ({detail}): alerts would not reach it."
        " Correct that part (an ntfy topic or an e-mail recipient takes no letters outside"
        " ASCII).",
    ),
    # a part of an Apprise URL its service sends in an HTTP header no header can carry
    # (channels.apprise_urls.header_problem); {detail} is the option's name, never its value
    "op.address_header_invalid": (
        "Apprise gửi phần {detail} của URL này trong một header HTTP, mà header không mang được"
        " nó: tin sẽ không đến được đó. Tên header chỉ gồm chữ cái không dấu, chữ số và"
        " - _ . ; giá trị header, tên người dùng, mật khẩu và token chỉ nhận chữ Latin-1"
        " (é thì được, ả thì không).",
        "Apprise sends the {detail} part of this URL in an HTTP header, which cannot carry it:"
        " alerts would not reach it. A header name takes only ASCII letters, digits and - _ .;"
        " a header value, user name, password or token only Latin-1 letters (é is fine, ả is"
        " not).",
    ),
    "channel.apprise": ("Apprise", "Apprise"),
    "channel_off_warning": (
        "Kênh {channel} chưa được cấu hình ({setting} chưa đặt): người nhận của kênh này không "
        "nhận được gì, tin gửi cho họ kết thúc ở trạng thái lỗi cho đến khi cấu hình xong.",
        "The {channel} channel is not configured ({setting} is not set): its recipients get "
        "nothing, and their alerts end as failed, until it is.",
    ),
    "channel.all": ("Mọi kênh", "All channels"),
    "apprise.add_title": ("Thêm đích Apprise", "Add an Apprise destination"),
    "apprise.url": ("URL Apprise", "Apprise URL"),
    "apprise.url_again": (
        "Vì lý do bảo mật, URL Apprise không được gửi lại trong trang; hãy nhập lại URL.",
        "For security the Apprise URL is not sent back in the page; enter the URL again.",
    ),
    "apprise.url_help": (
        "Discord, Slack, Matrix, Mattermost, Teams, ntfy, e-mail, webhook… Ví dụ: "
        "discord://webhook_id/webhook_token. URL chứa thông tin đăng nhập: chỉ hiển thị dạng che.",
        "Discord, Slack, Matrix, Mattermost, Teams, ntfy, e-mail, webhooks… e.g. "
        "discord://webhook_id/webhook_token. The URL holds credentials: it is only shown masked.",
    ),
    "apprise.add": ("Thêm", "Add"),
    "apprise.topic": ("Chủ đề", "Topic"),
    "apprise.added": ("Đã thêm đích {address}.", "Added destination {address}."),
    "apprise.already": (
        "Đích {address} đã đăng ký mục này từ trước.",
        "Destination {address} already had this subscription.",
    ),
    "channel.label": ("Kênh", "Channel"),
}
