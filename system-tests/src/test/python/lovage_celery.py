"""A Python Celery 5.2/5.5 app that shares queues with Lovage (docs/celery.md).

Environment: RABBITMQ_URI (the broker), LOVAGE_QUEUE (the queue to send to and consume, default
"celery"), LOVAGE_QUEUE_TYPE ("quorum", Lovage's default, or "classic": a Celery 5.2 worker
can only consume classic queues, it asks for global QoS, which quorum queues refuse) and
LOVAGE_EXCHANGE_TYPE ("direct", Celery's default exchange `celery`, or "topic": the exchange
`celery.topic`, through which Celery 5.5 sends countdowns into the delay ladder it shares with Lovage),
and LOVAGE_TASK_EVENTS ("1", or "0" for a worker that sends no task events, as without -E).
With LOVAGE_SECURITY_KEY, LOVAGE_SECURITY_CERTIFICATE and LOVAGE_SECURITY_CERT_STORE (the settings
Lovage reads, PEM paths) the app signs its tasks and accepts only signed ones: Celery's auth
serializer, with results in JSON (docs/celery.md, "Signed messages").
"""
import os

from celery import Celery
from kombu import Exchange, Queue


def lovage_queue(name, queue_type="quorum", exchange_type="direct"):
    """The queue exactly as Lovage declares it, so that neither side gets PRECONDITION_FAILED."""
    arguments = {
        "x-queue-type": queue_type,
        "x-dead-letter-exchange": "lovage.dead-letter",
        "x-dead-letter-routing-key": name,
    }
    if queue_type == "quorum":
        arguments["x-delivery-limit"] = 10
    else:
        arguments["x-max-priority"] = 9
    exchange = Exchange("celery", type="direct") if exchange_type == "direct" else \
        Exchange("celery.topic", type="topic")
    return Queue(name, exchange, routing_key=name, queue_arguments=arguments)


QUEUE = os.environ.get("LOVAGE_QUEUE", "celery")


def make_app(**settings):
    app = Celery("lovage_celery",
                 broker=os.environ.get("RABBITMQ_URI", "amqp://guest:guest@localhost:5672/%2F"),
                 backend="rpc://")
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_queues=[lovage_queue(QUEUE, os.environ.get("LOVAGE_QUEUE_TYPE", "quorum"),
                                  os.environ.get("LOVAGE_EXCHANGE_TYPE", "direct"))],
        task_default_queue=QUEUE,
        # Task events to the celeryev exchange: Lovage's REST service reads states from them.
        worker_send_task_events=os.environ.get("LOVAGE_TASK_EVENTS", "1") == "1",
        task_acks_late=True,
        worker_prefetch_multiplier=1,
    )
    app.conf.update(**settings)
    return app


def secure(app):
    """Celery's message signing: task_serializer "auth", accept_content exactly ["auth"] (what
    setup_security insists on), results in JSON, which Lovage workers answer in."""
    app.conf.update(
        security_key=os.environ["LOVAGE_SECURITY_KEY"],
        security_certificate=os.environ["LOVAGE_SECURITY_CERTIFICATE"],
        security_cert_store=os.environ["LOVAGE_SECURITY_CERT_STORE"],
        task_serializer="auth",
        accept_content=["auth"],
        result_serializer="json",
        result_accept_content=["json"],
    )
    app.setup_security()
    return app


app = make_app()
if os.environ.get("LOVAGE_SECURITY_KEY"):
    secure(app)


@app.task(name="py.add")
def add(x, y):
    return x + y


@app.task(name="py.echo")
def echo(value):
    return value


@app.task(name="py.fail")
def fail(message):
    raise ValueError(message)
