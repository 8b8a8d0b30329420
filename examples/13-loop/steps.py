def improve(iteration: int, score: float = 0.0) -> tuple[float, bool]:
    score = float(f"{score + 0.3:.2f}")
    print(f"iteration {iteration}: score {score}")
    return score, score >= 0.85
