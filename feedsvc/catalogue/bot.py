"""What the bot says (keys ``bot.*``): Telegram HTML, so parameters are escaped by the caller
(:mod:`feedsvc.bot.texts`) and only Telegram's tags appear here."""

from __future__ import annotations

_HELP_VI = (
    "<b>Các lệnh</b>\n"
    "/topics — danh sách chủ đề\n"
    "/sub &lt;chủ đề hoặc truy vấn&gt; — đăng ký\n"
    "/unsub &lt;chủ đề, truy vấn hoặc số thứ tự&gt; — huỷ đăng ký\n"
    "/list — các đăng ký hiện có\n"
    "/pause, /resume — tạm dừng / bật lại thông báo\n"
    "/preview on|off — bật / tắt xem trước liên kết dưới mỗi tin\n"
    "/digest off|hourly|HH:MM[,HH:MM…] — gửi ngay, mỗi giờ, hoặc bản tổng hợp lúc đó (tối đa 4)\n"
    "/quiet HH:MM-HH:MM|off — giờ yên lặng: giữ tin, gửi một bản tổng hợp khi hết giờ\n"
    "/silent on|off — tin không chuông\n"
    "/settings — xem các thiết lập trên\n"
    "Trong nhóm có chủ đề (forum), gõ /sub trong một chủ đề để nhận tin ở đó.\n"
    "Ví dụ: <code>/sub the-thao</code> hoặc "
    '<code>/sub "công an" OR "an ninh"</code>\n'
    "Kênh (chỉ quản trị viên, trong chat riêng với bot): "
    "<code>/sub @tenkenh &lt;chủ đề hoặc truy vấn&gt;</code>, /unsub, /list, /pause, /resume"
)
_HELP_EN = (
    "<b>Commands</b>\n"
    "/topics — the list of topics\n"
    "/sub &lt;topic or query&gt; — subscribe\n"
    "/unsub &lt;topic, query or number&gt; — unsubscribe\n"
    "/list — your subscriptions\n"
    "/pause, /resume — pause / resume alerts\n"
    "/preview on|off — link previews under each alert on / off\n"
    "/digest off|hourly|HH:MM[,HH:MM…] — each alert at once, hourly, or a digest then (up to 4)\n"
    "/quiet HH:MM-HH:MM|off — quiet hours: alerts held, one digest when they end\n"
    "/silent on|off — alerts without sound\n"
    "/settings — show these settings\n"
    "In a forum group, send /sub inside a topic to get its alerts there.\n"
    "Examples: <code>/sub the-thao</code> or "
    '<code>/sub "công an" OR "an ninh"</code>\n'
    "Channels (admins only, in a private chat with the bot): "
    "<code>/sub @channelname &lt;topic or query&gt;</code>, /unsub, /list, /pause, /resume"
)

