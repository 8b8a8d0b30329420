def make_numbers(count: int) -> list[int]:
    return [n * n for n in range(1, count + 1)]


def report(total: float, mean: float) -> None:
    print(f"the notebook found total {total} and mean {mean}")
