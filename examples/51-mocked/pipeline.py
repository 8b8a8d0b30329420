"""The SDK form of pipeline.yaml: run it with the mocked executor of config.yaml or failing.yaml.

Run it from this folder:  stepline execute pipeline:pipeline -c config.yaml
"""

from stepline import Fail, Map, Pipeline, ShellTask

folds = ShellTask("folds", command='echo "folds=[$(seq -s, 1 10)]" >> "$STEPLINE_RETURNS"', returns=["folds"])
alert = ShellTask("alert", command="curl -X POST https://alerts.example.com/hook")
train = Map("train", iterate_on="folds", iterate_as="fold",
            branch=Pipeline(steps=[ShellTask("fit", command='python -c "import time; time.sleep(600)"')]),
            on_failure=Pipeline(steps=[alert, Fail("failed")]))
publish = ShellTask("publish", command="curl -X POST https://models.example.com/publish")

pipeline = Pipeline(steps=[folds, train, publish],
                    description="Train a model per fold, evaluate, publish; alert when training fails.")

if __name__ == "__main__":
    pipeline.execute(configuration_file="config.yaml")