MESSAGES: dict[str, tuple[str, str]] = {
    # what a sent alert is edited to when its article is withdrawn or hidden (SPEC §10)
    "bot.alert_withdrawn": (
        "<i>Tin này đã được gỡ bỏ.</i>",
        "<i>This article has been withdrawn.</i>",
    ),
    # ... when its article was moved to a later publication time (published too early)
    "bot.alert_rescheduled": (
        "<i>Tin này đã được dời lịch đăng.</i>",
        "<i>This article has been rescheduled.</i>",
    ),
    # the command menu (setMyCommands)
    "bot.cmd.start": ("Bắt đầu", "Start"),
    "bot.cmd.help": ("Hướng dẫn", "Help"),
    "bot.cmd.topics": ("Danh sách chủ đề", "List topics"),
    "bot.cmd.sub": ("Đăng ký chủ đề hoặc truy vấn", "Subscribe to a topic or a query"),
    "bot.cmd.unsub": ("Huỷ đăng ký", "Unsubscribe"),
    "bot.cmd.list": ("Các đăng ký hiện có", "Your subscriptions"),
    "bot.cmd.pause": ("Tạm dừng thông báo", "Pause alerts"),
    "bot.cmd.resume": ("Bật lại thông báo", "Resume alerts"),
    "bot.cmd.preview": ("Bật/tắt xem trước liên kết", "Link previews on/off"),
    "bot.cmd.digest": ("Bản tin tổng hợp: off, hourly, HH:MM", "Digest: off, hourly, HH:MM"),
    "bot.cmd.quiet": ("Giờ yên lặng HH:MM-HH:MM hoặc off", "Quiet hours HH:MM-HH:MM or off"),
    "bot.cmd.silent": ("Tin không chuông: on/off", "Alerts without sound: on/off"),
    "bot.cmd.settings": ("Xem thiết lập nhận tin", "Show delivery settings"),
    # replies
    "bot.help": (_HELP_VI, _HELP_EN),
    "bot.start": (
        "Xin chào! Bot gửi tin mới theo chủ đề hoặc truy vấn bạn đăng ký.",
        "Hello! This bot sends new articles on the topics or queries you subscribe to.",
    ),
    "bot.start_unknown_topic": (
        "Không tìm thấy chủ đề <code>{slug}</code> (có thể đã đổi tên hoặc bị xoá). "
        "Xem các chủ đề đang có bằng /topics.",
        "There is no topic <code>{slug}</code> (it may have been renamed or removed). "
        "See the topics there are with /topics.",
    ),
    "bot.sub_usage": (
        "Cách dùng: <code>/sub &lt;chủ đề hoặc truy vấn&gt;</code>. Xem chủ đề bằng /topics.",
        "Usage: <code>/sub &lt;topic or query&gt;</code>. See the topics with /topics.",
    ),
    "bot.unsub_usage": (
        "Cách dùng: <code>/unsub &lt;chủ đề, truy vấn hoặc số thứ tự trong /list&gt;</code>.",
        "Usage: <code>/unsub &lt;topic, query or its number in /list&gt;</code>.",
    ),
    "bot.preview_usage": (
        "Cách dùng: <code>/preview on</code> hoặc <code>/preview off</code>.",
        "Usage: <code>/preview on</code> or <code>/preview off</code>.",
    ),
    "bot.digest_usage": (
        "Cách dùng: <code>/digest off</code>, <code>/digest hourly</code> hoặc "
        "<code>/digest 07:30,18:00</code> hay <code>/digest 7h sáng, 6h chiều</code> "
        "(tối đa 4 giờ mỗi ngày, giờ địa phương).",
        "Usage: <code>/digest off</code>, <code>/digest hourly</code> or "
        "<code>/digest 07:30,18:00</code> or <code>/digest 7am, 6pm</code> "
        "(up to 4 times a day, local time).",
    ),
    "bot.quiet_usage": (
        "Cách dùng: <code>/quiet 22:00-06:00</code> (hay <code>/quiet 10h tối-6h sáng</code>) "
        "hoặc <code>/quiet off</code>.",
        "Usage: <code>/quiet 22:00-06:00</code> (or <code>/quiet 10pm-6am</code>) or "
        "<code>/quiet off</code>.",
    ),
    "bot.silent_usage": (
        "Cách dùng: <code>/silent on</code> hoặc <code>/silent off</code>.",
        "Usage: <code>/silent on</code> or <code>/silent off</code>.",
    ),
    "bot.option_invalid": ("{error}\n{usage}", "{error}\n{usage}"),
    "bot.option_saved": ("Đã lưu{where}.", "Saved{where}."),
    "bot.settings_head": ("<b>Cách nhận tin{where}</b>", "<b>How alerts arrive{where}</b>"),
    "bot.edited_command": (
        "Bot không chạy lại lệnh đã sửa. Hãy gửi lại <code>{command}</code> thành tin nhắn mới.",
        "Edited commands are not run again. Send <code>{command}</code> again as a new message.",
    ),
    "bot.unknown_command": (
        "Lệnh không rõ. Gõ /help để xem các lệnh.",
        "Unknown command. Type /help to see the commands.",
    ),
    "bot.apology": (
        "Xin lỗi, đã có lỗi xảy ra. Vui lòng thử lại sau.",
        "Sorry, something went wrong. Please try again later.",
    ),
    "bot.not_group_admin": (
        "Chỉ quản trị viên của nhóm mới thay đổi được đăng ký.",
        "Only the group's admins can change its subscriptions.",
    ),
    "bot.not_bot_admin": (
        "Chỉ quản trị viên của bot mới quản lý được đăng ký cho kênh.",
        "Only the bot's admins can manage a channel's subscriptions.",
    ),
    # "@name" from someone not in telegram.admins: most likely a reader naming a topic
    "bot.not_topic_nor_channel": (
        "Không có chủ đề {ref}. Các chủ đề có sẵn: /topics. (Nếu {ref} là một kênh: chỉ quản "
        "trị viên của bot mới quản lý được đăng ký cho kênh.)",
        "There is no topic {ref}. The topics available: /topics. (If {ref} is a channel: only "
        "the bot's admins can manage a channel's subscriptions.)",
    ),
    "bot.no_topic_no_channel": (
        "Không có chủ đề {ref} (xem /topics), và không tìm thấy kênh {ref}: bot phải được thêm "
        "vào kênh làm quản trị viên.",
        "There is no topic {ref} (see /topics), and no channel {ref} was found: the bot must be "
        "added to the channel as an admin.",
    ),
    "bot.query_is_topic": (
        "Truy vấn {query} chính là truy vấn của chủ đề {topic}, nên được đăng ký theo chủ đề.",
        "The query {query} is the topic {topic}'s own query, so it is subscribed as the topic.",
    ),
    # hints after /sub of a query that parses but will rarely match as typed (query_hints)
    "bot.hint_operator_word": (
        "Lưu ý: “{word}” (ký tự {position}) là một từ bài viết phải có; muốn dùng toán tử thì"
        " viết {operator} (chữ hoa).",
        "Note: “{word}” (character {position}) is a word the articles must contain; for the"
        " operator, write {operator} (capitals).",
    ),
    # said of a right unmarked query too (an ninh): it says there is then nothing to change,
    # and that ~ matches every marked form (ăn, ẩn…), not only the one meant (a verifier's)
    "bot.hint_no_marks": (
        "Lưu ý: tìm kiếm phân biệt dấu, nên {query} chỉ khớp chữ viết không dấu (từ vốn không"
        " dấu thì không cần đổi). Muốn tìm chữ có dấu, hãy gõ có dấu (ví dụ Kiến Thụy); ~ trước"
        " một từ khớp nó với mọi dấu: {folded}",
        "Note: matching is accent-sensitive, so {query} only matches text written without"
        " Vietnamese marks (nothing to change for words that have none). For marked words,"
        " type the marks (e.g. Kiến Thụy); ~ before a word matches it with any marks: {folded}",
    ),
    "bot.no_topics": ("Chưa có chủ đề nào.", "There are no topics yet."),
    "bot.arg_too_long": (
        "Lệnh quá dài (tối đa {limit} ký tự sau tên lệnh).",
        "The command is too long (at most {limit} characters after its name).",
    ),
    "bot.arg_control_chars": (
        "Lệnh có ký tự điều khiển không dùng được. Hãy gõ lại bằng chữ thường.",
        "The command holds control characters that cannot be used. Please type it again.",
    ),
    "bot.too_many": (
        "Đã đạt giới hạn {limit} đăng ký. Huỷ bớt bằng /unsub.",
        "You have reached the limit of {limit} subscriptions. Remove some with /unsub.",
    ),
    "bot.too_many_for_user": (
        "Bạn đã tạo {limit} đăng ký (tính cả các nhóm và kênh), đó là mức tối đa. "
        "Huỷ bớt bằng /unsub.",
        "You have created {limit} subscriptions (groups and channels included), the most "
        "allowed. Remove some with /unsub.",
    ),
    "bot.rate_limited_user": (
        "Bạn gửi lệnh quá nhanh. Hãy thử lại sau {seconds} giây; từ giờ đến lúc đó bot sẽ "
        "không trả lời.",
        "You are sending commands too fast. Try again in {seconds} s; until then commands are "
        "ignored.",
    ),
    "bot.rate_limited_chat": (
        "Cuộc trò chuyện này gửi lệnh quá nhanh. Hãy thử lại sau {seconds} giây; từ giờ đến "
        "lúc đó bot sẽ không trả lời.",
        "This chat is sending commands too fast. Try again in {seconds} s; until then commands "
        "are ignored.",
    ),
    "bot.more_items": ("… và {count} mục khác", "… and {count} more"),
    "bot.for_target": (" cho {label}", " for {label}"),
    "bot.channel_label": ("kênh {name}", "channel {name}"),
    "bot.subscribed": ("Đã đăng ký{where}: {what}", "Subscribed{where}: {what}"),
    "bot.already_subscribed": (
        "Đã đăng ký rồi{where}: {what}",
        "Already subscribed{where}: {what}",
    ),
    # /sub again in another forum thread (or the General topic): the subscription moved there
    "bot.moved_to_thread": (
        "Đã đăng ký rồi: {what}. Từ nay tin được gửi vào chủ đề diễn đàn này, không còn vào "
        "chủ đề cũ.",
        "Already subscribed: {what}. Its alerts now come to this forum topic, no longer to the "
        "one before.",
    ),
    # /list in a forum group whose subscriptions go to topic threads: where each line's go
    "bot.list_thread_here": (" — vào chủ đề này", " — to this topic"),
    "bot.list_thread_general": (" — vào chủ đề chung (General)", " — to the General topic"),
    "bot.list_thread_other": (
        ' — vào <a href="{link}">một chủ đề khác</a>',
        ' — to <a href="{link}">another topic</a>',
    ),
    "bot.moved_to_general": (
        "Đã đăng ký rồi: {what}. Từ nay tin được gửi vào chủ đề chung (General) của nhóm, "
        "không còn vào chủ đề diễn đàn cũ.",
        "Already subscribed: {what}. Its alerts now come to the group's General topic, no "
        "longer to the forum topic before.",
    ),
    "bot.unsubscribed": ("Đã huỷ đăng ký{where}: {what}", "Unsubscribed{where}: {what}"),
    "bot.not_subscribed": (
        "Không có đăng ký <code>{arg}</code>. Xem /list.",
        "No subscription <code>{arg}</code>. See /list.",
    ),
    "bot.query_label": ("truy vấn <code>{query}</code>", "query <code>{query}</code>"),
    "bot.topic_disabled": (
        "Chủ đề <code>{slug}</code> đang tạm ngưng. Xem /topics.",
        "The topic <code>{slug}</code> is switched off. See /topics.",
    ),
    "bot.invalid_query": (
        "Truy vấn không hợp lệ: <code>{query}</code>\n{error}\n"
        "Chủ đề có sẵn: /topics. Cụm từ nhiều chữ đặt trong ngoặc kép.",
        "Invalid query: <code>{query}</code>\n{error}\n"
        "Ready-made topics: /topics. Put phrases of several words in double quotes.",
    ),
    "bot.at_position": ("(tại ký tự {position})", "(at character {position})"),
    "bot.topics_head": (
        "<b>Chủ đề</b> (đăng ký: <code>/sub &lt;mã&gt;</code>)",
        "<b>Topics</b> (subscribe: <code>/sub &lt;slug&gt;</code>)",
    ),
    "bot.list_head": ("<b>Đăng ký{where}</b>", "<b>Subscriptions{where}</b>"),
    "bot.list_paused": (
        " — ⏸ đang tạm dừng (/resume để bật lại)",
        " — ⏸ paused (/resume to resume)",
    ),
    "bot.list_disabled": ("⚠ Đã tắt: {reason}", "⚠ Switched off: {reason}"),
    "bot.list_empty": (
        "Chưa có đăng ký nào. Xem /topics, rồi /sub.",
        "No subscriptions yet. See /topics, then /sub.",
    ),
    "bot.link_preview_on": ("Xem trước liên kết: bật{where}.", "Link previews: on{where}."),
    "bot.link_preview_off": ("Xem trước liên kết: tắt{where}.", "Link previews: off{where}."),
    "bot.paused_now": (
        "Đã tạm dừng thông báo{where}. Gõ /resume để bật lại.",
        "Alerts paused{where}. Type /resume to resume them.",
    ),
    "bot.paused_already": (
        "Đang tạm dừng thông báo rồi{where}. Gõ /resume để bật lại.",
        "Alerts were already paused{where}. Type /resume to resume them.",
    ),
    "bot.resumed_now": ("Đã bật lại{where}.", "Alerts resumed{where}."),
    "bot.resumed_already": ("Thông báo vẫn đang bật{where}.", "Alerts are on already{where}."),
    "bot.channel_not_found": (
        "Không tìm thấy kênh {ref}. Bot phải được thêm vào kênh làm quản trị viên.",
        "Channel {ref} not found. The bot must be added to the channel as an admin.",
    ),
    "bot.not_a_channel": ("{ref} không phải là kênh.", "{ref} is not a channel."),
    "bot.sender_not_channel_admin": (
        "Bạn không phải quản trị viên của kênh {ref}.",
        "You are not an admin of the channel {ref}.",
    ),
    "bot.bot_not_channel_admin": (
        "Bot chưa là quản trị viên của kênh {ref}. Hãy thêm bot làm quản trị viên.",
        "The bot is not an admin of the channel {ref}. Add it as an admin.",
    ),
    # why a chat stopped receiving alerts (stored with the chat, shown in the admin)
}
