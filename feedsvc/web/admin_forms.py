"""Reading the admin's HTML forms: a checkbox's value (:func:`checkbox`). Pure.

Why: a browser sends a ticked box as ``name=on`` and leaves an unticked one out, but the forms
are also posted by scripts (``curl -d enabled=true``), and the admin read only ``on`` as ticked:
``enabled=true``, ``1`` or ``yes`` saved a topic switched off, with no word (a tester's).
"""

from __future__ import annotations

from collections.abc import Mapping

from feedsvc.yes_no import yes_no


class CheckboxError(ValueError):
    """A checkbox posted with a value that says neither ticked nor unticked."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def checkbox(form: Mapping[str, str], name: str) -> bool:
    """Whether the box ``name`` of a posted ``form`` is ticked: absent → False, a value of
    :data:`feedsvc.yes_no.YES` → True, of :data:`~feedsvc.yes_no.NO` → False (the browser's
    ``on``, a script's ``true``, ``1`` or ``yes``, any case). Raises :class:`CheckboxError` for any
    other value (``enabled=maybe``): a guess either way would save what nobody asked for."""
    value = form.get(name)
    if value is None:
        return False
    said = yes_no(value)
    if said is None:
        raise CheckboxError(name)
    return said


def ticked_as_sent(form: Mapping[str, str], name: str, otherwise: bool) -> bool:
    """The box ``name`` as a refused form is shown again: as it was sent, so that nothing the
    editor set is lost with the refusal (the topic editor showed "backfill on save" ticked again
    after it was unticked, and unticked after it was ticked on an edit; the chat page showed
    "silent" as stored), or ``otherwise`` for a value :func:`checkbox` cannot read (the box
    the refusal names)."""
    try:
        return checkbox(form, name)
    except CheckboxError:
        return otherwise
