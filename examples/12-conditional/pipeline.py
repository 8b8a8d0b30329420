"""The SDK form of pipeline.yaml: take the branch named by a parameter.

Run it from this folder:  stepline execute pipeline:pipeline
"""

from stepline import Conditional, Pipeline, ShellTask

toss = ShellTask("toss", command="export side=heads", returns=["side"])
route = Conditional(
    "route",
    parameter="side",
    branches={
        "heads": Pipeline(steps=[ShellTask("celebrate", command='echo "heads!" && export outcome=won',
                                           returns=["outcome"])]),
        "tails": Pipeline(steps=[ShellTask("commiserate", command='echo "tails" && export outcome=lost',
                                           returns=["outcome"])]),
    },
    default=Pipeline(steps=[ShellTask("shrug", command="export outcome=unknown", returns=["outcome"])]),
)

pipeline = Pipeline(steps=[toss, route], description="Take the branch named by a parameter.")

if __name__ == "__main__":
    pipeline.execute()
