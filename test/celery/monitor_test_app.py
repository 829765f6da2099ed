"""Tiny Celery app used by the integration and end-to-end tests.

Run workers as ``/usr/bin/python3 -m celery -A monitor_test_app worker -E ...`` with this
directory as the working directory (or on PYTHONPATH). The broker comes from the
``CM_TEST_BROKER_URL`` environment variable.
"""
import os
import time

from celery import Celery

BROKER_URL = os.environ.get("CM_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")

app = Celery("monitor_test_app", broker=BROKER_URL)
app.conf.update(
    task_ignore_result=True,
    worker_send_task_events=True,
    task_send_sent_event=True,
    event_serializer="json",
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
)


@app.task(name="add")
def add(x, y):
    return x + y


@app.task(name="fail")
def fail(msg):
    raise ValueError(msg)


@app.task(name="flaky", bind=True, max_retries=None)
def flaky(self, n):
    if self.request.retries < n:
        raise self.retry(countdown=0.2)
    return self.request.retries


@app.task(name="sleep")
def sleep(seconds):
    time.sleep(seconds)
    return seconds


@app.task(name="echo")
def echo(value):
    return value
