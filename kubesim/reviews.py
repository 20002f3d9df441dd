"""Create-only review resources (authorization and authentication): kubesim has no authorization, so every
access review is allowed and every user is the same cluster admin. `kubectl auth can-i` and
`kubectl auth whoami` work against it."""

from __future__ import annotations

from typing import Any

from kubesim import errors
from kubesim.resources import Registry, ResourceType

AUTHZ = "authorization.k8s.io"
AUTHN = "authentication.k8s.io"
REVIEWS = {
    f"{AUTHZ}/selfsubjectaccessreviews",
    f"{AUTHZ}/subjectaccessreviews",
    f"{AUTHZ}/localsubjectaccessreviews",
    f"{AUTHZ}/selfsubjectrulesreviews",
    f"{AUTHN}/selfsubjectreviews",
}
_USER = {"username": "kubesim-admin", "groups": ["system:masters", "system:authenticated"]}


def install_reviews(registry: Registry) -> None:
    for group, plural, kind, namespaced in (
        (AUTHZ, "selfsubjectaccessreviews", "SelfSubjectAccessReview", False),
        (AUTHZ, "subjectaccessreviews", "SubjectAccessReview", False),
        (AUTHZ, "localsubjectaccessreviews", "LocalSubjectAccessReview", True),
        (AUTHZ, "selfsubjectrulesreviews", "SelfSubjectRulesReview", False),
        (AUTHN, "selfsubjectreviews", "SelfSubjectReview", False),
    ):
        registry.add(
            ResourceType(
                group=group,
                versions=["v1"],
                plural=plural,
                kind=kind,
                namespaced=namespaced,
                verbs=("create",),
                has_generation=False,
            )
        )


def review(rt: ResourceType, version: str, body: Any) -> dict[str, Any]:
    """Answer a review: allowed, with the one simulated user."""
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request must be a JSON object")
    out = dict(body)
    out["apiVersion"] = rt.api_version(version)
    out["kind"] = rt.kind
    out.setdefault("metadata", {})
    out["metadata"].setdefault("creationTimestamp", None)
    if rt.kind == "SelfSubjectReview":
        out["status"] = {"userInfo": _USER}
    elif rt.kind == "SelfSubjectRulesReview":
        out["status"] = {
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": False,
        }
    else:
        out["status"] = {"allowed": True, "reason": "kubesim allows every request (no authorization)"}
    return out
