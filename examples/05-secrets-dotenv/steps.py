import os

import stepline


def call_api(endpoint: str) -> int:
    token = stepline.get_secret("API_TOKEN")       # from the configured secrets backend
    assert os.environ["API_TOKEN"] == token        # listed secrets are also environment variables
    print(f"calling {endpoint} with a token of {len(token)} characters")
    print(f"a careless print of the token: {token}")  # masked: ******** on the console and in the log
    return len(token)
