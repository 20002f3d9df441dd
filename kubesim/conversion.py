"""Conversion between the served versions of one resource.

Objects are stored in their resource's storage version. Custom resources use conversion strategy None
(only apiVersion changes, as on a real server without a conversion webhook). HorizontalPodAutoscalers are
stored as autoscaling/v2 and converted to and from autoscaling/v1 like the real server does for the CPU
utilization target (v1 cannot express other metrics; they are kept in the annotation the real server uses).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

Obj = dict[str, Any]
HPA = "autoscaling/horizontalpodautoscalers"
METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/metrics"


def _cpu_metric(percent: int) -> Obj:
    return {
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": percent}},
    }


def _is_cpu_utilization(m: Any) -> bool:
    return (
        isinstance(m, dict)
        and m.get("type") == "Resource"
        and (m.get("resource") or {}).get("name") == "cpu"
        and ((m.get("resource") or {}).get("target") or {}).get("type") == "Utilization"
    )


def _hpa_to_v2(obj: Obj) -> Obj:
    out = {k: v for k, v in obj.items() if k not in ("spec", "status")}
    meta = dict(obj.get("metadata") or {})
    annotations = dict(meta.get("annotations") or {})
    spec = dict(obj.get("spec") or {})
    percent = spec.pop("targetCPUUtilizationPercentage", None)
    metrics = [_cpu_metric(int(percent))] if percent is not None else []
    extra = annotations.pop(METRICS_ANNOTATION, None)
    if extra:
        try:
            metrics += [m for m in orjson.loads(extra) if not _is_cpu_utilization(m)]
        except orjson.JSONDecodeError:
            annotations[METRICS_ANNOTATION] = extra
    if metrics:
        spec["metrics"] = metrics
    meta["annotations"] = annotations
    if not annotations:
        del meta["annotations"]
    out["metadata"] = meta
    out["spec"] = spec
    if "status" in obj:
        status = dict(obj.get("status") or {})
        current = status.pop("currentCPUUtilizationPercentage", None)
        if current is not None:
            status["currentMetrics"] = [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": current}}}
            ]
        out["status"] = status
    return out


def _hpa_to_v1(obj: Obj) -> Obj:
    out = {k: v for k, v in obj.items() if k not in ("spec", "status")}
    meta = dict(obj.get("metadata") or {})
    spec = dict(obj.get("spec") or {})
    metrics = spec.pop("metrics", None) or []
    spec.pop("behavior", None)
    cpu = next((m for m in metrics if _is_cpu_utilization(m)), None)
    if cpu is not None:
        spec["targetCPUUtilizationPercentage"] = cpu["resource"]["target"].get("averageUtilization")
    others = [m for m in metrics if m is not cpu]
    if others:
        meta["annotations"] = {
            **(meta.get("annotations") or {}),
            METRICS_ANNOTATION: orjson.dumps(others).decode(),
        }
    out["metadata"] = meta
    out["spec"] = spec
    if "status" in obj:
        status = dict(obj.get("status") or {})
        current = status.pop("currentMetrics", None) or []
        status.pop("conditions", None)
        for m in current:
            if isinstance(m, dict) and (m.get("resource") or {}).get("name") == "cpu":
                value = (m["resource"].get("current") or {}).get("averageUtilization")
                if value is not None:
                    status["currentCPUUtilizationPercentage"] = value
        out["status"] = status
    return out


_CONVERTERS: dict[tuple[str, str], Callable[[Obj], Obj]] = {
    (HPA, "autoscaling/v2"): _hpa_to_v2,
    (HPA, "autoscaling/v1"): _hpa_to_v1,
}


def convert(bucket: str, obj: Obj, api_version: str) -> Obj:
    """obj as seen through api_version (a new dict when anything changes; obj itself otherwise)."""
    if obj.get("apiVersion") == api_version:
        return obj
    fn = _CONVERTERS.get((bucket, api_version))
    out = fn(obj) if fn is not None else dict(obj)
    out["apiVersion"] = api_version
    return out
