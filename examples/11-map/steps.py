def make_chunks(n: int) -> list[int]:
    return list(range(1, n + 1))


def count_rows(chunk: int) -> int:
    return chunk * 100


def report(rows: list[int], size: int) -> None:
    print(f"rows per chunk: {rows}; total {sum(rows)}; largest chunk size {size}")
