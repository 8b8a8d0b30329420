"""``stepline ui``: a local, read-only web app over the configured run log store and catalog.

Needs the ``ui`` extra (``pip install "stepline[ui]"``: Starlette, uvicorn, Jinja2).
"""
