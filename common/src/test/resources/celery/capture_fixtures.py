#!/usr/bin/python3
"""Capture real Celery 5.2 task-message wire fixtures from RabbitMQ.

Usage:
    /usr/bin/python3 capture_fixtures.py [amqp-uri]

Default URI: amqp://guest:guest@localhost:5672/%2F

Publishes two task messages with Celery's own ``app.send_task`` (protocol v2,
JSON) to a temporary direct exchange/queue, reads each raw message back with
``basic_get`` and writes, next to this script:

    celery-5.2-task-message.json      plain task (no eta/expires)
    celery-5.2-task-message-eta.json  eta, expires, retries, time limits,
                                      custom header

Each file is ``{"properties": {...}, "headers": {...}, "body": <parsed>,
"body_raw": "<exact body>"}``.  ``properties`` lists every AMQP basic property
except ``headers`` (which is the separate ``headers`` key); properties the
message does not carry are null.

Values that Celery generates and that cannot be fixed through send_task:
  * headers.origin        "gen<pid>@<hostname>"     (anon_nodename())
  * properties.reply_to   per-thread oid (uuid3 of node id/pid/thread/app)
  * properties.expiration (eta fixture only) ms until `expires`, computed from
                          the wall clock at send time.

Only the temporary exchange/queue are declared; ``declare=[]`` is passed to
send_task so that Celery does NOT declare its default ``celery`` queue as a
side effect (it does not change the message).  Both entities are deleted at
the end.
"""
import json
import os
import sys
import time
from datetime import datetime, timezone

import celery
import kombu
from celery import Celery
from kombu import Connection, Exchange, Queue

URI = sys.argv[1] if len(sys.argv) > 1 else 'amqp://guest:guest@localhost:5672/%2F'
HERE = os.path.dirname(os.path.abspath(__file__))

EXCHANGE = 'lovage.fixture'
QUEUE = 'lovage.fixture.capture'
ROUTING_KEY = 'lovage.fixture.capture'

# All AMQP 0-9-1 basic properties except 'headers' (written separately).
BASIC_PROPERTIES = (
    'content_type', 'content_encoding', 'delivery_mode', 'priority',
    'correlation_id', 'reply_to', 'expiration', 'message_id', 'timestamp',
    'type', 'user_id', 'app_id', 'cluster_id',
)


def jsonable(value):
    """Convert py-amqp decoded field-table values to JSON-compatible ones."""
    if isinstance(value, bytes):
        return value.decode('utf-8')
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def fetch_one(channel, timeout=10.0):
    # The task is published on Celery's own (pooled) connection, so poll:
    # it may not have been routed yet when basic_get is first issued.
    deadline = time.monotonic() + timeout
    while True:
        msg = channel.basic_get(queue=QUEUE, no_ack=True)
        if msg is not None:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f'no message in {QUEUE} after {timeout}s')
        time.sleep(0.05)
    props = dict(msg.properties)
    headers = props.pop('application_headers', None) or {}
    body_raw = msg.body
    if isinstance(body_raw, bytes):
        body_raw = body_raw.decode('utf-8')
    return {
        'properties': {k: jsonable(props.get(k)) for k in BASIC_PROPERTIES},
        'headers': jsonable(headers),
        'body': json.loads(body_raw),
        'body_raw': body_raw,
    }, msg.delivery_info


def write(name, fixture):
    path = os.path.join(HERE, name)
    with open(path, 'w', encoding='utf-8') as fh:
        json.dump(fixture, fh, indent=2, sort_keys=True, ensure_ascii=False)
        fh.write('\n')
    print(f'wrote {path}')


def main():
    print(f'celery {celery.__version__}, kombu {kombu.__version__}, broker {URI}')
    app = Celery('lovage_fixture_capture', broker=URI)
    app.conf.update(
        task_serializer='json',
        accept_content=['json'],
        task_protocol=2,
    )

    exchange = Exchange(EXCHANGE, type='direct', durable=False, auto_delete=False)
    queue = Queue(QUEUE, exchange=exchange, routing_key=ROUTING_KEY,
                  durable=False, auto_delete=False,
                  queue_arguments={'x-queue-type': 'classic'})

    with Connection(URI) as conn:
        channel = conn.channel()
        try:
            queue(channel).declare()
            channel.queue_purge(QUEUE)

            # 1. plain task message: no countdown, no eta, no expires.
            app.send_task(
                'demo.add', args=[2, 3], kwargs={'z': 4},
                task_id='a1b2c3d4-0000-4000-8000-000000000001',
                exchange=EXCHANGE, routing_key=ROUTING_KEY,
                declare=[],
            )
            plain, info = fetch_one(channel)
            print('message 1 delivery_info:', info)
            write('celery-5.2-task-message.json', plain)

            # 2. eta / expires / retries / time limits / custom header.
            app.send_task(
                'demo.add', args=[2, 3], kwargs={'z': 4},
                task_id='a1b2c3d4-0000-4000-8000-000000000002',
                exchange=EXCHANGE, routing_key=ROUTING_KEY,
                eta=datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
                expires=datetime(2030, 1, 3, 0, 0, 0, tzinfo=timezone.utc),
                retries=2, time_limit=60, soft_time_limit=30,
                headers={'x-custom': 'kept'},
                declare=[],
            )
            eta, info = fetch_one(channel)
            print('message 2 delivery_info:', info)
            write('celery-5.2-task-message-eta.json', eta)
        finally:
            try:
                channel.queue_delete(QUEUE)
                channel.exchange_delete(EXCHANGE)
            finally:
                channel.close()
                app.close()


if __name__ == '__main__':
    main()
