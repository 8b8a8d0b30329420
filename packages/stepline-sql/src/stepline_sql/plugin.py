"""Hook implementations of stepline-sql. Importing this module does not import SQLAlchemy."""

from stepline.api import hookimpl


@hookimpl
def stepline_components():
    from stepline_sql.store import SqlRunLogStore

    return [SqlRunLogStore]
