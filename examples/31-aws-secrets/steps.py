import hashlib
import os

import stepline


def call_api() -> str:
    token = stepline.get_secret("API_TOKEN")  # from Secrets Manager, read once per run
    assert os.environ["DB_PASSWORD"] == stepline.get_secret("DB_PASSWORD")  # also an environment variable
    print(f"calling the API with a token of {len(token)} characters")
    # prove which token arrived without revealing it
    return hashlib.sha256(token.encode()).hexdigest()[:16]
