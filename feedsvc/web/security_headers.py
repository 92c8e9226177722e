"""The security headers of every answer a browser may render: the one policy, two sides.

* **The admin** (:data:`ADMIN_HEADERS`): never framed (``X-Frame-Options: DENY`` and
  ``frame-ancestors 'none'``: its forms change topics and chats, a framing page could trick a
  signed-in editor into clicking them), only its own script and stylesheet, never cached, and
  no referrer beyond the site. Every admin answer carries them: pages, redirects, the JSON
  preview and the plain-text lines a script or curl gets (:mod:`feedsvc.web.error_pages`).
* **The reader pages** (:data:`READER_PAGE_HEADERS`: ``/``, ``/topics/{slug}``, the page a
  browser gets at a feed's address, the site's error pages): ``nosniff`` and a CSP allowing
  only the pages' one inline style and one inline script, by hash
  (:mod:`feedsvc.pages.inline`), and nothing else to run (``default-src 'none'``, no plugin,
  no ``<base>``). They MAY be framed (no ``frame-ancestors``, no ``X-Frame-Options``): a
  newsroom embeds its topic page in an article, and a reader page holds nothing to abuse by
  clickjacking — no session, no cookie, no form that changes anything (the search box is a
  GET), its buttons only copy an address. Images from anywhere (``img-src *``): the QR codes
  are linked at ``http.public_url``, which may be another origin than the one the browser
  asked (a tunnel to the service's port), and an image runs nothing.
* **Everything else from a snapshot** (feeds, OPML, ``/feed.xsl``, the QR codes' SVG):
  ``nosniff`` alone (:data:`SNAPSHOT_HEADERS`), built once per snapshot into the prepared
  header lines (:class:`feedsvc.web.http_cache.Replies`), so a feed poll pays nothing for it.
  No CSP there: a browser renders a feed with ``/feed.xsl``, whose output has its own inline
  style, and the document's CSP would apply to that output. A feed and the OPML also say that
  any site's script may read them (:data:`FEED_HEADERS`, :mod:`feedsvc.web.cors`).
* **The JSON API** (:data:`API_HEADERS`, on every answer under ``/api``, errors included:
  :mod:`feedsvc.web.address_headers`): never stored by a cache (``no-store``: it holds
  subscriptions, chats, delivery errors) and never sniffed (``nosniff``), as the admin's.
"""

from __future__ import annotations

from feedsvc.pages.inline import SCRIPT, STYLE, csp_hash
from feedsvc.web.cors import PUBLIC_READ, feed_media_type

NOSNIFF = {"x-content-type-options": "nosniff"}

#: the admin's pages and every other admin answer (see the module doc)
ADMIN_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
ADMIN_HEADERS = {
    "cache-control": "no-store",
    **NOSNIFF,
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "content-security-policy": ADMIN_CSP,
}

#: the reader pages (see the module doc); no cache header: each answer says its own
READER_CSP = (
    f"default-src 'none'; script-src {csp_hash(SCRIPT)}; style-src {csp_hash(STYLE)}; "
    "img-src *; base-uri 'none'"
)
READER_PAGE_HEADERS = {**NOSNIFF, "content-security-policy": READER_CSP}

#: a snapshot that is not a page: a feed, the OPML, the XSL, a QR code
SNAPSHOT_HEADERS = NOSNIFF
#: a feed's or the OPML's snapshot: any site's script may read it (:mod:`feedsvc.web.cors`)
FEED_HEADERS = {**NOSNIFF, **PUBLIC_READ}

#: every answer of the JSON API, errors included (see the module doc)
API_HEADERS = {"cache-control": "no-store", **NOSNIFF}


def snapshot_headers(media_type: str) -> dict[str, str]:
    """The security headers of a snapshot of ``media_type`` (bare or with a charset)."""
    if media_type.partition(";")[0].strip().lower() == "text/html":
        return READER_PAGE_HEADERS
    if feed_media_type(media_type):
        return FEED_HEADERS
    return SNAPSHOT_HEADERS


def page_headers(admin: bool) -> dict[str, str]:
    """The headers of an HTML page of the admin's side (``admin``) or the site's."""
    return ADMIN_HEADERS if admin else READER_PAGE_HEADERS
