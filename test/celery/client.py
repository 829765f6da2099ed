"""Test client: sends tasks / control commands for monitor_test_app and prints ONE JSON line.

Usage: /usr/bin/python3 test/celery/client.py '<json-command>'
Broker: env CM_TEST_BROKER_URL (default amqp://guest:guest@127.0.0.1:5672//).

Commands:
  {"op": "send", "tasks": [{"name": "add", "args": [2, 3], "kwargs": {}, "countdown": 2,
                             "eta": "<iso>", "expires": 10, "queue": "celery", "id": "<uuid>"}]}
      -> {"ids": [...]}
  {"op": "burst", "count": N, "name": "add", "args": [1, 2], "queue": "celery"}
      -> {"ids": [...]}
  {"op": "revoke", "id": "<task id>" | ["id", ...], "terminate": true, "signal": "SIGTERM"}
      -> {"ok": true}
Exits non-zero with a message on stderr on any error.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SEND_OPTIONS = ("countdown", "eta", "expires", "queue", "routing_key", "priority")


def fail(message):
    sys.stderr.write("client.py: %s\n" % message)
    sys.exit(2)


def send_one(app, producer, spec):
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        fail("each task needs a string 'name': %r" % (spec,))
    options = {key: spec[key] for key in SEND_OPTIONS if spec.get(key) is not None}
    if spec.get("id"):
        options["task_id"] = spec["id"]
    result = app.send_task(
        spec["name"],
        args=spec.get("args") or [],
        kwargs=spec.get("kwargs") or {},
        producer=producer,
        **options
    )
    return result.id


def send_all(app, specs):
    with app.producer_or_acquire() as producer:
        return [send_one(app, producer, spec) for spec in specs]


def main(argv):
    if len(argv) != 2:
        fail("usage: client.py '<json-command>'")
    try:
        command = json.loads(argv[1])
    except ValueError as exc:
        fail("command is not JSON: %s" % exc)
    if not isinstance(command, dict):
        fail("command must be a JSON object")

    from monitor_test_app import app  # noqa: E402  (after sys.path tweak)

    op = command.get("op")
    if op == "send":
        tasks = command.get("tasks")
        if not isinstance(tasks, list) or not tasks:
            fail("'send' needs a non-empty 'tasks' list")
        out = {"ids": send_all(app, tasks)}
    elif op == "burst":
        count = command.get("count")
        if not isinstance(count, int) or count < 1:
            fail("'burst' needs a positive integer 'count'")
        spec = {key: command[key] for key in ("name", "args", "kwargs", "queue") if key in command}
        spec.setdefault("name", "add")
        spec.setdefault("args", [1, 1])
        out = {"ids": send_all(app, [spec] * count)}
    elif op == "revoke":
        task_id = command.get("id")
        if not task_id:
            fail("'revoke' needs 'id'")
        options = {"terminate": bool(command.get("terminate", False))}
        if command.get("signal"):
            options["signal"] = command["signal"]
        app.control.revoke(task_id, **options)
        out = {"ok": True}
    else:
        fail("unknown op %r (expected send, burst or revoke)" % (op,))

    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - report anything as a clean error
        sys.stderr.write("client.py: %s: %s\n" % (type(exc).__name__, exc))
        sys.exit(1)
