"""Sends one task with a countdown from Celery 5.5 through the delay ladder it shares with Lovage.

Run by CeleryDelayedDeliveryIT with LOVAGE_EXCHANGE_TYPE=topic (Celery 5.5 uses its native delayed
delivery only for queues on a topic exchange) before any worker consumes the queue. Prints one JSON
line when the task is on its way (where the message waits), then waits for the result and prints
another with the value and the seconds it took.
"""
import json
import os
import time

from lovage_celery import QUEUE, app

COUNTDOWN = int(os.environ.get("LOVAGE_COUNTDOWN", "10"))


def ready_messages(channel, queue):
    return channel.queue_declare(queue=queue, passive=True).message_count


start = time.time()
result = app.send_task("demo.add", args=[20, 22], countdown=COUNTDOWN)
with app.connection_for_write() as connection:
    channel = connection.channel()
    # The countdown's highest set bit names the level that holds the message first.
    level = COUNTDOWN.bit_length() - 1
    deadline = time.time() + 5
    while ready_messages(channel, f"celery_delayed_{level}") == 0 and time.time() < deadline:
        time.sleep(0.1)
    print(json.dumps({
        "id": result.id,
        "level": level,
        "in_level": ready_messages(channel, f"celery_delayed_{level}"),
        "in_queue": ready_messages(channel, QUEUE),
    }), flush=True)
value = result.get(timeout=COUNTDOWN + 60)
print(json.dumps({"value": value, "elapsed": time.time() - start}), flush=True)
