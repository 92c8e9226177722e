"""The one SQLAlchemy ``MetaData`` of feedsvc's tables, with the naming convention every
migration's constraint and index names follow. The tables are described in
:mod:`feedsvc.db.schema` (the content and delivery tables, and the ones it gathers from
:mod:`feedsvc.db.schema_service`); import ``metadata`` from there to have them all.
"""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
