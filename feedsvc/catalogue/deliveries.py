"""What a delivery's error means (``delivery_error.*``), worded for the admin by outcome kind.

A delivery keeps the channel's own text as its ``error`` ("Forbidden: bot was blocked by the
user", "HTTP 404: the destination no longer exists"): the operators' evidence, in English
whatever the admin's language, and kept so. The admin shows, above it, what happened in its
own language: the outcome kind, which a finished delivery's state names (``blocked``,
``chat_not_found``, ``bad_content``, ``failed``: retries used up, ``unknown_outcome``: no answer
twice, ``disabled``, ``withdrawn``); a delivery still queued or sending with an error is one
whose last try failed and that will be tried again; a sent one with an error carries a note. As
for switch-off reasons (:mod:`.reasons`), a channel may word a kind its own way
(``delivery_error.<channel>.<state>``, and its state's label ``state.<channel>.<state>``): an
Apprise recipient is a destination, not a chat.
"""

from __future__ import annotations

from feedsvc.delivery_states import UNFINISHED

MESSAGES: dict[str, tuple[str, str]] = {
    "delivery_error.blocked": (
        "Kênh từ chối gửi vào cuộc trò chuyện này: bot bị chặn, bị mời ra hoặc không có quyền.",
        "The chat refuses the bot: it was blocked or removed, or has no right to post there.",
    ),
    "delivery_error.apprise.blocked": (
        "Điểm nhận từ chối thông báo (không được phép: thông tin đăng nhập bị từ chối).",
        "The destination refused the notification (not authorised: its credentials were refused).",
    ),
    "delivery_error.chat_not_found": (
        "Không tìm thấy cuộc trò chuyện: đã bị xoá, hoặc bot chưa từng ở trong đó.",
        "The chat was not found: it was deleted, or the bot was never in it.",
    ),
    "delivery_error.apprise.chat_not_found": (
        "Không tìm thấy điểm nhận: địa chỉ đã bị xoá hoặc không đúng.",
        "The destination was not found: its address was deleted or is wrong.",
    ),
    "delivery_error.bad_content": (
        "Kênh từ chối chính tin này (nội dung, định dạng hoặc độ dài); gửi lại y nguyên sẽ bị "
        "từ chối lần nữa.",
        "The channel refused this message itself (its content, format or length); sent again "
        "as it is, it would be refused again.",
    ),
    "delivery_error.failed": (
        "Không gửi được sau nhiều lần thử (lỗi mạng hoặc lỗi phía kênh).",
        "Not sent after repeated tries (network errors or the channel's own).",
    ),
    "delivery_error.unknown_outcome": (
        "Đã gửi nhưng không nhận được trả lời: tin có thể đã đến, nên không tự gửi lại.",
        "Sent without an answer: the message may have arrived, so it is not sent again by itself.",
    ),
    "delivery_error.disabled": (
        "Không gửi: người nhận đã bị tắt sau nhiều lần bị từ chối liên tiếp.",
        "Not sent: the recipient was switched off after repeated refusals.",
    ),
    "delivery_error.withdrawn": (
        "Không gửi: bài đã bị rút hoặc bị ẩn trước khi gửi.",
        "Not sent: the article was withdrawn or hidden before it went out.",
    ),
    "delivery_error.unsubscribed": (
        "Không gửi: người nhận không còn theo dõi chủ đề hay truy vấn khớp với bài.",
        "Not sent: the recipient no longer follows a topic or query the article matches.",
    ),
    "delivery_error.sent": ("Đã gửi, kèm ghi chú của kênh.", "Sent, with a note from the channel."),
    # an Apprise delivery's state, where Telegram's label names a chat and a bot
    "state.apprise.blocked": ("Điểm nhận từ chối", "Destination refused"),
    "state.apprise.chat_not_found": ("Không tìm thấy điểm nhận", "Destination not found"),
    "state.apprise.disabled": ("Điểm nhận đã tắt", "Destination switched off"),
    "delivery_error.retrying": (
        "Lần gửi trước chưa thành công; sẽ tự động thử lại.",
        "The last try did not go through; it will be tried again.",
    ),
    # why a queued alert waits (``retry_kind``, delivery_states.RETRY_KINDS); "Due" shows when
    "delivery_error.retrying.rate_limited": (
        "Kênh yêu cầu chờ (giới hạn tốc độ, 429): cuộc trò chuyện tạm dừng, tin sẽ gửi khi hết "
        "thời gian chờ.",
        "The channel asked to wait (rate limit, 429): the chat is paused; it will be sent when "
        "the wait is over.",
    ),
    # an Apprise destination's throttling: a 429, or a 503 with Retry-After (RFC 9110 §10.2.3)
    "delivery_error.apprise.retrying.rate_limited": (
        "Điểm nhận yêu cầu chờ (429, hoặc 503 kèm Retry-After): tạm ngừng gửi tới điểm nhận "
        "này, tin sẽ gửi khi hết thời gian chờ.",
        "The destination asked to wait (429, or 503 with Retry-After): sending to it is paused; "
        "this will be sent when the wait is over.",
    ),
    "delivery_error.retrying.transient": (
        "Lỗi mạng hoặc lỗi phía kênh; sẽ tự động thử lại, mỗi lần chờ lâu hơn.",
        "A network error or the channel's own; it will be tried again, waiting longer each time.",
    ),
    "delivery_error.retrying.unknown": (
        "Đã gửi nhưng không nhận được trả lời; sẽ gửi lại một lần, nên người nhận có thể nhận "
        "hai lần.",
        "Sent without an answer; it will be sent once more, so the recipient may get it twice.",
    ),
    "delivery_error.retrying.plain_text": (
        "Kênh không đọc được định dạng của tin; sẽ gửi lại dạng chữ thường.",
        "The channel could not read the message's formatting; it will be sent again as plain text.",
    ),
    "delivery_error.retrying.migrated": (
        "Nhóm đã được nâng cấp thành siêu nhóm; tin sẽ gửi tới siêu nhóm mới.",
        "The group was upgraded to a supergroup; it will be sent to the new supergroup.",
    ),
    "delivery_error.retrying.thread_gone": (
        "Chủ đề diễn đàn của cuộc trò chuyện đã bị xoá; tin sẽ gửi vào cuộc trò chuyện.",
        "The chat's forum topic was deleted; it will be sent to the chat itself.",
    ),
    "delivery_error.retrying.topic_closed": (
        "Quản trị viên của cuộc trò chuyện đã đóng chủ đề diễn đàn nhận tin này: tin chờ, "
        "không mất lượt gửi, thử lại mỗi 10 phút; hãy mở lại chủ đề trong Telegram (hoặc /sub "
        "ở một chủ đề đang mở). Tin quá telegram.alert_max_age_hours sẽ không gửi.",
        "The chat's admins closed the forum topic this alert goes to: it waits, no attempt "
        "spent, tried again every 10 minutes; reopen the topic in Telegram (or /sub in an open "
        "topic). Alerts older than telegram.alert_max_age_hours end unsent.",
    ),
    "delivery_error.retrying.token_refused": (
        "Kênh từ chối token của bot (bị thu hồi hoặc gõ sai): mọi tin chờ, không mất lượt gửi; "
        "hãy sửa token trong cấu hình, tin sẽ gửi trong vòng một phút sau đó.",
        "The channel refuses the bot's token (revoked or mistyped): every alert waits, no "
        "attempt spent; fix the token in the configuration and they go within a minute.",
    ),
    "delivery_error.retrying.scheduled": (
        "Bài được hẹn giờ đăng muộn hơn; tin sẽ gửi khi bài được đăng.",
        "The article was rescheduled for later; it will be sent when it is published.",
    ),
}


def error_key(state: str, channel: str | None, retry_kind: str | None = None) -> str:
    """The catalogue key explaining the error of a delivery in ``state`` to a recipient of
    ``channel``: the channel's own wording of the kind when it has one; for one still queued,
    why it waits (``retry_kind``, in the channel's own words when it has them) when that was
    recorded, else the general words."""
    if state in UNFINISHED:
        for key in (f"delivery_error.{channel}.retrying.{retry_kind}",
                    f"delivery_error.retrying.{retry_kind}"):  # fmt: skip
            if key in MESSAGES:
                return key
    kind = "retrying" if state in UNFINISHED else state
    own = f"delivery_error.{channel}.{kind}"
    if own in MESSAGES:
        return own
    common = f"delivery_error.{kind}"
    return common if common in MESSAGES else "delivery_error.retrying"


def state_key(state: str, channel: str | None) -> str:
    """The catalogue key labelling a delivery ``state`` of a recipient of ``channel``."""
    own = f"state.{channel}.{state}"
    return own if own in MESSAGES else f"state.{state}"
