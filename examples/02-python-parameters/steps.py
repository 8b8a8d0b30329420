"""Python tasks: arguments come from parameters by name, cast by the annotations."""

from __future__ import annotations

from pydantic import BaseModel

import stepline


class ModelConfig(BaseModel):
    name: str
    layers: list[int]


class Trained:
    """Not JSON: returned with kind: object, so it is pickled into the catalog."""

    def __init__(self, name: str, weights: list[float]) -> None:
        self.name = name
        self.weights = weights


def train(learning_rate: float, epochs: int, model: ModelConfig):
    print(f"training {model.name} with layers {model.layers} for {epochs} epochs at lr={learning_rate}")
    loss = 1.0
    for epoch in range(epochs):
        loss *= 1 - learning_rate
        stepline.track("loss", round(loss, 6), step=epoch)
    weights = [learning_rate * n for n in model.layers]
    summary = {"model": model.name, "epochs": epochs}
    return summary, round(loss, 6), Trained(model.name, weights)


def evaluate(trained: Trained, final_loss: float, summary: dict) -> float:
    print(f"evaluating {trained.name} ({summary['epochs']} epochs): weights {trained.weights}")
    accuracy = round(1 - final_loss / 2, 6)
    return accuracy
