"""Topic matching that is correct for Vietnamese (SPEC §4).

Pure code: no I/O, no database, no logging configuration.  Build a :class:`Document` once per
article (:func:`document_from_article`), parse queries once (:func:`parse_query`), then call
:func:`match_document` / :func:`explain` for one query or :class:`TopicMatcher` for many topics.
"""

from .candidates import candidate_key_sets
from .canonical import query_digest
from .document import Document, Field, document_from_article, document_from_text, search_keys
from .evaluate import Explanation, Hit, explain, match_document
from .multi import TopicMatcher
from .normalize import normalize_query_terms, syllable_keys, visible_text
from .parser import parse_chat_query, parse_query, parse_topic, parse_typed
from .query import FIELDS, Query, QueryError, Term
from .references import referenced_by, references, users_of, users_of_any

__all__ = [
    "FIELDS",
    "Document",
    "Explanation",
    "Field",
    "Hit",
    "Query",
    "QueryError",
    "Term",
    "TopicMatcher",
    "candidate_key_sets",
    "document_from_article",
    "document_from_text",
    "explain",
    "match_document",
    "normalize_query_terms",
    "parse_chat_query",
    "parse_query",
    "parse_topic",
    "parse_typed",
    "query_digest",
    "referenced_by",
    "references",
    "search_keys",
    "syllable_keys",
    "users_of",
    "users_of_any",
    "visible_text",
]
