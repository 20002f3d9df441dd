"""Decoding of Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf) into JSON dicts.

kubectl's typed clients send protobuf for built-in kinds: `kubectl create namespace|configmap|secret|
deployment|service|job|cronjob|role|rolebinding|...`, `kubectl run`, `kubectl auth can-i`. kubesim keeps a
hand-written field table (field number -> JSON name and type) for the messages those commands produce; a
field outside the table is refused with 415 and a hint to use a YAML/JSON manifest instead, never dropped.
Responses are always JSON (kubectl accepts either).

Table syntax per message: space-separated `name=number:type`; `*name` is repeated, `^name` is an embedded
struct inlined into its parent in JSON, `{T}` is map<string, T>, `-` is skipped (status on create). Scalar
types: s string, i integer, b bool, y bytes (base64 in JSON), q Quantity, n IntOrString, t Time; a `!`
suffix keeps zero values (pointer fields in Go), which are otherwise dropped like Go's omitempty does.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from kubesim.errors import ApiError

MAGIC = b"k8s\x00"
PROTOBUF = "application/vnd.kubernetes.protobuf"

_TABLE: dict[str, str] = {
    # meta/v1
    "ObjectMeta": (
        "name=1:s generateName=2:s namespace=3:s selfLink=4:s uid=5:s resourceVersion=6:s "
        "generation=7:i creationTimestamp=8:t deletionTimestamp=9:t "
        "deletionGracePeriodSeconds=10:i labels=11:{s} annotations=12:{s} "
        "*ownerReferences=13:OwnerReference *finalizers=14:s"
    ),
    "OwnerReference": ("apiVersion=5:s kind=1:s name=3:s uid=4:s controller=6:b! blockOwnerDeletion=7:b!"),
    "LabelSelector": "matchLabels=1:{s} *matchExpressions=2:LabelSelectorRequirement",
    "LabelSelectorRequirement": "key=1:s operator=2:s *values=3:s",
    # core/v1
    "Namespace": "metadata=1:ObjectMeta spec=2:NamespaceSpec status=3:-",
    "NamespaceSpec": "*finalizers=1:s",
    "ConfigMap": "metadata=1:ObjectMeta data=2:{s} binaryData=3:{y} immutable=4:b!",
    "Secret": "metadata=1:ObjectMeta data=2:{y} type=3:s stringData=4:{s} immutable=5:b!",
    "ServiceAccount": (
        "metadata=1:ObjectMeta *secrets=2:ObjectReference "
        "*imagePullSecrets=3:LocalObjectReference automountServiceAccountToken=4:b!"
    ),
    "ObjectReference": (
        "kind=1:s namespace=2:s name=3:s uid=4:s apiVersion=5:s resourceVersion=6:s fieldPath=7:s"
    ),
    "LocalObjectReference": "name=1:s",
    "ResourceQuota": "metadata=1:ObjectMeta spec=2:ResourceQuotaSpec status=3:-",
    "ResourceQuotaSpec": "hard=1:{q} *scopes=2:s",
    "Service": "metadata=1:ObjectMeta spec=2:ServiceSpec status=3:-",
    "ServiceSpec": (
        "*ports=1:ServicePort selector=2:{s} clusterIP=3:s type=4:s *externalIPs=5:s "
        "sessionAffinity=7:s loadBalancerIP=8:s *loadBalancerSourceRanges=9:s "
        "externalName=10:s externalTrafficPolicy=11:s healthCheckNodePort=12:i "
        "publishNotReadyAddresses=13:b ipFamilyPolicy=17:s *clusterIPs=18:s "
        "*ipFamilies=19:s allocateLoadBalancerNodePorts=20:b! loadBalancerClass=21:s "
        "internalTrafficPolicy=22:s"
    ),
    "ServicePort": "name=1:s protocol=2:s port=3:i! targetPort=4:n nodePort=5:i appProtocol=6:s",
    "Pod": "metadata=1:ObjectMeta spec=2:PodSpec status=3:-",
    "PodTemplateSpec": "metadata=1:ObjectMeta spec=2:PodSpec",
    "PodSpec": (
        "*volumes=1:Volume *containers=2:Container restartPolicy=3:s "
        "terminationGracePeriodSeconds=4:i! activeDeadlineSeconds=5:i! dnsPolicy=6:s "
        "nodeSelector=7:{s} serviceAccountName=8:s serviceAccount=9:s nodeName=10:s "
        "hostNetwork=11:b hostPID=12:b hostIPC=13:b securityContext=14:PodSecurityContext "
        "*imagePullSecrets=15:LocalObjectReference hostname=16:s subdomain=17:s "
        "schedulerName=19:s *initContainers=20:Container automountServiceAccountToken=21:b! "
        "*tolerations=22:Toleration priorityClassName=24:s priority=25:i! "
        "enableServiceLinks=30:b! preemptionPolicy=31:s"
    ),
    "PodSecurityContext": (
        "runAsUser=2:i! runAsNonRoot=3:b! *supplementalGroups=4:i fsGroup=5:i! runAsGroup=6:i!"
    ),
    "Toleration": "key=1:s operator=2:s value=3:s effect=4:s tolerationSeconds=5:i!",
    "Container": (
        "name=1:s image=2:s *command=3:s *args=4:s workingDir=5:s *ports=6:ContainerPort "
        "*envFrom=19:EnvFromSource *env=7:EnvVar resources=8:ResourceRequirements "
        "*volumeMounts=9:VolumeMount terminationMessagePath=13:s "
        "terminationMessagePolicy=20:s imagePullPolicy=14:s stdin=16:b stdinOnce=17:b "
        "tty=18:b restartPolicy=24:s"
    ),
    "ContainerPort": "name=1:s hostPort=2:i containerPort=3:i! protocol=4:s hostIP=5:s",
    "EnvVar": "name=1:s value=2:s valueFrom=3:EnvVarSource",
    "EnvVarSource": (
        "fieldRef=1:ObjectFieldSelector configMapKeyRef=3:ConfigMapKeySelector "
        "secretKeyRef=4:SecretKeySelector"
    ),
    "EnvFromSource": "prefix=1:s configMapRef=2:ConfigMapEnvSource secretRef=3:SecretEnvSource",
    "ConfigMapEnvSource": "^localObjectReference=1:LocalObjectReference optional=2:b!",
    "SecretEnvSource": "^localObjectReference=1:LocalObjectReference optional=2:b!",
    "ObjectFieldSelector": "apiVersion=1:s fieldPath=2:s",
    "ConfigMapKeySelector": "^localObjectReference=1:LocalObjectReference key=2:s optional=3:b!",
    "SecretKeySelector": "^localObjectReference=1:LocalObjectReference key=2:s optional=3:b!",
    "ResourceRequirements": "limits=1:{q} requests=2:{q}",
    "VolumeMount": ("name=1:s readOnly=2:b mountPath=3:s subPath=4:s mountPropagation=5:s subPathExpr=6:s"),
    "Volume": "name=1:s ^volumeSource=2:VolumeSource",
    "VolumeSource": (
        "hostPath=1:HostPathVolumeSource emptyDir=2:EmptyDirVolumeSource "
        "secret=6:SecretVolumeSource "
        "persistentVolumeClaim=10:PersistentVolumeClaimVolumeSource "
        "configMap=19:ConfigMapVolumeSource"
    ),
    "HostPathVolumeSource": "path=1:s type=2:s",
    "EmptyDirVolumeSource": "medium=1:s sizeLimit=2:q",
    "SecretVolumeSource": "secretName=1:s defaultMode=3:i! optional=4:b!",
    "PersistentVolumeClaimVolumeSource": "claimName=1:s readOnly=2:b",
    "ConfigMapVolumeSource": ("^localObjectReference=1:LocalObjectReference defaultMode=3:i! optional=4:b!"),
    # apps/v1
    "Deployment": "metadata=1:ObjectMeta spec=2:DeploymentSpec status=3:-",
    "DeploymentSpec": (
        "replicas=1:i! selector=2:LabelSelector template=3:PodTemplateSpec "
        "strategy=4:DeploymentStrategy minReadySeconds=5:i revisionHistoryLimit=6:i! "
        "paused=7:b progressDeadlineSeconds=9:i!"
    ),
    "DeploymentStrategy": "type=1:s rollingUpdate=2:RollingUpdateDeployment",
    "RollingUpdateDeployment": "maxUnavailable=1:n maxSurge=2:n",
    # batch/v1
    "Job": "metadata=1:ObjectMeta spec=2:JobSpec status=3:-",
    "JobSpec": (
        "parallelism=1:i! completions=2:i! activeDeadlineSeconds=3:i! selector=4:LabelSelector "
        "manualSelector=5:b! template=6:PodTemplateSpec backoffLimit=7:i! "
        "ttlSecondsAfterFinished=8:i! completionMode=9:s suspend=10:b!"
    ),
    "CronJob": "metadata=1:ObjectMeta spec=2:CronJobSpec status=3:-",
    "CronJobSpec": (
        "schedule=1:s startingDeadlineSeconds=2:i! concurrencyPolicy=3:s suspend=4:b! "
        "jobTemplate=5:JobTemplateSpec successfulJobsHistoryLimit=6:i! "
        "failedJobsHistoryLimit=7:i! timeZone=8:s"
    ),
    "JobTemplateSpec": "metadata=1:ObjectMeta spec=2:JobSpec",
    # rbac.authorization.k8s.io/v1
    "Role": "metadata=1:ObjectMeta *rules=2:PolicyRule",
    "ClusterRole": "metadata=1:ObjectMeta *rules=2:PolicyRule aggregationRule=3:AggregationRule",
    "AggregationRule": "*clusterRoleSelectors=1:LabelSelector",
    "PolicyRule": "*verbs=1:s *apiGroups=2:s *resources=3:s *resourceNames=4:s *nonResourceURLs=5:s",
    "RoleBinding": "metadata=1:ObjectMeta *subjects=2:Subject roleRef=3:RoleRef",
    "ClusterRoleBinding": "metadata=1:ObjectMeta *subjects=2:Subject roleRef=3:RoleRef",
    "Subject": "kind=1:s apiGroup=2:s name=3:s namespace=4:s",
    "RoleRef": "apiGroup=1:s kind=2:s name=3:s",
    # policy/v1, scheduling.k8s.io/v1
    "PodDisruptionBudget": "metadata=1:ObjectMeta spec=2:PodDisruptionBudgetSpec status=3:-",
    "PodDisruptionBudgetSpec": (
        "minAvailable=1:n selector=2:LabelSelector maxUnavailable=3:n unhealthyPodEvictionPolicy=4:s"
    ),
    "PriorityClass": (
        "metadata=1:ObjectMeta value=2:i! globalDefault=3:b description=4:s preemptionPolicy=5:s"
    ),
    # networking.k8s.io/v1
    "Ingress": "metadata=1:ObjectMeta spec=2:IngressSpec status=3:-",
    "IngressSpec": (
        "defaultBackend=1:IngressBackend *tls=2:IngressTLS *rules=3:IngressRule ingressClassName=4:s"
    ),
    "IngressTLS": "*hosts=1:s secretName=2:s",
    "IngressRule": "host=1:s ^ingressRuleValue=2:IngressRuleValue",
    "IngressRuleValue": "http=1:HTTPIngressRuleValue",
    "HTTPIngressRuleValue": "*paths=1:HTTPIngressPath",
    "HTTPIngressPath": "path=1:s backend=2:IngressBackend pathType=3:s",
    "IngressBackend": "service=4:IngressServiceBackend",
    "IngressServiceBackend": "name=1:s port=2:ServiceBackendPort",
    "ServiceBackendPort": "name=1:s number=2:i",
    # authorization.k8s.io/v1, authentication.k8s.io/v1
    "SelfSubjectAccessReview": "metadata=1:ObjectMeta spec=2:SelfSubjectAccessReviewSpec status=3:-",
    "SelfSubjectAccessReviewSpec": (
        "resourceAttributes=1:ResourceAttributes nonResourceAttributes=2:NonResourceAttributes"
    ),
    "ResourceAttributes": (
        "namespace=1:s verb=2:s group=3:s version=4:s resource=5:s subresource=6:s name=7:s"
    ),
    "NonResourceAttributes": "path=1:s verb=2:s",
    "SelfSubjectReview": "metadata=1:ObjectMeta status=2:-",
}

Field = tuple[str, int, str, bool, bool, bool, bool]  # name, number, type, repeated, map, inline, keep zero


def _parse_table() -> dict[str, dict[int, Field]]:
    out: dict[str, dict[int, Field]] = {}
    for message, text in _TABLE.items():
        fields: dict[int, Field] = {}
        for spec in text.split():
            left, type_ = spec.split(":", 1)
            name, num = left.split("=")
            repeated, inline = name.startswith("*"), name.startswith("^")
            name = name.lstrip("*^")
            is_map = type_.startswith("{")
            keep = type_.endswith("!")
            fields[int(num)] = (name, int(num), type_.strip("{}!"), repeated, is_map, inline, keep)
        out[message] = fields
    return out


_SCHEMA = _parse_table()


def _unsupported(message: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"kubesim cannot decode this protobuf body ({message}); send the object as JSON or YAML, e.g. "
        "`kubectl create ... --dry-run=client -o yaml | kubectl apply -f -`",
    )


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise _unsupported("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """Split a message into (field number, wire type, raw value)."""
    out: list[tuple[int, int, Any]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        num, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        elif wire == 1:
            value, pos = int.from_bytes(buf[pos : pos + 8], "little"), pos + 8
        elif wire == 5:
            value, pos = int.from_bytes(buf[pos : pos + 4], "little"), pos + 4
        else:
            raise _unsupported(f"wire type {wire}")
        out.append((num, wire, value))
    return out


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _scalar(type_: str, raw: Any) -> Any:
    if type_ == "s":
        return bytes(raw).decode()
    if type_ == "i":
        return _signed(raw)
    if type_ == "b":
        return bool(raw)
    if type_ == "y":
        return base64.b64encode(bytes(raw)).decode()
    if type_ == "q":  # Quantity { string = 1 }
        return next((bytes(v).decode() for n, _, v in _fields(raw) if n == 1), "0")
    if type_ == "n":  # IntOrString { type = 1; intVal = 2; strVal = 3 }
        parts = {n: v for n, _, v in _fields(raw)}
        return bytes(parts.get(3, b"")).decode() if parts.get(1) == 1 else _signed(parts.get(2, 0))
    if type_ == "t":  # Time { seconds = 1; nanos = 2 }
        seconds = _signed({n: v for n, _, v in _fields(raw)}.get(1, 0))
        if seconds <= -62135596800:  # Go's zero time
            return None
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
    return decode_message(type_, raw)


def decode_message(message: str, buf: bytes) -> dict[str, Any]:
    schema = _SCHEMA.get(message)
    if schema is None:
        raise _unsupported(f"message {message} is not in kubesim's table")
    out: dict[str, Any] = {}
    for num, _, raw in _fields(buf):
        field = schema.get(num)
        if field is None:
            raise _unsupported(f"field {num} of {message}")
        name, _, type_, repeated, is_map, inline, keep = field
        if type_ == "-":
            continue  # status on create: the server resets it anyway
        if is_map:
            entry = {n: v for n, _, v in _fields(raw)}
            out.setdefault(name, {})[bytes(entry.get(1, b"")).decode()] = _scalar(type_, entry.get(2, b""))
        elif repeated:
            if type_ in ("i", "b") and isinstance(raw, bytes):  # packed
                values, pos = [], 0
                while pos < len(raw):
                    v, pos = _varint(raw, pos)
                    values.append(_scalar(type_, v))
                out.setdefault(name, []).extend(values)
            else:
                out.setdefault(name, []).append(_scalar(type_, raw))
        elif inline:
            out.update(_scalar(type_, raw))
        else:
            value = _scalar(type_, raw)
            # Go's JSON omits zero values of non-pointer fields; protobuf still carries them.
            if value is not None and (keep or value not in (0, "", False) or isinstance(value, dict)):
                out[name] = value
    return out


def decode(body: bytes) -> dict[str, Any]:
    """A `k8s\\0`-framed runtime.Unknown holding one object: the object as a JSON-ready dict."""
    if not body.startswith(MAGIC):
        raise _unsupported("missing the k8s protobuf envelope")
    parts = {n: v for n, _, v in _fields(body[len(MAGIC) :])}
    type_meta = {n: bytes(v).decode() for n, _, v in _fields(parts.get(1, b""))}
    kind = type_meta.get(2, "")
    obj = decode_message(kind, bytes(parts.get(2, b"")))
    obj["apiVersion"] = type_meta.get(1, "")
    obj["kind"] = kind
    return obj
