"""Steps of the retry example. Each step appends its name to calls.log, so you can see what ran."""


def _ran(what: str) -> None:
    with open("calls.log", "a") as log:
        log.write(what + "\n")


def plan(regions: list[str]) -> list[str]:
    _ran("plan")
    return sorted(regions)


def total(sales: list[int]) -> float:
    _ran("total")
    print(f"total revenue: {sum(sales)}")
    return float(sum(sales))
