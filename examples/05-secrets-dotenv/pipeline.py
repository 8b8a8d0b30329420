"""The SDK form of pipeline.yaml: tasks that read a secret.

Run it from this folder:  stepline execute pipeline:pipeline -c config.yaml -p params.yaml
"""

import steps
from stepline import Pipeline, PythonTask, ShellTask

call_api = PythonTask("call api", function=steps.call_api, secrets=["API_TOKEN"], returns=["token_length"])
shell_with_secret = ShellTask("shell with secret", secrets=["API_TOKEN"],
                              command='echo "the shell sees a token of ${#API_TOKEN} characters: $API_TOKEN"')

pipeline = Pipeline(steps=[call_api, shell_with_secret])

if __name__ == "__main__":
    pipeline.execute(configuration_file="config.yaml", parameters_file="params.yaml")
