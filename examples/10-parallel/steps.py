def fit_linear(rows: int) -> float:
    print(f"fitting a linear model on {rows} rows")
    return 0.81


def fit_forest(rows: int) -> float:
    print(f"fitting a forest on {rows} rows")
    return 0.87


def compare(linear_score: float, forest_score: float) -> str:
    best = "forest" if forest_score > linear_score else "linear"
    print(f"best model: {best}")
    return best
