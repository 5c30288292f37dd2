#!/usr/bin/env bash
# Lovage's broker users, one per role, each allowed what its role needs and refused the rest.
#
#   lovage-users.sh print   prints the rabbitmqctl commands that set the roles' tags and
#                           permissions (for a broker managed elsewhere: run them as its admin)
#   lovage-users.sh apply   creates or updates the users on this node, each with the password in
#                           $LOVAGE_SECRETS/<role> (a file made with a random password if missing),
#                           then runs those commands; deletes guest
#
# Settings (environment): LOVAGE_VHOST (default /), LOVAGE_USER_PREFIX (default lovage-: the users
# are lovage-producer, lovage-worker and lovage-monitoring), LOVAGE_SECRETS (default
# /run/lovage-secrets), LOVAGE_TASK_QUEUES (regex of the task queues the workers consume, default
# everything: queue names are yours to choose), LOVAGE_DELETE_GUEST (default true), RABBITMQCTL
# (default rabbitmqctl: the command, with any wrapper, that reaches the node).
#
# The apps of these users run with LOVAGE_TOPOLOGY=verify: the shared topology (task queues, the
# delay ladder, streams, exchanges) comes from definitions.json, so no role may configure (which in
# RabbitMQ includes delete) any of it. What each role may do is in docs/security.md.
set -euo pipefail

vhost="${LOVAGE_VHOST:-/}"
prefix="${LOVAGE_USER_PREFIX:-lovage-}"
secrets="${LOVAGE_SECRETS:-/run/lovage-secrets}"
task_queues="${LOVAGE_TASK_QUEUES:-.*}"
ctl="${RABBITMQCTL:-rabbitmqctl}"

# Queues and exchanges an app declares for itself: reply queues, remote-control (pidbox) queues and
# Celery's transient pidbox exchanges, the worker directory, and the fleet's lock, permit and token
# queues (expiring classic queues made on demand).
own='^(lovage\.(reply|recorded-replies|workers|unique|permits|tokens)\..*|.*\.reply\.celery\.pidbox|.*\.celery\.pidbox|celery\.pidbox|reply\.celery\.pidbox)$'
# Publishing: to the task exchange (a task's own queue is reached through it), Celery's events,
# the delay ladder, the pidbox exchanges, and the default exchange (replies, results and records
# go straight to a queue or a stream by its name). Binding one's own queue needs write on it.
writes='^(celery|celeryev|celery_delayed_.*|celery\.pidbox|reply\.celery\.pidbox|amq\.default|lovage\..*|.*\.celery\.pidbox)$'
# Reading the streams and queues of results, events, revocations, workflows, schedules and limits,
# and the exchanges one's own queues are bound to.
streams='lovage\.(events|revocations|chords|chords\.done|schedules|schedule\.runs|scheduler|limits)'
producer_reads="^($streams|lovage\.(reply|recorded-replies|workers|unique)\..*|.*\.reply\.celery\.pidbox|celeryev|reply\.celery\.pidbox|.*\.dead-letter(\.broker)?)\$"
worker_reads="^($task_queues|$streams|lovage\.(reply|workers|unique|permits|tokens|urgent)\..*|.*\.celery\.pidbox|celeryev|celery\.pidbox|reply\.celery\.pidbox)\$"

commands() {
  local v="$vhost"
  echo "rabbitmqctl set_user_tags ${prefix}producer management"
  echo "rabbitmqctl set_permissions -p '$v' ${prefix}producer '$own' '$writes' '$producer_reads'"
  echo "rabbitmqctl set_topic_permissions -p '$v' ${prefix}producer celeryev '^task\\..*' '.*'"
  echo "rabbitmqctl set_user_tags ${prefix}worker"
  echo "rabbitmqctl set_permissions -p '$v' ${prefix}worker '$own' '$writes' '$worker_reads'"
  echo "rabbitmqctl set_topic_permissions -p '$v' ${prefix}worker celeryev '^(task|worker)\\..*' '.*'"
  echo "rabbitmqctl set_user_tags ${prefix}monitoring monitoring"
  echo "rabbitmqctl set_permissions -p '$v' ${prefix}monitoring '^\$' '^\$' '^\$'"
}

case "${1:-}" in
  print)
    commands
    ;;
  apply)
    mkdir -p "$secrets"
    users="$($ctl -q list_users | awk '{print $1}')"
    for role in producer worker monitoring; do
      file="$secrets/$role"
      # noclobber: of nodes starting together (a cluster) on one secrets volume, one writes it.
      (set -C; umask 022; head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > "$file") 2>/dev/null || true
      user="$prefix$role"
      if grep -qx "$user" <<< "$users"; then
        $ctl -q change_password "$user" "$(cat "$file")" >/dev/null
      else
        # Another node of a cluster may have added it meanwhile.
        $ctl -q add_user "$user" "$(cat "$file")" >/dev/null 2>&1 \
          || $ctl -q change_password "$user" "$(cat "$file")" >/dev/null
      fi
    done
    # </dev/null: rabbitmqctl would read the rest of the commands from standard input.
    commands | while read -r line; do eval "$ctl ${line#rabbitmqctl }" </dev/null >/dev/null; done
    if [ "${LOVAGE_DELETE_GUEST:-true}" = true ]; then
      $ctl -q delete_user guest >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "usage: $0 print|apply" >&2
    exit 2
    ;;
esac
