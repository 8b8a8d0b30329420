"""Built-in secrets backends."""

from stepline.plugins import LazyComponent, hookimpl


@hookimpl
def stepline_components():
    return [
        LazyComponent("secrets", "do-nothing", "stepline.secrets.builtin:DoNothingSecrets"),
        LazyComponent("secrets", "env", "stepline.secrets.builtin:EnvSecrets"),
        LazyComponent("secrets", "dotenv", "stepline.secrets.builtin:DotEnvSecrets"),
    ]
