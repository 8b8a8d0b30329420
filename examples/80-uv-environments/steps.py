"""Three steps, three environments: tabulate 0.8.10, tabulate 0.9.0, and Stepline's own (no tabulate)."""

from importlib.metadata import version


def old_table(rows: list[list[int]]):
    from tabulate import tabulate

    print(tabulate(rows, headers=["x", "x squared"]))
    return version("tabulate")


def new_table(rows: list[list[int]]):
    from tabulate import tabulate

    print(tabulate(rows, headers=["x", "x squared"], tablefmt="github"))
    return version("tabulate")


def in_process(old: str, new: str, size: str) -> str:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        here = "no tabulate"
    else:
        here = f"tabulate {version('tabulate')}"
    summary = f"old step: tabulate {old}; new step: tabulate {new}; this step: {here}; report: {size}"
    print(summary)
    return summary
