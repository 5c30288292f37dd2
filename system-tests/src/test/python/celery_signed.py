"""Celery's auth serializer against a Lovage worker that requires signatures.

Run by SignedMessagesIT with RABBITMQ_URI, LOVAGE_QUEUE and LOVAGE_SECURITY_KEY,
LOVAGE_SECURITY_CERTIFICATE, LOVAGE_SECURITY_CERT_STORE (a trusted signer's) set; prints one JSON
line. Mode "signed" (LOVAGE_SIGNED_MODE) sends signed tasks and waits for their results. Mode
"refused" publishes what the worker must not run, and prints the ids: an unsigned task, a signed
one whose args were changed on the way, and one signed by STRANGER_KEY/STRANGER_CERTIFICATE, a key
the worker does not trust.
"""
import base64
import importlib.util
import json
import os

from celery.security.certificate import Certificate
from celery.security.key import PrivateKey
from celery.security.serialization import SecureSerializer
from kombu.serialization import dumps
from kombu.utils.uuid import uuid

from lovage_celery import QUEUE, app, make_app

TIMEOUT = 30
CELERY_55 = "/srv/lovage-trixie/usr/lib/python3/dist-packages/celery/security/serialization.py"
out = {}


def publish(name, payload, content_type="application/data"):
    """A task message with Celery's own headers and properties, and this body as it is; its
    result comes back to this app's reply queue, as send_task's would."""
    message = app.amqp.as_task_v2(uuid(), name, args=[], kwargs={}, reply_to=app.thread_oid)
    with app.producer_or_acquire() as producer:
        app.backend.on_task_call(producer, message.headers["id"])
        producer.publish(payload, exchange="celery", routing_key=QUEUE, headers=message.headers,
                         content_type=content_type, content_encoding="utf-8",
                         **message.properties)
    return message.headers["id"]


def body(*args):
    return [list(args), {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}]


if os.environ.get("LOVAGE_SIGNED_MODE", "signed") == "signed":
    out["add"] = app.send_task("demo.add", args=[2, 3]).get(timeout=TIMEOUT)
    out["kwargs"] = app.send_task("demo.add", kwargs={"x": 40, "y": 2}).get(timeout=TIMEOUT)
    try:
        app.send_task("demo.fail", args=["boom"]).get(timeout=TIMEOUT)
        out["fail"] = None
    except Exception as error:
        out["fail"] = {"type": type(error).__name__, "message": str(error)}
    # Celery 5.5's layout, packed by 5.5's own serializer where Debian trixie's Celery is at hand.
    if os.path.exists(CELERY_55):
        spec = importlib.util.spec_from_file_location("celery.security.serialization_55", CELERY_55)
        s55 = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(s55)
        signer = s55.SecureSerializer(
            PrivateKey(open(os.environ["LOVAGE_SECURITY_KEY"]).read()),
            Certificate(open(os.environ["LOVAGE_SECURITY_CERTIFICATE"]).read()))
        task_id = publish("demo.add", signer.serialize(body(20, 22)))
        out["layout_5_5"] = app.AsyncResult(task_id).get(timeout=TIMEOUT)
else:
    plain = make_app()
    out["unsigned"] = plain.send_task("demo.echo", args=["unsigned"], serializer="json").id

    # Signed by the trusted key, then its args changed on the way: [2, 3] becomes [2, 9].
    raw = bytearray(base64.b64decode(dumps(body(2, 3), serializer="auth")[2]))
    at = raw.rindex(b"[[2, 3]")
    raw[at:at + 7] = b"[[2, 9]"
    out["tampered"] = publish("demo.echo", base64.b64encode(bytes(raw)))

    stranger = SecureSerializer(PrivateKey(open(os.environ["STRANGER_KEY"]).read()),
                                Certificate(open(os.environ["STRANGER_CERTIFICATE"]).read()))
    out["stranger"] = publish("demo.echo", stranger.serialize(body("from a stranger")))

print(json.dumps(out), flush=True)
