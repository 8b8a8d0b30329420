import csv


def total() -> int:
    with open("data/numbers.csv", newline="") as handle:
        values = [int(row["value"]) for row in csv.DictReader(handle)]
    print(f"sum of {len(values)} values: {sum(values)}")
    return sum(values)
