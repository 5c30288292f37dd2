"""The Celery 5.2 client of the bench's workflow rows (WorkflowComparison.java runs it; see
docs/benchmarks.md).

Submits the same two workflows as the Java side to a Celery worker running bench_tasks.py with a
result backend, and times each from apply_async() to its result in this client (AsyncResult.get):

  chord([noop.s() for _ in range(CHORD)], echo.s())          the result: a list of CHORD nulls
  chain(add.s(0, 0), *[add.s(1) for _ in range(CHAIN - 1)])   the result: CHAIN - 1

One untimed run of each first, then RUNS timed runs of each, alternating. Prints one JSON line,
{"chord": {"warmup": s, "runs": [s, ...]}, "chain": {...}}; exits non-zero if a result is wrong.

Usage: bench_workflow.py --chord 1000 --chain 100 --runs 3
Environment: as bench_tasks.py (RABBITMQ_URI, BENCH_QUEUE, BENCH_RESULT_BACKEND).
"""
import argparse
import json
import sys
import time

from celery import chain, chord

from bench_tasks import RESULT_BACKEND, add, echo, noop

TIMEOUT_SECONDS = 120


def chord_of(size):
    return chord([noop.s() for _ in range(size)], echo.s())


def chain_of(steps):
    return chain(add.s(0, 0), *[add.s(1) for _ in range(steps - 1)])


def timed(name, signature, expected, described):
    """Seconds from apply_async() to the result; the signature is built before, as in Java."""
    start = time.perf_counter()
    result = signature.apply_async().get(timeout=TIMEOUT_SECONDS)
    seconds = time.perf_counter() - start
    if result != expected:
        sys.exit("%s answered %s, expected %s" % (name, repr(result)[:200], described))
    print("  %s: %.3f s" % (name, seconds), file=sys.stderr, flush=True)
    return seconds


def main():
    parser = argparse.ArgumentParser(description="Times a Celery chord and chain, submit to result")
    parser.add_argument("--chord", type=int, required=True, help="header tasks of the chord")
    parser.add_argument("--chain", type=int, required=True, help="steps of the chain")
    parser.add_argument("--runs", type=int, required=True,
                        help="timed runs of each, after one untimed")
    args = parser.parse_args()
    if not RESULT_BACKEND:
        sys.exit("BENCH_RESULT_BACKEND is not set: Celery needs a result backend to join a chord")

    workflows = {
        "chord": (lambda: chord_of(args.chord), [None] * args.chord,
                  "a list of %d nulls" % args.chord),
        "chain": (lambda: chain_of(args.chain), args.chain - 1, str(args.chain - 1)),
    }
    times = {name: {"warmup": None, "runs": []} for name in workflows}
    for run in range(args.runs + 1):
        for name, (build, expected, described) in workflows.items():
            label = "%s %s" % (name, "warm-up" if run == 0 else "run %d" % run)
            seconds = timed(label, build(), expected, described)
            if run == 0:
                times[name]["warmup"] = seconds
            else:
                times[name]["runs"].append(seconds)
    print(json.dumps(times), flush=True)


if __name__ == "__main__":
    main()
