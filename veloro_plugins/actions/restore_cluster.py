"""Built-in RestoreItemActions: image renames (ConfigMap driven), API services, admission webhooks."""

from __future__ import annotations

from veloro_sdk.contracts import (
    JSONDict,
    ResourceSelector,
    RestoreItemAction,
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
)

from veloro_plugins.actions.fields import child, dict_list, labels_of
from veloro_plugins.actions.pluginconfig import PluginConfig

WORKLOADS = [
    "pods",
    "deployments.apps",
    "statefulsets.apps",
    "daemonsets.apps",
    "replicasets.apps",
    "replicationcontrollers",
    "jobs.batch",
    "cronjobs.batch",
]
AUTOMANAGED = "kube-aggregator.kubernetes.io/automanaged"
WEBHOOK_API_VERSION = "admissionregistration.k8s.io/v1"
VALID_SIDE_EFFECTS = frozenset({"None", "NoneOnDryRun"})


def parse_image_rules(data: dict[str, str]) -> list[tuple[str, str]]:
    """ConfigMap rows `"<old part>,<new part>"` in key order (case1, case2, ...); rows without a comma or
    with an empty part are ignored, as Velero does."""
    rules = []
    for key in sorted(data):
        old, sep, new = data[key].partition(",")
        if sep and old.strip() and new.strip():
            rules.append((old.strip(), new.strip()))
    return rules


def pod_spec_of(item: JSONDict) -> JSONDict:
    """The pod spec inside a pod, a CronJob, or any controller with spec.template."""
    spec = child(item, "spec")
    kind = item.get("kind")
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        return child(child(child(child(spec, "jobTemplate"), "spec"), "template"), "spec")
    return child(child(spec, "template"), "spec")


def rename_images(pod_spec: JSONDict, rules: list[tuple[str, str]]) -> bool:
    """Replace, in each image, every occurrence of the first rule's old part it contains."""
    changed = False
    for key in ("containers", "initContainers"):
        for container in dict_list(pod_spec, key):
            image = container.get("image")
            if not isinstance(image, str):
                continue
            for old, new in rules:
                if old in image:
                    container["image"] = image.replace(old, new)
                    changed = True
                    break
    return changed


class ChangeImageNameAction(RestoreItemAction):
    """Rename container images per the `change-image-name` ConfigMap (rows `"old,new"`, substring
    replacement) in pods and the pod templates of workload controllers."""

    def __init__(self) -> None:
        self.config = PluginConfig("change-image-name")

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(included_resources=list(WORKLOADS))

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        data = self.config.for_run(request.restore)
        rules = parse_image_rules(data) if data else []
        if not rules or not rename_images(pod_spec_of(request.item), rules):
            return RestoreItemActionExecuteResponse()
        return RestoreItemActionExecuteResponse(item=request.item)


class APIServiceRestoreAction(RestoreItemAction):
    """Skip APIServices the kube-aggregator manages itself (one per built-in group version): the target
    cluster has its own, and restoring them would conflict."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(
            included_resources=["apiservices.apiregistration.k8s.io"], selector=AUTOMANAGED
        )

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        # Checked again here: a host may run the action without evaluating the label selector.
        return RestoreItemActionExecuteResponse(skip_restore=AUTOMANAGED in labels_of(request.item))


class AdmissionWebhookConfigurationAction(RestoreItemAction):
    """Make v1 webhook configurations from older clusters valid: sideEffects other than None/NoneOnDryRun
    (Unknown, Some: v1beta1 values) become None, and a missing admissionReviewVersions becomes ["v1"]."""

    def applies_to(self) -> ResourceSelector:
        return ResourceSelector(
            included_resources=[
                "mutatingwebhookconfigurations.admissionregistration.k8s.io",
                "validatingwebhookconfigurations.admissionregistration.k8s.io",
            ]
        )

    def execute(self, request: RestoreItemActionExecuteRequest) -> RestoreItemActionExecuteResponse:
        item = request.item
        if item.get("apiVersion") != WEBHOOK_API_VERSION:
            return RestoreItemActionExecuteResponse()
        changed = False
        for webhook in dict_list(item, "webhooks"):
            if webhook.get("sideEffects") not in VALID_SIDE_EFFECTS:
                webhook["sideEffects"] = "None"
                changed = True
            if not webhook.get("admissionReviewVersions"):
                webhook["admissionReviewVersions"] = ["v1"]
                changed = True
        return RestoreItemActionExecuteResponse(item=item if changed else None)
