"""Built-in secrets backends."""

from stepline.plugins import hookimpl


@hookimpl
def stepline_components():
    from stepline.secrets.builtin import DoNothingSecrets, DotEnvSecrets, EnvSecrets

    return [DoNothingSecrets, EnvSecrets, DotEnvSecrets]
