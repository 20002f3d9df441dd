"""Server-side Table output (meta.k8s.io/v1 Table), which `kubectl get` asks for."""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable, Iterable
from typing import Any

from kubesim.resources import Column, ResourceType
from kubesim.store import Entry

Obj = dict[str, Any]


def human_age(created: str | None, now: float | None = None) -> str:
    if not created:
        return "<unknown>"
    try:
        ts = calendar.timegm(time.strptime(created, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return "<unknown>"
    secs = int((now if now is not None else time.time()) - ts)
    if secs < 0:
        return "0s"
    if secs < 120:
        return f"{secs}s"
    mins = secs // 60
    if mins < 10:
        return f"{mins}m{secs % 60}s" if secs % 60 else f"{mins}m"
    if mins < 180:
        return f"{mins}m"
    hours = mins // 60
    if hours < 8:
        return f"{hours}h{mins % 60}m" if mins % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y{days % 365}d"


def json_path(obj: Any, path: str) -> Any:
    """A small subset of JSONPath: .a.b, .a[0].b, .a['x.y'] ; None when absent."""
    cur = obj
    path = path.strip().lstrip("{").rstrip("}").lstrip("$")
    i = 0
    while i < len(path) and cur is not None:
        ch = path[i]
        if ch == ".":
            j = i + 1
            while j < len(path) and path[j] not in ".[":
                j += 1
            key = path[i + 1 : j]
            cur = cur.get(key) if isinstance(cur, dict) else None
            i = j
        elif ch == "[":
            j = path.index("]", i)
            inner = path[i + 1 : j].strip("'\"")
            if inner.isdigit() or (inner.startswith("-") and inner[1:].isdigit()):
                idx = int(inner)
                cur = cur[idx] if isinstance(cur, list) and -len(cur) <= idx < len(cur) else None
            else:
                cur = cur.get(inner) if isinstance(cur, dict) else None
            i = j + 1
        else:
            return None
    return cur


def _pod_ready(o: Obj) -> str:
    statuses = (o.get("status") or {}).get("containerStatuses") or []
    total = len((o.get("spec") or {}).get("containers") or [])
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def _pod_status(o: Obj) -> str:
    if o["metadata"].get("deletionTimestamp"):
        return "Terminating"
    status = o.get("status") or {}
    for s in status.get("containerStatuses") or []:
        state = s.get("state") or {}
        if "waiting" in state and state["waiting"].get("reason"):
            return str(state["waiting"]["reason"])
        if "terminated" in state and status.get("phase") not in ("Succeeded", "Failed"):
            return str(state["terminated"].get("reason") or "Terminated")
    if status.get("phase") == "Succeeded":
        return "Completed"
    return str(status.get("phase") or "Pending")


def _restarts(o: Obj) -> int:
    return sum(int(s.get("restartCount", 0)) for s in (o.get("status") or {}).get("containerStatuses") or [])


def _ready_replicas(o: Obj) -> str:
    return f"{(o.get('status') or {}).get('readyReplicas', 0)}/{(o.get('spec') or {}).get('replicas', 0)}"


def _svc_ports(o: Obj) -> str:
    parts = []
    for p in (o.get("spec") or {}).get("ports") or []:
        node = f":{p['nodePort']}" if p.get("nodePort") else ""
        parts.append(f"{p.get('port')}{node}/{p.get('protocol', 'TCP')}")
    return ",".join(parts) or "<none>"


def _svc_external(o: Obj) -> str:
    spec = o.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return str(spec.get("externalName", "<none>"))
    ips = spec.get("externalIPs") or []
    ingress = ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    ips += [i.get("ip") or i.get("hostname") for i in ingress]
    if ips:
        return ",".join(str(i) for i in ips)
    return "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"


def _job_status(o: Obj) -> str:
    for c in (o.get("status") or {}).get("conditions") or []:
        if c.get("status") == "True" and c.get("type") in ("Complete", "Failed"):
            return str(c["type"])
    return "Running"


def _job_completions(o: Obj) -> str:
    return f"{(o.get('status') or {}).get('succeeded', 0)}/{(o.get('spec') or {}).get('completions', 1)}"


def _node_status(o: Obj) -> str:
    for c in (o.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return "Ready" if c.get("status") == "True" else "NotReady"
    return "Unknown"


def _pv_claim(o: Obj) -> str:
    ref = (o.get("spec") or {}).get("claimRef")
    return f"{ref.get('namespace')}/{ref.get('name')}" if ref else ""


_ABBREV = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}


def _access_modes(o: Obj) -> str:
    modes = (o.get("status") or {}).get("accessModes") or (o.get("spec") or {}).get("accessModes") or []
    return ",".join(_ABBREV.get(m, m) for m in modes)


def _apiservice_service(o: Obj) -> str:
    svc = (o.get("spec") or {}).get("service")
    return f"{svc.get('namespace')}/{svc.get('name')}" if svc else "Local"


def _apiservice_available(o: Obj) -> str:
    for c in (o.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Available":
            return str(c.get("status")) if c.get("status") == "True" else f"False ({c.get('reason')})"
    return "Unknown"


def _endpoints(o: Obj) -> str:
    out = [
        f"{a.get('ip')}:{p.get('port')}"
        for s in o.get("subsets") or []
        for p in s.get("ports") or [{}]
        for a in s.get("addresses") or []
    ]
    return _first(out)


def _first(items: list[str], n: int = 3) -> str:
    if not items:
        return "<none>"
    more = f" + {len(items) - n} more..." if len(items) > n else ""
    return ",".join(items[:n]) + more


def _slice_ports(o: Obj) -> str:
    return _first([str(p.get("port")) for p in o.get("ports") or []])


def _slice_endpoints(o: Obj) -> str:
    return _first([a for e in o.get("endpoints") or [] for a in e.get("addresses") or []])


COMPUTED: dict[str, Callable[[Obj], Any]] = {
    "@endpoints": _endpoints,
    "@slice_ports": _slice_ports,
    "@slice_endpoints": _slice_endpoints,
    "@apiservice_service": _apiservice_service,
    "@apiservice_available": _apiservice_available,
    "@pod_ready": _pod_ready,
    "@pod_status": _pod_status,
    "@pod_restarts": _restarts,
    "@ready_replicas": _ready_replicas,
    "@svc_ports": _svc_ports,
    "@svc_external": _svc_external,
    "@job_status": _job_status,
    "@job_completions": _job_completions,
    "@node_status": _node_status,
    "@pv_claim": _pv_claim,
    "@access_modes": _access_modes,
    "@data_count": lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {}),
}


def _cell(col: Column, obj: Obj, now: float) -> Any:
    if col.path in COMPUTED:
        return COMPUTED[col.path](obj)
    value = json_path(obj, col.path)
    if col.type == "date" and isinstance(value, str):
        return human_age(value, now) if col.name.lower() == "age" else value
    if value is None:
        return "<none>" if col.type == "string" else None
    if isinstance(value, (dict, list)):
        return str(value)
    return value


def column_definitions(rt: ResourceType) -> list[Obj]:
    defs = [
        {
            "name": "Name",
            "type": "string",
            "format": "name",
            "description": "Name must be unique within a namespace.",
            "priority": 0,
        }
    ]
    for c in rt.columns:
        defs.append(
            {
                "name": c.name,
                "type": c.type if c.type != "date" else "string",
                "format": "",
                "description": c.description,
                "priority": c.priority,
            }
        )
    if not any(c.name.lower() == "age" for c in rt.columns):
        defs.append(
            {
                "name": "Age",
                "type": "string",
                "format": "",
                "description": "CreationTimestamp is a "
                "timestamp representing the server time when this object was created.",
                "priority": 0,
            }
        )
    return defs


def row(rt: ResourceType, obj: Obj, include: str, now: float) -> Obj:
    cells: list[Any] = [obj["metadata"]["name"]]
    cells += [_cell(c, obj, now) for c in rt.columns]
    if not any(c.name.lower() == "age" for c in rt.columns):
        cells.append(human_age(obj["metadata"].get("creationTimestamp"), now))
    out: Obj = {"cells": cells}
    if include == "Object":
        out["object"] = obj
    elif include != "None":
        out["object"] = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj["metadata"],
        }
    return out


def table(
    rt: ResourceType,
    entries: Iterable[Entry],
    list_meta: Obj,
    include: str,
    convert: Callable[[Entry], Obj] | None = None,
) -> Obj:
    now = time.time()
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": column_definitions(rt),
        "rows": [row(rt, convert(e) if convert else e.obj, include, now) for e in entries],
    }
