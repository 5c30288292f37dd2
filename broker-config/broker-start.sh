#!/usr/bin/env bash
# The RabbitMQ container's entrypoint in docker-compose.yml: starts RabbitMQ as the image does,
# then makes Lovage's users (lovage-users.sh apply: passwords from /run/lovage-secrets, made at
# random on the first start, guest deleted). The healthcheck passes once the users exist, so the
# producer and workers never try credentials that are not there yet.
set -euo pipefail
ready=/tmp/lovage-users-ready
rm -f "$ready"
docker-entrypoint.sh "$@" &
server=$!
# docker stop sends SIGTERM to this script (PID 1): pass it on and exit as RabbitMQ does.
trap 'kill -TERM "$server" 2>/dev/null; wait "$server"; exit $?' TERM INT
until rabbitmqctl -q await_startup >/dev/null 2>&1; do
  if ! kill -0 "$server" 2>/dev/null; then
    wait "$server"
    exit $?
  fi
  sleep 1
done
bash /etc/lovage/lovage-users.sh apply
touch "$ready"
echo "lovage: broker users ready (passwords in /run/lovage-secrets)"
wait "$server"
