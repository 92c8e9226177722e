"""The one error a delivery setting is refused with — pure.

Its own module so that :mod:`feedsvc.digest.settings` (the values) and
:mod:`feedsvc.digest.spoken` (the time-word grammar) both raise it without importing each other.
"""

from __future__ import annotations


class SettingError(ValueError):
    """A setting that cannot be used: ``code`` (catalogue ``digest.error.<code>``), the
    ``field`` it concerns (``digest`` | ``quiet`` | ``silent``) and the parameters to word it.
    The English message does not name the field: whoever shows it does, once (the API's
    ``error`` is ``"<field>: <message>"``)."""

    def __init__(self, field_name: str, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.field = field_name
        self.code = code
        self.params = params
