"""Celery canvas (chain, group, starmap, map, chunks) sent from Python Celery to Lovage workers.

Run by CeleryInteropIT with RABBITMQ_URI and LOVAGE_QUEUE set; prints one JSON line that the Java
test checks. Signatures are built by name (app.signature), as a client without the task code does.
"""
import json

from celery import chain, group
from celery.canvas import chunks, xmap, xstarmap

from lovage_celery import app

TIMEOUT = 30
out = {}


def sig(name, *args, **kwargs):
    return app.signature(name, args=args, kwargs=kwargs)


def sig_immutable(name, *args, **kwargs):
    return app.signature(name, args=args, kwargs=kwargs, immutable=True)


# A chain of three: (1 + 2) -> + 10 -> + 100; the middle result through res.parent.
res = chain(sig("demo.add", 1, 2), sig("demo.add", 10), sig("demo.add", 100)).apply_async()
out["chain"] = {
    "result": res.get(timeout=TIMEOUT),
    "middle": res.parent.get(timeout=TIMEOUT),
    "first": res.parent.parent.get(timeout=TIMEOUT),
}

# Immutable steps ignore the previous result; a partial signature gets it by keyword too.
res = chain(sig("demo.add", 1, 2), sig_immutable("demo.echo", "fixed"), sig("demo.echo")).apply_async()
out["immutable"] = res.get(timeout=TIMEOUT)
res = chain(sig("demo.add", 20, 1), sig("demo.add", y=21)).apply_async()
out["partial_kwargs"] = res.get(timeout=TIMEOUT)

# A failure mid-chain: the client waiting on the last step gets the error instead of hanging.
res = chain(sig("demo.add", 1, 1), sig_immutable("demo.fail", "mid-chain"), sig("demo.add", 1)).apply_async()
try:
    res.get(timeout=TIMEOUT)
    out["failure"] = None
except Exception as error:
    out["failure"] = {"type": type(error).__name__, "message": str(error)}

# A group of ten: results in order.
out["group"] = group(sig("demo.add", i, i) for i in range(10)).apply_async().get(timeout=TIMEOUT)

out["starmap"] = xstarmap(sig("demo.add"), [(1, 2), (3, 4)]).apply_async().get(timeout=TIMEOUT)
out["map"] = xmap(sig("demo.echo"), ["a", "b"]).apply_async().get(timeout=TIMEOUT)
out["chunks"] = chunks(sig("demo.add"), [(i, i) for i in range(5)], 2).apply_async().get(timeout=TIMEOUT)

print(json.dumps(out), flush=True)
