"""The Celery 5.2 side of Lovage's benchmarks (bench/run.sh starts it; see docs/benchmarks.md).

Tasks of the same names and semantics as Lovage's demo tasks (worker/.../demo/DemoTasks.java), on a
classic queue declared exactly as Lovage declares it (a Celery 5.2 worker asks for global QoS, which
quorum queues refuse). Results are ignored and no task events are sent, like Lovage tasks sent
with ignore_result; acknowledgements come after the task ran (task_acks_late), as in Lovage.
With BENCH_RESULT_BACKEND set (the workflow rows, bench_workflow.py), results are stored there:
chords need them, and Celery's rpc:// backend cannot join a chord.

Environment:
  RABBITMQ_URI               the broker
  BENCH_QUEUE                the queue to consume
  BENCH_PREFETCH_MULTIPLIER  worker_prefetch_multiplier; the bench sets concurrency x this = 200,
                             the prefetch it gives Lovage workers and PerfTest
  BENCH_DONE_FILE            one byte is appended per finished task: the bench polls its size
  BENCH_RESULT_BACKEND       a result backend URL (redis://...), or unset: results ignored
  BENCH_QUEUE_SHAPE          classic (default): the queue as Lovage declares a classic one, with
                             priorities; plain: as Celery declares a queue by default, no
                             arguments; quorum: as Lovage declares a quorum one (Celery 5.5 only:
                             5.2 asks for global QoS, which quorum queues refuse)
"""
import os
import time

from celery import Celery
from celery.signals import task_postrun
from kombu import Exchange, Queue


def lovage_queue(name, shape="classic"):
    """The queue as Lovage's TaskClient declares it (system-tests/.../lovage_celery.py), or plain."""
    if shape == "plain":
        return Queue(name, Exchange("celery", type="direct"), routing_key=name)
    queue_type = shape
    arguments = {
        "x-queue-type": queue_type,
        "x-dead-letter-exchange": "lovage.dead-letter",
        "x-dead-letter-routing-key": name,
    }
    if queue_type == "quorum":
        arguments["x-delivery-limit"] = 10
    else:
        arguments["x-max-priority"] = 9
    return Queue(name, Exchange("celery", type="direct"), routing_key=name,
                 queue_arguments=arguments)


QUEUE = os.environ.get("BENCH_QUEUE", "bench.celery")
RESULT_BACKEND = os.environ.get("BENCH_RESULT_BACKEND") or None

app = Celery("bench_tasks",
             broker=os.environ.get("RABBITMQ_URI", "amqp://guest:guest@localhost:5672/%2F"),
             backend=RESULT_BACKEND)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_queues=[lovage_queue(QUEUE, os.environ.get("BENCH_QUEUE_SHAPE", "classic"))],
    task_default_queue=QUEUE,
    task_ignore_result=RESULT_BACKEND is None,
    worker_send_task_events=False,
    task_acks_late=True,
    worker_prefetch_multiplier=int(os.environ.get("BENCH_PREFETCH_MULTIPLIER", "1")),
)

MAX_PRIMES_INPUT = 500_000_000


@app.task(name="demo.noop")
def noop():
    return None


@app.task(name="demo.add")
def add(x, y):
    return x + y


@app.task(name="demo.echo")
def echo(value):
    """Answers its argument: a chord body that gets the list of the header's results."""
    return value


@app.task(name="demo.sleep")
def sleep(seconds):
    """IO-bound: sleeps, holding no CPU; returns the seconds slept."""
    if seconds < 0:
        raise ValueError("demo.sleep() seconds must be >= 0")
    time.sleep(seconds)
    return seconds


@app.task(name="demo.primes")
def primes(n):
    """CPU-bound: the count of primes below n, by the sieve of Eratosthenes."""
    return primes_below(n)


def primes_below(n):
    if n < 0 or n > MAX_PRIMES_INPUT:
        raise ValueError("demo.primes() n must be between 0 and %d" % MAX_PRIMES_INPUT)
    if n < 3:
        return 0
    # The fastest plain-Python sieve: slice assignment marks multiples in C, under the GIL.
    sieve = bytearray([1]) * n
    sieve[0] = sieve[1] = 0
    i = 2
    while i * i < n:
        if sieve[i]:
            sieve[i * i::i] = bytes(len(range(i * i, n, i)))
        i += 1
    return sieve.count(1)


_done = {"pid": None, "fd": None}


@task_postrun.connect
def _count_finished(**_):
    """One byte per finished task, appended atomically from any process or thread."""
    path = os.environ.get("BENCH_DONE_FILE")
    if not path:
        return
    if _done["pid"] != os.getpid():  # a prefork child opens its own descriptor
        _done["fd"] = os.open(path, os.O_WRONLY | os.O_APPEND)
        _done["pid"] = os.getpid()
    os.write(_done["fd"], b".")
