"""Development-only routes of ``make run`` (the contract's /_dev routes; the template never has them).

* ``POST /_dev/revalidate``: runs the scheduled re-validation once, every eligible connection
  treated as due (the per-exchange cap still applies); answers ``{"checked": n, "changed": m}``.
* ``GET /_dev/events``: the status-change events published so far, as EventBridge entries
  (``Source``, ``DetailType``, ``Detail`` parsed), read from a queue the local stack subscribed to
  the bus.

No identity is needed: the server listens on 127.0.0.1 only, and neither route shows a secret.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from local.aws import EmbeddedAws, LocalResources
from local.events import HttpRequest, HttpResponse, json_response, new_request_id
from local.functions import FunctionRunner, report_crash

REVALIDATE_FUNCTION = "RevalidateFunction"


class DevRoutes:
    def __init__(self, runner: FunctionRunner, aws: EmbeddedAws | None, resources: LocalResources | None):
        self.runner = runner
        self.aws = aws
        self.resources = resources
        self._events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def handle(self, request: HttpRequest) -> HttpResponse | None:
        path = request.raw_path.rstrip("/")
        if not path.startswith("/_dev/"):
            return None
        if (request.method, path) == ("POST", "/_dev/revalidate"):
            return self._revalidate()
        if (request.method, path) == ("GET", "/_dev/events"):
            return json_response(200, {"events": self.events()}, new_request_id())
        return json_response(404, {"message": "Not Found"}, new_request_id())

    def _revalidate(self) -> HttpResponse:
        try:
            result = self.runner.invoke(REVALIDATE_FUNCTION, {"all_due": True})
        except Exception as error:
            report_crash(REVALIDATE_FUNCTION, error)
            return json_response(500, {"message": "Internal Server Error"}, new_request_id())
        return json_response(
            200, {"checked": result["checked"], "changed": result["changed"]}, new_request_id()
        )

    def events(self) -> list[dict[str, Any]]:
        """Everything published so far, in arrival order (the queue is drained into memory)."""
        with self._lock:
            if self.aws is not None and self.resources is not None and self.resources.events_queue_url:
                sqs = self.aws.client("sqs")
                while True:
                    messages = sqs.receive_message(
                        QueueUrl=self.resources.events_queue_url, MaxNumberOfMessages=10
                    ).get("Messages", [])
                    if not messages:
                        break
                    for message in messages:
                        self._events.append(_entry(json.loads(message["Body"])))
                        sqs.delete_message(
                            QueueUrl=self.resources.events_queue_url, ReceiptHandle=message["ReceiptHandle"]
                        )
            return list(self._events)


def _entry(event: dict[str, Any]) -> dict[str, Any]:
    detail = event.get("detail")
    return {
        "Source": event.get("source"),
        "DetailType": event.get("detail-type"),
        "Detail": json.loads(detail) if isinstance(detail, str) else detail,
        "Time": event.get("time"),
        "Id": event.get("id"),
    }
