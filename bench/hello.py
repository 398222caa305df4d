"""The baseline for the page benchmarks: a hello-world Flask page, served exactly as the portal is.

    gunicorn -c scripts/gunicorn.conf.py bench.hello:app

What gunicorn, the worker model and the loopback network cost on this machine at this moment; each
portal figure in ``bench.pages`` is reported beside it and as a ratio to it.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, world!"


@app.post("/ping")
def ping():
    """The baseline for ``bench.pings``: read the JSON body, answer 202, as the ping endpoint."""
    from flask import request

    request.get_json(silent=True)
    return "", 202
