"""Sends tasks to Lovage workers from Python Celery and prints what came back, as one JSON line.

Run by CeleryInteropIT with RABBITMQ_URI and LOVAGE_QUEUE set; the Java test checks the values.
"""
import datetime
import json
import time

from lovage_celery import app

TIMEOUT = 30
out = {}

out["add"] = app.send_task("demo.add", args=[2, 3]).get(timeout=TIMEOUT)

out["kwargs"] = app.send_task("demo.add", kwargs={"x": 40, "y": 2}).get(timeout=TIMEOUT)

start = time.time()
value = app.send_task("demo.add", args=[1, 1], countdown=2).get(timeout=TIMEOUT)
out["countdown"] = {"value": value, "elapsed": time.time() - start}

eta = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
start = time.time()
value = app.send_task(
    "demo.echo",
    args=[{"list": [1, "two", None, True], "nested": {"pi": 3.14}}],
    eta=eta,
    expires=eta + datetime.timedelta(minutes=5),
    retries=3,
    headers={"x-custom": "kept"},
).get(timeout=TIMEOUT)
out["eta"] = {"value": value, "elapsed": time.time() - start}

try:
    app.send_task("demo.fail", args=["boom"]).get(timeout=TIMEOUT)
    out["fail"] = None
except Exception as error:  # the remote error, rebuilt by Celery from exc_type/exc_message
    out["fail"] = {"type": type(error).__name__, "message": str(error)}

print(json.dumps(out), flush=True)
