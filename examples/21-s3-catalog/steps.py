from pathlib import Path


def count_words() -> int:
    words = Path("data/words.txt").read_text().split()
    print(f"{len(words)} words")
    return len(words)
