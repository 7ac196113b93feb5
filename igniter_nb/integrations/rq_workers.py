"""RQ's worker classes with their pub/sub thread stopped at once: ``igniter_nb.integrations.rq.worker()`` builds its
workers of them, and ``rq worker -w igniter_nb.integrations.rq.SimpleWorker`` (or ``.Worker``) runs them. See
``docs/integrations.md`` (Running a worker) for why: RQ 3.0 with redis-py 8 took 60 s to stop now and then."""

from __future__ import annotations

import functools
import inspect
from typing import Any

from rq import worker as rq_base

PUBSUB_STOP_WAIT = 5.0
"""Seconds a stopping worker waits for its pub/sub thread, which ends as soon as it reads the answer to UNSUBSCRIBE;
a thread still running then (Redis gone: it retries every 2 s) is a daemon, and its connection is closed anyway."""


class StopsPubSubFirst(rq_base.BaseWorker):
    """RQ's worker with ``unsubscribe`` in the order that ends its pub/sub thread at once: the thread is told to stop,
    then woken by the answer to UNSUBSCRIBE. RQ 3.0 unsubscribes first and tells the thread only then: the thread,
    woken by the answer before that, reads again and, with redis-py 8, waits out its ``sleep_time`` (60 s) for a new
    subscription (``PubSub.get_message``), while ``PubSubWorkerThread.stop()`` joins it without a bound; one stop in
    a few took a minute when another thread of the process kept the GIL busy."""

    def unsubscribe(self) -> None:
        """Stop the pub/sub thread and close its connection (RQ's teardown calls it); returns once the thread ended,
        or after ``PUBSUB_STOP_WAIT`` seconds."""
        thread: Any = self.pubsub_thread
        pubsub: Any = self.pubsub
        if thread is None or pubsub is None:
            return
        self.log.info("Worker %s: unsubscribing from channel %s", self.name, self.pubsub_channel_name)
        if "timeout" in inspect.signature(thread.stop).parameters:
            thread.stop(timeout=0)  # redis-py 8 waits in stop() for the thread to end unless told not to
        else:
            thread.stop()  # (redis-py before 8: stop() only clears the flag)
        try:
            pubsub.unsubscribe()  # the answer wakes the thread, which finds the flag cleared and ends
        finally:
            thread.join(PUBSUB_STOP_WAIT)
            pubsub.close()


class Worker(StopsPubSubFirst, rq_base.Worker):
    """``rq.Worker`` (a work horse forked per job) that stops at once: ``rq worker -w
    igniter_nb.integrations.rq.Worker``."""


class SimpleWorker(StopsPubSubFirst, rq_base.SimpleWorker):
    """``rq.SimpleWorker`` (jobs run in the worker's own process) that stops at once: ``rq worker -w
    igniter_nb.integrations.rq.SimpleWorker``."""


@functools.cache
def stopping_at_once(cls: type) -> type:
    """``cls`` with :class:`StopsPubSubFirst`'s ``unsubscribe``; ``cls`` itself when it has its own (or already
    that one), or is no RQ worker class (RQ's constructor then says what is wrong)."""
    ours = {rq_base.Worker: Worker, rq_base.SimpleWorker: SimpleWorker}
    if cls in ours:
        return ours[cls]
    if not (isinstance(cls, type) and issubclass(cls, rq_base.BaseWorker)) \
            or cls.unsubscribe is not rq_base.BaseWorker.unsubscribe:
        return cls
    return type(cls.__name__, (StopsPubSubFirst, cls), {"__module__": cls.__module__, "__doc__": cls.__doc__})


__all__ = ["PUBSUB_STOP_WAIT", "SimpleWorker", "StopsPubSubFirst", "Worker", "stopping_at_once"]
