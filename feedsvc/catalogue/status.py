"""Delivery states (``state.*``), follow-ups on sent alerts (``followup.*``), chat types
(``chat_type.*``), status facts (``fact.*``), the ingest state in words (``ingest.*``), follow
statistics and charts (``stats.*``)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "just_now": ("vừa xong", "just now"),
    # -- delivery states (feedsvc.store.deliveries), plus the "dead letters" filter -----------
    "state.pending": ("Đang chờ", "Queued"),
    "state.held": ("Chờ bản tin tổng hợp", "Held for a digest"),
    "state.sending": ("Đang gửi", "Sending"),
    "state.sent": ("Đã gửi", "Sent"),
    "state.blocked": ("Chat từ chối bot", "Chat refuses the bot"),
    "state.chat_not_found": ("Không tìm thấy chat", "Chat not found"),
    "state.bad_content": ("Tin bị từ chối", "Message refused"),
    "state.disabled": ("Chat đã tắt", "Chat disabled"),
    "state.failed": ("Lỗi (hết lượt thử)", "Failed (retries used up)"),
    "state.unknown_outcome": ("Không rõ đã đến chưa", "Outcome unknown (may have arrived)"),
    "state.withdrawn": ("Bài đã rút, không gửi", "Article withdrawn, not sent"),
    "state.unsubscribed": (
        "Không còn khớp đăng ký của chat, không gửi",
        "No longer matches the chat's subscriptions, not sent",
    ),
    "state.dead": ("Tin gửi hỏng", "Dead letters"),  # a filter's option, as the others
    # -- what became of a sent alert (feedsvc.store.followups: outcomes, or still open) --------
    "followup.retract": ("Gỡ tin đã gửi", "Retraction"),
    "followup.correct": ("Sửa tin đã gửi", "Correction"),
    "followup.pending": ("đang chờ", "queued"),
    "followup.working": ("đang thực hiện", "in progress"),
    "followup.deleted": ("đã xoá", "deleted"),
    "followup.edited": ("đã sửa", "edited"),
    "followup.unchanged": ("đã đúng, không cần sửa", "already up to date"),
    "followup.gone": ("tin đã không còn", "already gone"),
    "followup.kept": ("giữ nguyên", "kept"),
    "followup.cancelled": ("huỷ (không cần nữa)", "cancelled (no longer needed)"),
    "followup.restored": (
        "đã khôi phục: bài đăng lại, tin được sửa lại theo bài",
        "restored: the article is public again, the alert edited back to it",
    ),
    "followup.failed": ("không thực hiện được", "failed"),
    "followup.unreachable": (
        "không tới được: tin nằm ở nhóm cũ, nhóm đã nâng cấp thành siêu nhóm",
        "unreachable: the message is in the old group, since upgraded to a supergroup",
    ),
    # -- chat types ---------------------------------------------------------------------------
    "chat_type.private": ("cá nhân", "private"),
    "chat_type.group": ("nhóm", "group"),
    "chat_type.supergroup": ("siêu nhóm", "supergroup"),
    "chat_type.channel": ("kênh", "channel"),
    "channel.telegram": ("Telegram", "Telegram"),
    # -- article fields (the query language's field names; preview snippets) ------------------
    "field.title": ("tiêu đề", "title"),
    "field.summary": ("tóm tắt", "summary"),
    "field.body": ("nội dung", "body"),
    "field.tag": ("thẻ", "tag"),
    "field.section": ("chuyên mục", "section"),
    "field.author": ("tác giả", "author"),
    # -- what people fill in, as a refusal names it (``Translator.operation_error``: a refused
    # character; a name without an entry, an API body's ``items.0.name``, is shown as sent) ---
    "input.title": ("tiêu đề", "title"),
    "input.description": ("mô tả", "description"),
    "input.query": ("truy vấn", "query"),
    "input.slug": ("mã chủ đề", "slug"),
    "input.topic": ("chủ đề", "topic"),
    "input.q": ("từ khoá tìm", "search text"),
    "input.source_key": ("mã bài", "article key"),
    "input.reason": ("lý do", "reason"),
    "input.address": ("địa chỉ", "address"),
    # -- status facts (feedsvc.status.Fact.key) -----------------------------------------------
    "fact.ingest": ("Cập nhật bài viết", "Article ingest"),
    "fact.last_ingest_success": ("Lần cập nhật thành công gần nhất", "Last successful ingest"),
    "fact.last_ingest_tick": ("Lần kiểm tra nguồn gần nhất", "Last look at the source"),
    "fact.last_ingest_error": ("Lỗi cập nhật gần nhất", "Last ingest error"),
    "fact.ingest_cursor": ("Đã đọc nguồn đến", "Source read up to"),
    "fact.source": ("Nguồn bài viết", "Article source"),
    "fact.database": ("Cơ sở dữ liệu", "Database"),
    "fact.ingest_backlog": ("Bài nguồn còn chờ đọc", "Source rows still to read"),
    "fact.ingest_rate_per_second": ("Tốc độ đọc nguồn", "Source read rate"),
    "fact.ingest_eta_seconds": ("Đọc xong sau", "Caught up in"),
    "fact.caught_up": ("đã đọc hết", "caught up"),
    "fact.rate_value": ("{rate} bài/giây", "{rate} rows a second"),
    "fact.as_of": ("tính đến {time}", "as of {time}"),
    "fact.ingest_quarantined": ("Bài nguồn bị cách ly", "Quarantined source rows"),
    "fact.quarantined_rows": (
        "Bài nguồn bị cách ly (bỏ qua, không chặn việc cập nhật)",
        "Quarantined source rows (skipped; ingest goes on)",
    ),
    "quarantine.row": ("Dòng nguồn", "Source row"),
    "quarantine.stage": ("Bước lỗi", "Failed at"),
    "quarantine.last_seen": ("Gặp lần cuối", "Last seen"),
    "quarantine.stage_read": ("đọc từ nguồn", "reading the source"),
    "quarantine.stage_parse": ("kiểm tra dữ liệu", "validation"),
    "quarantine.stage_store": ("lưu vào CSDL", "storing"),
    "quarantine.stage_ahead": (
        "chờ: mốc thời gian ở tương lai",
        "held: cursor value in the future",
    ),
    "fact.articles_stored": ("Bài viết đã lưu", "Articles stored"),
    "fact.source_articles": ("Bài trong bảng nguồn có sẵn", "Rows in the built-in source"),
    "fact.topics_enabled": ("Chủ đề đang bật", "Topics switched on"),
    "fact.deliveries_pending": ("Tin chờ gửi", "Alerts waiting to be sent"),
    "fact.started_at": ("Dịch vụ chạy từ", "Service running since"),
    "fact.channels": ("Kênh gửi tin", "Delivery channels"),
    # -- the state DB's disk (feedsvc.state_disk; worded by catalogue.disk_words) --------------
    "fact.state_db_disk_full": ("Ổ đĩa của CSDL", "State database disk"),
    # {directory} follows the words, shown as data (status.html): a path is never translated
    "disk.full": (
        "đầy{since}: hết chỗ trống trên đĩa ({free}); bài và feed vẫn được phục vụ, việc ghi "
        "(cập nhật bài, gửi tin, lưu) thử lại mỗi lần kiểm tra nguồn: hãy giải phóng dung lượng "
        "trên ổ đĩa chứa",
        "full{since}: no space left on device ({free}); reads and feeds are still served, "
        "writes (ingest, alerts, saves) retry at every poll: free space on the file system at",
    ),
    "disk.full_server": (
        "đầy{since}: máy chủ cơ sở dữ liệu hết chỗ trống trên đĩa; bài và feed vẫn được phục "
        "vụ, việc ghi thử lại mỗi lần kiểm tra nguồn: hãy giải phóng dung lượng ở máy chủ đó",
        "full{since}: no space left on the database server's disk; reads and feeds are still "
        "served, writes retry at every poll: free space there",
    ),
    "disk.since": (" từ {time} ({ago})", " since {time} ({ago})"),
    "disk.room": ("chưa đầy: {free} trên ổ đĩa chứa", "not full: {free} on the file system at"),
    "disk.room_server": ("chưa đầy (ghi được)", "not full (writes go through)"),
    "disk.unknown": ("không xem được từ đây", "not seen from here"),
    "disk.free": ("còn trống {size}, {inodes} inode", "{size} and {inodes} inodes free"),
    "disk.free_size": ("còn trống {size}", "{size} free"),
    "disk.no_inode": ("còn trống {size} nhưng hết inode", "{size} free but no inode left"),
    "disk.free_unknown": ("không rõ còn trống bao nhiêu", "free space not known"),
    "channel_mode.on": ("bật", "on"),
    "channel_mode.console": (
        "chỉ ghi nhật ký (chưa có telegram.token)",
        "log only (no telegram.token)",
    ),
    "channel_mode.off": (
        "tắt: chưa cấu hình, người nhận không nhận được gì",
        "off: not configured, its recipients get nothing",
    ),
    "channel_mode.waiting": (
        "chờ token: CSDL này từng chạy với token mà nay chưa đặt; tin chờ, không gửi, không mất",
        "waiting: its token is not set, though this database ran with one; alerts wait, "
        "none is lost",
    ),
    "channel_mode.refused": (
        "kênh từ chối token của bot: tin chờ; hãy sửa token trong cấu hình",
        "the channel refuses the bot token: alerts wait; fix the token in the configuration",
    ),
    # a process whose token the channel refuses now (channel_modes.fresh_refusals): its token
    # by fingerprint (channel_modes.token_fingerprint, never the token) and its name
    "channel_refused_by": (
        "token {token} bị từ chối ở tiến trình {process}",
        "token {token} refused in process {process}",
    ),
    "channel_refused_unknown": ("không rõ (trước bản nâng cấp)", "unknown (before the upgrade)"),
    # sent_elsewhere: no token in this process (a web-only replica) or this shell, while the
    # state DB shows another process's token accepted within the last 3 minutes
    "channel_mode.sent_elsewhere": (
        "bật ở tiến trình khác: một dịch vụ đang chạy gửi tin bằng token; tiến trình này "
        "không có token",
        "on in another process: a running service sends with the token; this process has none",
    ),
    "channel_note.sent_elsewhere": (
        "một dịch vụ đang chạy gửi tin; shell này không có token",
        "sent by a running service; this shell has no token",
    ),
    # console/off in `feedsvc status`: this command has no token (unset here, or a *_file it
    # may not read: taken as unset) and the state DB no word of one (a service whose token no
    # Bot API has answered yet records none): what a service started so would do, not what
    # the running one does (a tester's: "console" read as "alerts go to the log" while the
    # service, its token in its own environment, said "on")
    "channel_note.console": (
        "token không có ở lệnh này: dịch vụ chạy không token sẽ ghi tin vào log; chế độ của "
        "dịch vụ đang chạy xem ở /api/status",
        "token not available to this command: a service without one logs its alerts; the "
        "running service's own mode is on /api/status",
    ),
    "channel_note.off": (
        "token không có ở lệnh này: dịch vụ chạy không token không gửi được; chế độ của dịch "
        "vụ đang chạy xem ở /api/status",
        "token not available to this command: a service without one cannot send; the "
        "running service's own mode is on /api/status",
    ),
    # the same with no token set at all in this command's configuration (neither the value
    # nor its *_file: channel_modes.token_set): "not available" read as though one existed
    "channel_note.console.unset": (
        "chưa đặt token ({setting}): dịch vụ chạy không token sẽ ghi tin vào log; chế độ của "
        "dịch vụ đang chạy xem ở /api/status",
        "no token set ({setting}): a service without one logs its alerts; the running "
        "service's own mode is on /api/status",
    ),
    "channel_note.off.unset": (
        "chưa đặt token ({setting}): dịch vụ chạy không token không gửi được; chế độ của dịch "
        "vụ đang chạy xem ở /api/status",
        "no token set ({setting}): a service without one cannot send; the running service's "
        "own mode is on /api/status",
    ),
    "source.builtin": ("bảng nguồn có sẵn (feedsvc import)", "the built-in table (feedsvc import)"),
    "source.external": ("cơ sở dữ liệu của toà soạn", "the newsroom's database"),
    # -- the ingest state in words (feedsvc.ingest_state.ingest_state) ------------------------
    # never: no tick has succeeded (a new service, a source never reached, a first sync before
    # its first batch commits): "has not run yet" was wrong for the last two
    "ingest.never": ("chưa cập nhật thành công lần nào", "no successful ingest yet"),
    "ingest.ok": ("đang cập nhật đều", "up to date"),
    # lagging: no tick has succeeded for three polls: stopped, stuck or a DB that does not answer
    # (not "running": a service stopped mid first sync said "running, 3 months behind")
    "ingest.lagging": (
        "không đọc được gì gần đây (dịch vụ dừng hay bị kẹt?), chậm {lag}",
        "nothing read lately (service stopped or stuck?), {lag} behind",
    ),
    "ingest.failing": (
        "lỗi: chậm {lag}, đã thử lại {failures} lần",
        "failing: {lag} behind, failed attempts in a row: {failures}",
    ),
    # failing before any success: no lag to give ("failing: 0 seconds behind" read as caught up)
    "ingest.failing_never": (
        "lỗi: chưa cập nhật thành công lần nào, đã thử lại {failures} lần",
        "failing: no successful ingest yet, failed attempts in a row: {failures}",
    ),
    # rows still behind the cursor (ingest_state.BACKLOG_CODES): the state, then {progress}, what is
    # left and where reading stands (Translator.ingest): "N behind" grew while the rows left
    # fell (the built-in table's cursor is the import's time) and read as getting worse
    "ingest.first_sync": ("đang đồng bộ lần đầu{progress}", "first sync under way{progress}"),
    # rereading: the source read again from its start after a [source.columns] or zone change
    # (feedsvc.ingest.remap); "first sync" made operators fear the stored articles were lost
    "ingest.rereading": (
        "đang đọc lại nguồn sau khi đổi ánh xạ cột hoặc múi giờ (bài đã lưu vẫn giữ nguyên)"
        "{progress}",
        "re-reading the source after a change to its column mapping or time zone (stored "
        "articles stay){progress}",
    ),
    "ingest.catching_up": ("đang đọc bù{progress}", "catching up{progress}"),
    # {progress} while a batch works through the rows: how many are left and when it is done,
    # then the read position as a time (the "Source read up to" fact's)
    "ingest.progress.one": (
        ": còn {backlog} bài nguồn, xong sau khoảng {eta}; đã đọc nguồn đến {time}",
        ": {backlog} source row left, done in about {eta}; source read up to {time}",
    ),
    "ingest.progress.other": (
        ": còn {backlog} bài nguồn, xong sau khoảng {eta}; đã đọc nguồn đến {time}",
        ": {backlog} source rows left, done in about {eta}; source read up to {time}",
    ),
    # … when nothing counts what is left now (before the first count, no batch lately)
    "ingest.position": ("; đã đọc nguồn đến {time}", "; source read up to {time}"),
    # … when no position is known: the lag as it was said before
    "ingest.behind": (", còn chậm {lag}", ", {lag} behind"),
    "ingest.standby": ("bản sao khác đang cập nhật", "another replica is ingesting"),
    # -- what people follow (feedsvc.stats) ---------------------------------------------------
    "stats.title": ("Người theo dõi", "Who follows what"),
    "stats.subscribers": ("Người đăng ký", "Subscribers"),
    "stats.alerts_per_day": ("Tin đã gửi mỗi ngày", "Alerts sent per day"),
    "stats.polls_per_day": ("Lượt đọc nguồn tin mỗi ngày", "Feed polls per day"),
    "stats.articles": ("Số bài", "Articles"),
    "stats.newest": ("Bài mới nhất", "Newest article"),
    "stats.days_note": (
        "Trung bình {days} ngày gần nhất.",
        "Average over the last {days} days.",
    ),
    "stats.chart_activity": (
        "Bài mới và tin đã gửi mỗi giờ, 7 ngày qua",
        "Articles ingested and alerts sent per hour, last 7 days",
    ),
    "stats.chart_subscribers": ("Người đăng ký theo chủ đề", "Subscribers per topic"),
    "stats.series_articles": ("Bài mới", "Articles ingested"),
    "stats.series_alerts": ("Tin đã gửi", "Alerts sent"),
    "stats.no_data": ("Chưa có số liệu.", "No data yet."),
}
