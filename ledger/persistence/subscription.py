"""A subscription to the application sequence that polls the database."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence

from eventsourcing.persistence import ApplicationRecorder, Notification, Subscription


class PollingSubscription(Subscription[ApplicationRecorder]):
    """Yields notifications after `gt`, pulling pages and waiting while there are none."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        gt: int | None = None,
        topics: Sequence[str] = (),
        *,
        page_size: int = 500,
        poll_interval: float = 0.1,
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._page_size = page_size
        self._poll_interval = poll_interval
        self._buffer: deque[Notification] = deque()
        self._stopped = threading.Event()

    def stop(self) -> None:
        """Stop the subscription, waking an iteration that is waiting."""
        super().stop()
        self._stopped.set()

    def __next__(self) -> Notification:
        """Return the next notification, waiting for one to be recorded."""
        while not self._has_been_stopped:
            if self._buffer:
                notification = self._buffer.popleft()
                self._last_notification_id = notification.id
                return notification
            page = self._recorder.select_notifications(
                start=self._last_notification_id or 0,
                limit=self._page_size,
                topics=self._topics,
                inclusive_of_start=False,
            )
            if page:
                self._buffer.extend(page)
            else:
                self._stopped.wait(self._poll_interval)
        raise StopIteration
