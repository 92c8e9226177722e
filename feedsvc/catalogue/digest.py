"""Digests, quiet hours, silent alerts, buttons and forum threads (issue 15; keys ``digest.*``).

Strings that go into Telegram HTML are escaped by their caller; ``digest.error.*`` word a
:class:`feedsvc.digest.SettingError` from its code (bot replies, the API's message, the admin).
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # the digest message and the alert buttons
    # DigestWords: heading_one (a digest of 1 article), heading (any other count)
    "digest.heading.one": ("Tin tổng hợp · {count} tin", "Digest · {count} article"),
    "digest.heading.other": ("Tin tổng hợp · {count} tin", "Digest · {count} articles"),
    "digest.read_all": ("Đọc tất cả", "Read all"),
    "digest.continued": ("(tiếp)", "(continued)"),
    # after the first line of each part of a digest sent in several messages
    "digest.part": ("({part}/{parts})", "({part}/{parts})"),
    "digest.button.read": ("Đọc bài", "Read"),
    "digest.button.mute": ("🔕 Tắt {topic}", "🔕 Mute {topic}"),
    "digest.button.undo": ("↩ Bật lại {topic}", "↩ Undo: follow {topic} again"),
    "digest.notice.thread_gone": (
        "ℹ️ Chủ đề diễn đàn nhận tin này đã bị xoá; từ nay tin được gửi vào đây.",
        "ℹ️ The forum topic these alerts went to was deleted; they come here from now on.",
    ),
    # answers to the mute / undo buttons (callback query answers: plain text)
    "digest.muted": ("Đã tắt {topic}. Bấm “Bật lại” để hoàn tác.", "Muted {topic}. Tap Undo."),
    "digest.unmuted": ("Đã bật lại {topic}.", "Following {topic} again."),
    "digest.mute_gone": ("Chủ đề này không còn nữa.", "This topic no longer exists."),
    "digest.mute_denied": (
        "Chỉ quản trị viên mới thay đổi được đăng ký.",
        "Only admins can change the subscriptions.",
    ),
    # settings as shown (/settings, the admin's chat page)
    "digest.mode.off": ("gửi ngay từng tin", "each alert at once"),
    "digest.mode.hourly": ("mỗi giờ một bản tổng hợp", "an hourly digest"),
    "digest.mode.times": ("bản tổng hợp lúc {times}", "a digest at {times}"),
    "digest.quiet.off": ("không có giờ yên lặng", "no quiet hours"),
    "digest.quiet.window": ("yên lặng {window}", "quiet {window}"),
    "digest.silent.on": ("không chuông", "without sound"),
    "digest.silent.off": ("có chuông", "with sound"),
    # setting errors, by code (feedsvc.digest.settings)
    "digest.error.digest_empty": (
        "Hãy chọn off, hourly hoặc giờ dạng HH:MM.",
        "Give off, hourly or times as HH:MM.",
    ),
    "digest.error.digest_ambiguous": (
        "“{value}” là mỗi giờ hay lúc 01:00? Hãy gõ hourly (mỗi giờ) hoặc 01:00.",
        "Does “{value}” mean hourly or 01:00? Give hourly or 01:00.",
    ),
    "digest.error.bad_time": (
        "“{value}” không phải giờ hợp lệ (ví dụ 07:30, 19h, 7h tối).",
        "“{value}” is not a time of day (e.g. 07:30, 19:00, 7pm).",
    ),
    "digest.error.time_contradicts": (
        "“{value}” mâu thuẫn: “{word}” chỉ đi với {hours} giờ. Hãy gõ giờ dạng 24 giờ (ví dụ"
        " 19:00) hoặc sửa lại buổi.",
        "“{value}” contradicts itself: “{word}” goes with the hours {hours} only. Give a"
        " 24-hour time (e.g. 19:00) or the right part of the day.",
    ),
    "digest.error.time_ambiguous": (
        "“{value}” là 12 giờ trưa hay nửa đêm? Hãy gõ 12h trưa (12:00) hoặc 12h đêm (00:00).",
        "Does “{value}” mean noon or midnight? Give 12:00 (12 noon) or 00:00 (12 midnight).",
    ),
    "digest.error.word_scope": (
        "“{value}”: không rõ buổi nào đi với giờ nào. Hãy ghi buổi cạnh từng giờ (ví dụ 7h"
        " sáng, 8h tối).",
        "“{value}”: which part of the day goes with which time is unclear. Put the part of the"
        " day next to each time (e.g. 7am, 8pm).",
    ),
    "digest.error.word_across_list": (
        "“{value}”: “{word}” có đi cả với “{time}” không? Hãy ghi buổi cạnh từng giờ, ví dụ"
        " 7h tối, 8h tối (hoặc 7h tối, 8h sáng).",
        "“{value}”: does “{word}” go with “{time}” too? Write the part of the day with each"
        " time, e.g. 7h tối, 8h tối (or 7h tối, 8h sáng).",
    ),
    "digest.error.window_scope": (
        "“{value}” là {first} hay {second}? Hãy ghi buổi cạnh cả hai giờ (ví dụ 10h tối - 6h"
        " sáng) hoặc gõ giờ dạng 24 giờ (ví dụ 22:00-06:00).",
        "Does “{value}” mean {first} or {second}? Write the part of the day with both times"
        " (e.g. 10pm - 6am) or give 24-hour times (e.g. 22:00-06:00).",
    ),
    "digest.error.minus_range": (
        "“{value}”: “kém” đi với 1 đến 59 phút (ví dụ 7h kém 15 là 06:45).",
        "“{value}”: “kém” (minutes to the hour) takes 1 to 59 minutes (7h kém 15 is 06:45).",
    ),
    "digest.error.minus_midnight": (
        "“{value}” là {time} của ngày hôm trước: hãy gõ {time}.",
        "“{value}” is {time} of the day before: give {time}.",
    ),
    "digest.error.time_day": (
        "Giờ đặt ở đây lặp lại mỗi ngày, không cần “{value}”: hãy gõ chỉ giờ (ví dụ 7h sáng).",
        "These times repeat every day, without “{value}”: give the time only (e.g. 7am).",
    ),
    "digest.error.digest_too_many": (
        "Tối đa {limit} bản tổng hợp mỗi ngày.",
        "At most {limit} digests a day.",
    ),
    "digest.error.quiet_format": (
        "Giờ yên lặng có dạng HH:MM-HH:MM (ví dụ 22:00-06:00) hoặc off.",
        "Quiet hours look like HH:MM-HH:MM (e.g. 22:00-06:00) or off.",
    ),
    "digest.error.quiet_empty": (
        "Giờ bắt đầu và kết thúc trùng nhau (00:00-24:00 là cả ngày): giờ yên lặng phải ngắn"
        " hơn một ngày. Muốn ngừng nhận tin một thời gian, hãy tạm dừng chat này.",
        "The start and the end are the same time (00:00-24:00 is the whole day): quiet hours"
        " must be shorter than a day. To stop alerts for a while, pause this chat.",
    ),
    "digest.error.too_long": (
        "Giá trị dài quá {limit} ký tự.",
        "The value is longer than {limit} characters.",
    ),
    # a character no text field takes (feedsvc.fieldtext.control_char), as "op.*" words it
    "digest.error.control_character": (
        "Giá trị có ký tự điều khiển ({char}); hãy xoá nó.",
        "The value contains a control character ({char}); remove it.",
    ),
    "digest.error.not_text": (
        "Giá trị có ký tự không phải văn bản ({char}, nửa cặp UTF-16); hãy xoá nó.",
        "The value contains a character that is not text ({char}, a lone surrogate); remove it.",
    ),
    "digest.error.switch_format": ("Hãy chọn on hoặc off.", "Give on or off."),
    # the admin's chat page (web/admin_chats.py; templates/chat.html)
    "chat_delivery": ("Cách nhận tin", "How alerts arrive"),
    "chat_held.one": ("{count} tin đang chờ bản tổng hợp", "{count} alert held for a digest"),
    "chat_held.other": ("{count} tin đang chờ bản tổng hợp", "{count} alerts held for a digest"),
    "chat_digest": ("Bản tin tổng hợp", "Digest"),
    # an empty box is off here (web/admin_chats.py); the API refuses "" and takes null for off
    "chat_digest_help": (
        "off (gửi ngay từng tin), hourly (mỗi giờ) hoặc tối đa 4 giờ dạng 07:30,18:00 "
        "hay 7h sáng, 6h chiều (giờ địa phương). Để trống là off.",
        "off (each alert at once), hourly, or up to 4 local times such as 07:30,18:00 or 7am, "
        "6pm. Left empty, it is off.",
    ),
    "chat_quiet": ("Giờ yên lặng", "Quiet hours"),
    "chat_quiet_help": (
        "HH:MM-HH:MM (có thể qua nửa đêm, ví dụ 22:00-06:00 hay 10h tối-6h sáng) hoặc off."
        " Tin trong giờ này được gửi thành một bản tổng hợp khi hết giờ. Để trống là off.",
        "HH:MM-HH:MM (may cross midnight, e.g. 22:00-06:00 or 10pm-6am) or off. Alerts"
        " inside go out as one digest when it ends. Left empty, it is off.",
    ),
    "chat_silent": ("Tin không chuông", "Alerts without sound"),
    "chat_saved": ("Đã lưu cách nhận tin của {chat}.", "Saved how {chat} gets alerts."),
    "chat_settings": ("Thiết lập", "Settings"),
    # a Save from a page opened before the options changed (digest.options.ChatChangedMeanwhile);
    # {fields}: the boxes' labels
    "chat_changed_meanwhile": (
        "Cách nhận tin của {chat} đã được đổi kể từ khi bạn mở trang này (trong chat, qua"
        " API hoặc ở trang quản trị khác), đã đổi: {fields}; chưa lưu gì.",
        "How {chat} gets alerts was changed since you opened this page (in the chat,"
        " through the API or in another admin page), changed: {fields}; nothing was saved.",
    ),
    "chat_version_missing": (
        "Biểu mẫu không có trường version (phiên bản cách nhận tin của {chat}): có thể"
        " trang được mở từ trước khi cập nhật feedsvc. Chưa lưu gì.",
        "The form has no version field (the version of how {chat} gets alerts): the page"
        " may have been opened before feedsvc was updated. Nothing was saved.",
    ),
    "chat_changed_meanwhile_hint": (
        "Nội dung bạn gõ vẫn ở dưới đây, giá trị đang lưu ở bên dưới thông báo này: xem lại"
        " rồi bấm Lưu để ghi đè, hoặc mở lại trang để bỏ những gì đã gõ.",
        "What you typed is below, the stored values under this message: review them, then"
        " Save overwrites them, or open the page again to drop what you typed.",
    ),
    # PATCH /api/chats/{chat_id} with an If-Match the stored options no longer meet (412)
    "api.chat_changed_meanwhile": (
        "Cách nhận tin của {chat} đã được đổi kể từ phiên bản trong If-Match, đã đổi:"
        " {fields}; chưa lưu gì. Hãy GET lại rồi gửi thay đổi với version mới.",
        "How {chat} gets alerts was changed since the version in If-Match, changed:"
        " {fields}; nothing was saved. GET it again, then send the change with the new version.",
    ),
}

# The JSON API words a refused setting from the same entries (code ``setting_<code>``).
MESSAGES.update(
    {
        f"api.setting_{key.removeprefix('digest.error.')}": words
        for key, words in list(MESSAGES.items())
        if key.startswith("digest.error.")
    }
)
