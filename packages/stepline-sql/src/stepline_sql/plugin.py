"""Hook implementations of stepline-sql. Importing this module does not import SQLAlchemy."""

from stepline.api import LazyComponent, hookimpl


@hookimpl
def stepline_components():
    return [
        LazyComponent("run_log_store", "sql", "stepline_sql.store:SqlRunLogStore"),
    ]
