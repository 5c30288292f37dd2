#!/usr/bin/python3
"""Sign one task body with Celery's own ``auth`` serializer, in both wire layouts.

Usage:
    /usr/bin/python3 capture_signed_fixtures.py [celery-5.5-security-dir]

Default 5.5 directory: /srv/lovage-trixie/usr/lib/python3/dist-packages/celery/security
(Debian trixie's Celery 5.5.2). Its ``serialization.py`` is loaded beside bookworm's Celery 5.2,
whose certificate and key classes it uses unchanged (only the packing differs between them).

Makes a throw-away RSA 2048 key and a self-signed certificate valid for 100 years with openssl,
signs the body of a ``demo.add(2, 3)`` protocol v2 message with SecureSerializer 5.2 and 5.5,
checks each serializer reads its own payload back and not the other's, and writes
``celery-auth-fixtures.json`` next to this script: the certificate (PEM), its Celery id, the
inner body, and the two payloads exactly as they travel as the AMQP body. The key is not kept.
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import celery.security.serialization as s52
from celery.security.certificate import Certificate, FSCertStore
from celery.security.key import PrivateKey

here = os.path.dirname(os.path.abspath(__file__))
dir55 = sys.argv[1] if len(sys.argv) > 1 else \
    "/srv/lovage-trixie/usr/lib/python3/dist-packages/celery/security"
spec = importlib.util.spec_from_file_location(
    "celery.security.serialization_55", os.path.join(dir55, "serialization.py"))
s55 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(s55)

with tempfile.TemporaryDirectory() as tmp:
    key_file, cert_file = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key_file, "-out", cert_file, "-days", "36500",
                    "-subj", "/C=DE/O=Lovage Fixtures/CN=celery-signer"],
                   check=True, capture_output=True)
    os.mkdir(os.path.join(tmp, "store"))
    with open(cert_file) as f:
        cert_pem = f.read()
    with open(os.path.join(tmp, "store", "cert.pem"), "w") as f:
        f.write(cert_pem)
    with open(key_file) as f:
        key = PrivateKey(f.read())
    cert = Certificate(cert_pem)
    store = FSCertStore(os.path.join(tmp, "store"))

body = ([2, 3], {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None})
old, new = s52.SecureSerializer(key, cert, store), s55.SecureSerializer(key, cert, store)
p52, p55 = old.serialize(body), new.serialize(body)
assert list(old.deserialize(p52)) == [[2, 3], {}, body[2]]
assert list(new.deserialize(p55)) == [[2, 3], {}, body[2]]
for reader, payload in ((new, p52), (old, p55)):
    try:
        reader.deserialize(payload)
        raise SystemExit("one Celery read the other's layout: update WireFormat")
    except Exception:
        pass

with open(os.path.join(here, "celery-auth-fixtures.json"), "w") as f:
    json.dump({"certificate": cert_pem, "signer": cert.get_id(),
               "body": old._unpack(p52)["body"],
               "payload_5_2": p52, "payload_5_5": p55}, f, indent=2)
    f.write("\n")
print("wrote celery-auth-fixtures.json, signer", cert.get_id())
