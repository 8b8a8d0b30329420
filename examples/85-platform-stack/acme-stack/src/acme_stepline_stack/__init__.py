"""ACME's configuration stacks for Stepline: YAML files inside this package, named by a hook."""

from pathlib import Path

from stepline.plugins import hookimpl

HERE = Path(__file__).parent


@hookimpl
def stepline_stacks():
    return {
        "acme-base": HERE / "base.yaml",  # where every team's runs keep their records
        "acme-ci": HERE / "ci.yaml",  # the base, with everything under a throw-away folder
    }
