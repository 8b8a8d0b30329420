"""Steps of the retry example. Each step appends its name to calls.log, so you can see what ran."""

import os


def _ran(what: str) -> None:
    with open("calls.log", "a") as log:
        log.write(what + "\n")


def plan(regions: list[str]) -> list[str]:
    _ran("plan")
    return sorted(regions)


def fetch(region: str) -> int:
    _ran(f"fetch {region}")
    if region == "apac" and not os.environ.get("APAC_UP"):
        raise ConnectionError("apac sales server is down (set APAC_UP=1 and retry)")
    return {"eu": 120, "us": 200, "apac": 80}[region]


def total(sales: list[int]) -> float:
    _ran("total")
    print(f"total revenue: {sum(sales)}")
    return float(sum(sales))
