"""Sends task messages Lovage must refuse without running them: pickle, protocol v1, compressed.

Run by CeleryInteropIT with RABBITMQ_URI and LOVAGE_QUEUE set; prints the ids it sent as JSON.
"""
import json

from lovage_celery import make_app

app = make_app(accept_content=["json", "pickle"])
sent = {}
sent["pickle"] = app.send_task("demo.echo", args=["pickled"], serializer="pickle").id
sent["compressed"] = app.send_task("demo.echo", args=["zipped"], compression="zlib").id
sent["protocol1"] = make_app(task_protocol=1).send_task("demo.echo", args=["v1"]).id
print(json.dumps(sent), flush=True)
