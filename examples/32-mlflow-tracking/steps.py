import stepline


def train(epochs: int) -> float:
    loss = 1.0
    for epoch in range(epochs):
        loss /= 2
        stepline.track("loss", loss, step=epoch)  # a series: one point per epoch
    return loss  # returned as the metric final_loss


def score(lr: float) -> float:
    return round(1 - lr, 4)  # the metric score, in this iteration's nested mlflow run
