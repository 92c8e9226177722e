"""**The one reading of a yes or no people type** outside JSON: an admin form's checkbox
(:mod:`feedsvc.web.admin_forms`) and ``/readyz?ingest=`` (:mod:`feedsvc.web.health`). Pure.

Why one place: each reader kept its own short list and ignored the rest. The admin read only
``on`` as ticked (``enabled=true`` saved a topic switched off), and ``/readyz`` only
``1``/``true``/``yes`` as the ingest check, so a monitor asking ``?ingest=on`` got the plain
serving answer and stayed green through an ingest outage (a tester's). A value in neither list
is refused by the caller, naming :data:`YES_WORDS` and :data:`NO_WORDS`: a guess either way
answers a question nobody asked.
"""

from __future__ import annotations

#: a yes, in any case, spaces around ignored (a browser sends a ticked box as ``on``)
YES = ("1", "true", "yes", "on")
#: a no (an empty value too: ``?ingest=``, a box a script posts empty)
NO = ("0", "false", "no", "off", "")
#: how a refusal names what is accepted, each list in the catalogue's sentence (its words for
#: "or nothing" are the catalogue's: an English "(or empty)" here sat in the Vietnamese too)
YES_WORDS = ", ".join(YES)
NO_WORDS = ", ".join(word for word in NO if word)


def yes_no(value: str) -> bool | None:
    """``value`` as a yes (True) or a no (False), any case, whitespace around ignored;
    None when it is neither (``maybe``, ``2``, ``y``)."""
    said = value.strip().lower()
    if said in YES:
        return True
    if said in NO:
        return False
    return None
