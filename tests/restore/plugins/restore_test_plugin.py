"""A real plugin process for the restore tests: two RestoreItemActions served over gRPC (go-plugin).

- test.veloro.io/annotate (v1): configmaps labelled restore-test=yes get an annotation recording what the
  host passed (the restore name, the item-from-backup's resourceVersion) and, when annotated with
  test.veloro.io/needs-secret=<name>, return that secret (in the item's current namespace) as an
  additional item.
  Label restore-fail=true makes Execute raise; restore-crash=true kills the process mid-call (the host
  restarts it). With TEST_BATCH_LOG set, every execute_batch call appends its size (one line) to that file.
- test.veloro.io/skip (v1): configmaps labelled skip-me=true are skipped (skipRestore).
"""

from __future__ import annotations

import os

from veloro_sdk.contracts import (
    PluginError,
    ResourceIdentifier,
    ResourceSelector,
    RestoreItemAction,
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
)
from veloro_sdk.serve import PluginServer

NEEDS_SECRET = "test.veloro.io/needs-secret"


class Annotate(RestoreItemAction):
    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["configmaps"], selector="restore-test=yes")

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        item = request.item
        meta = item.setdefault("metadata", {})
        labels = meta.get("labels") or {}
        if labels.get("restore-fail") == "true":
            raise PluginError(f"refusing configmap {meta.get('name')} (label restore-fail)")
        if labels.get("restore-crash") == "true":
            os._exit(3)
        annotations = meta.setdefault("annotations", {})
        annotations["test.veloro.io/restore"] = str(request.restore["metadata"]["name"])
        rv = (request.item_from_backup.get("metadata") or {}).get("resourceVersion", "")
        annotations["test.veloro.io/from-backup-rv"] = str(rv)
        annotations["test.veloro.io/item-rv"] = str(meta.get("resourceVersion", "<reset>"))
        additional = []
        if annotations.get(NEEDS_SECRET):
            additional.append(
                ResourceIdentifier("", "secrets", str(meta.get("namespace", "")), annotations[NEEDS_SECRET])
            )
        return RestoreItemActionExecuteResponse(item=item, additional_items=additional)

    def execute_batch(
        self, requests: list[RestoreItemActionExecuteRequest]
    ) -> list[RestoreItemActionExecuteResponse | Exception]:
        log = os.environ.get("TEST_BATCH_LOG")
        if log:
            with open(log, "a") as f:
                f.write(f"{len(requests)}\n")
        return super().execute_batch(requests)


class Skip(RestoreItemAction):
    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=["configmaps"], selector="skip-me=true")

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        return RestoreItemActionExecuteResponse(skip_restore=True)


if __name__ == "__main__":
    server = PluginServer()
    server.register_restore_item_action("test.veloro.io/annotate", Annotate)
    server.register_restore_item_action("test.veloro.io/skip", Skip)
    server.serve()
