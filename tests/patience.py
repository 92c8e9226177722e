"""The read timeout for test senders whose test does not exercise timeouts.

An answer later than the sender's read timeout is an ambiguous outcome, which the product
re-sends on purpose (at most once, recorded in ``deliveries.ambiguous``). On a loaded CI
machine the fake's thread can stall for a second or more, so a short read timeout turned an
ordinary send into a legitimate re-send and an exact-count assertion (``== 1`` message per
chat, ``== 24`` calls, ...) failed. Tests that script no late or slow answer use this value
instead: no stall on a machine that still finishes the test reaches it (their own deadlines
are 15–30 s), so their exact counts stay exact. Tests that do exercise timeouts keep a short
one and count the re-sends the deliveries record.
"""

from __future__ import annotations

#: Seconds. Above every test deadline that uses it, so a read timeout there is a real hang.
PATIENT_READ_TIMEOUT = 60.0
