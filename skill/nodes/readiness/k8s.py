"""Kubernetes workload checks: one finding per check and workload, citing the line of the evidence."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from skill.findings import Finding
from skill.nodes.readiness.checks import CHECKS
from skill.nodes.readiness.loader import HELM_PLACEHOLDER, HELM_RELEASE_NAMESPACE, K8sObject, LMap, line_of

POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Rollout"}
WORKLOAD_KINDS = POD_TEMPLATE_KINDS | {"CronJob", "Pod"}
REPLICATED_KINDS = {"Deployment", "StatefulSet", "ReplicaSet", "Rollout"}
BATCH_KINDS = {"Job", "CronJob"}
IGNORE_ANNOTATION = "readiness.devops/ignore"
HOSTNAME_KEY = "kubernetes.io/hostname"


@dataclass
class Container:
    spec: LMap
    init: bool = False

    @property
    def name(self) -> str:
        return str(self.spec.get("name") or "?")


@dataclass
class Workload:
    obj: K8sObject
    pod_spec: LMap
    pod_labels: LMap
    template_line: int
    template_file: str = ""  # differs from obj.file when a Rollout's workloadRef supplies the template
    labels_line: int = 0
    pod_spec_line: int = 0
    containers: list[Container] = field(default_factory=list)
    init_containers: list[Container] = field(default_factory=list)
    replicas: Any = None
    replicas_line: int | None = None
    hpa: K8sObject | None = None
    ignored: set[str] = field(default_factory=set)

    @property
    def kind(self) -> str:
        return self.obj.kind

    @property
    def file(self) -> str:
        return self.obj.file

    @property
    def all_containers(self) -> list[Container]:
        return self.containers + self.init_containers


@dataclass
class Context:
    env: str
    production: bool
    objects: list[K8sObject]
    pdbs: dict[str, list[K8sObject]] = field(default_factory=dict)  # by namespace
    netpols: dict[str, list[K8sObject]] = field(default_factory=dict)
    hpas: list[K8sObject] = field(default_factory=list)


def _map(value: Any) -> LMap:
    return value if isinstance(value, LMap) else LMap(0)


def _seq(value: Any) -> list:
    return value if isinstance(value, list) else []


def _workload(obj: K8sObject, deployments: dict[tuple, K8sObject]) -> Workload | None:
    spec = _map(obj.obj.get("spec"))
    kind = obj.kind
    template_file = obj.file
    if kind == "Pod":
        template_md, pod_spec, template_line = obj.metadata, spec, spec.line or obj.line
        spec_line = obj.obj.line_of("spec")
    elif kind == "CronJob":
        tpl = _map(_map(_map(spec.get("jobTemplate")).get("spec")).get("template"))
        template_md, pod_spec, template_line = _map(tpl.get("metadata")), _map(tpl.get("spec")), tpl.line
        spec_line = tpl.line_of("spec")
    else:
        tpl = spec.get("template")
        if kind == "Rollout" and not isinstance(tpl, LMap) and isinstance(spec.get("workloadRef"), dict):
            ref = spec["workloadRef"]
            target = deployments.get((obj.namespace, str(ref.get("name"))))
            if target is not None:
                tpl = _map(target.obj.get("spec")).get("template")
                template_file = target.file
        tpl = _map(tpl)
        template_md, pod_spec, template_line = _map(tpl.get("metadata")), _map(tpl.get("spec")), tpl.line
        spec_line = tpl.line_of("spec")
    if not template_line:
        template_line = obj.line
    w = Workload(
        obj=obj,
        pod_spec=pod_spec,
        pod_labels=_map(template_md.get("labels")),
        template_line=template_line,
        template_file=template_file,
        labels_line=template_md.line_of("labels") or template_line,
        pod_spec_line=spec_line or template_line,
    )
    w.containers = [Container(c) for c in _seq(pod_spec.get("containers")) if isinstance(c, LMap)]
    w.init_containers = [
        Container(c, init=True) for c in _seq(pod_spec.get("initContainers")) if isinstance(c, LMap)
    ]
    if kind in REPLICATED_KINDS:
        w.replicas = spec.get("replicas", 1)
        w.replicas_line = spec.line_of("replicas") if "replicas" in spec else spec.line or obj.line
    annotations = _map(obj.metadata.get("annotations"))
    raw_ignore = annotations.get(IGNORE_ANNOTATION)
    if isinstance(raw_ignore, str):
        w.ignored = {part.strip() for part in raw_ignore.split(",") if part.strip()}
    return w


def _ns(obj: K8sObject) -> str:
    ns = obj.namespace
    return "default" if ns in (None, HELM_RELEASE_NAMESPACE) else ns


def selector_matches(selector: Any, labels: dict) -> bool:
    """Kubernetes label-selector semantics; an empty selector selects everything."""
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels") or {}
    exprs = selector.get("matchExpressions") or []
    if not isinstance(match_labels, dict) or not isinstance(exprs, list):
        return False
    for k, v in match_labels.items():
        if str(labels.get(k)) != str(v) or k not in labels:
            return False
    for e in exprs:
        if not isinstance(e, dict):
            return False
        key, op, vals = e.get("key"), str(e.get("operator", "")), [str(v) for v in e.get("values") or []]
        present = key in labels
        if op == "In" and not (present and str(labels[key]) in vals):
            return False
        if op == "NotIn" and present and str(labels[key]) in vals:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _selector_set(obj: K8sObject, field_name: str) -> Any:
    return _map(obj.obj.get("spec")).get(field_name)


class _Emitter:
    """Builds the findings of one workload with a common shape."""

    def __init__(self, w: Workload):
        self.w = w
        self.ref = w.obj.ref

    def __call__(
        self, check_id: str, status: str, message: str, line: int | None = None, file: str | None = None
    ) -> Finding:
        if check_id in self.w.ignored and status in ("fail", "warn"):
            status, message = "n/a", f"ignored by the {IGNORE_ANNOTATION} annotation ({message})"
        return CHECKS[check_id].finding(
            status,
            message,
            file=file or (self.w.template_file if line else self.w.file),
            line=line or self.w.obj.line,
            object=self.ref,
        )


# ----------------------------------------------------------------------------- the checks ----
def _resources(w: Workload, emit: _Emitter, what: str, check_id: str) -> Finding:
    missing = []
    evidence = None
    for c in w.all_containers:
        res = _map(c.spec.get("resources"))
        part = _map(res.get(what))
        lacking = [r for r in ("cpu", "memory") if part.get(r) in (None, "", 0, "0")]
        if lacking:
            missing.append(f"{c.name}: {'/'.join(lacking)}")
            if evidence is None:
                if what in res:
                    evidence = res.line_of(what)
                else:
                    evidence = c.spec.line_of("resources") if "resources" in c.spec else c.spec.line
    if not w.all_containers:
        return emit(check_id, "warn", "no containers found in the pod template", w.template_line)
    if missing:
        return emit(check_id, "fail", f"missing {what}: " + "; ".join(missing), evidence)
    first = _map(w.all_containers[0].spec.get("resources"))
    return emit(check_id, "pass", f"cpu and memory {what} set on every container", first.line_of(what))


def _probe(w: Workload, emit: _Emitter, probe: str, check_id: str) -> Finding:
    if w.kind in BATCH_KINDS:
        return emit(check_id, "n/a", f"{w.kind} pods run to completion; no {probe}", w.template_line)
    if not w.containers:
        return emit(check_id, "warn", "no containers found in the pod template", w.template_line)
    missing = [c for c in w.containers if not isinstance(c.spec.get(probe), dict)]
    if missing:
        return emit(
            check_id,
            "fail",
            f"{probe} missing on container(s) {', '.join(c.name for c in missing)}",
            missing[0].spec.line,
        )
    if probe == "readinessProbe":
        same = [
            c
            for c in w.containers
            if _plain(c.spec.get("readinessProbe")) == _plain(c.spec.get("livenessProbe"))
        ]
        if same:
            return emit(
                check_id,
                "warn",
                f"readinessProbe identical to livenessProbe on {', '.join(c.name for c in same)}: "
                "a failing dependency restarts the pods instead of taking them out of rotation",
                same[0].spec.line_of(probe),
            )
    return emit(check_id, "pass", f"{probe} set on every container", w.containers[0].spec.line_of(probe))


def _plain(value: Any) -> Any:
    """Structural copy for comparison (line numbers are not part of the value)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _sc(c: Container) -> LMap:
    return _map(c.spec.get("securityContext"))


def check_non_root(w: Workload, emit: _Emitter) -> Finding:
    pod_sc = _map(w.pod_spec.get("securityContext"))
    bad, evidence = [], None
    for c in w.all_containers:
        sc = _sc(c)
        user = sc.get("runAsUser", pod_sc.get("runAsUser"))
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        if user is not None and str(user) == "0":
            bad.append(f"{c.name} runs as UID 0")
            evidence = evidence or (
                sc.line_of("runAsUser") if "runAsUser" in sc else pod_sc.line_of("runAsUser")
            )
        elif non_root is True or (isinstance(user, int) and user > 0):
            continue
        else:
            bad.append(f"{c.name} may run as root (no runAsNonRoot/runAsUser)")
            evidence = evidence or (
                c.spec.line_of("securityContext") if "securityContext" in c.spec else c.spec.line
            )
    if not w.all_containers:
        return emit("k8s.run-as-non-root", "warn", "no containers found", w.template_line)
    if bad:
        return emit("k8s.run-as-non-root", "fail", "; ".join(bad), evidence)
    line = None
    for c in w.all_containers:
        for key in ("runAsNonRoot", "runAsUser"):
            line = line or (_sc(c).line_of(key) if key in _sc(c) else None)
    for key in ("runAsNonRoot", "runAsUser"):
        line = line or (pod_sc.line_of(key) if key in pod_sc else None)
    return emit("k8s.run-as-non-root", "pass", "every container runs as non-root", line)


def _container_flag(
    w: Workload, emit: _Emitter, check_id: str, key: str, want: bool, default: bool, label: str
) -> Finding:
    bad, evidence, good_line = [], None, None
    for c in w.all_containers:
        sc = _sc(c)
        value = sc.get(key, default)
        if key == "allowPrivilegeEscalation" and sc.get("privileged") is True:
            value = True
        if value is not want:
            bad.append(c.name)
            if evidence is None:
                if key in sc:
                    evidence = sc.line_of(key)
                elif key == "allowPrivilegeEscalation" and sc.get("privileged") is True:
                    evidence = sc.line_of("privileged")
                else:
                    evidence = (
                        c.spec.line_of("securityContext") if "securityContext" in c.spec else c.spec.line
                    )
        elif good_line is None and key in sc:
            good_line = sc.line_of(key)
    if not w.all_containers:
        return emit(check_id, "warn", "no containers found", w.template_line)
    if bad:
        return emit(check_id, "fail", f"{label} on container(s) {', '.join(bad)}", evidence)
    good_line = good_line or w.all_containers[0].spec.line
    return emit(check_id, "pass", f"{key}: {str(want).lower()} on every container", good_line)


_SEMVER = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.\-+_]+)?$")
_GITSHA = re.compile(r"^(?:[a-z0-9_.\-]*-)?(?:sha-|g)?(?=[0-9]*[a-f])[0-9a-f]{7,40}$")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def classify_image(image: str) -> tuple[str, str]:
    """('pass'|'warn'|'fail', reason) for one image reference."""
    image = image.strip()
    if HELM_PLACEHOLDER in image:
        return "warn", "image comes from a template expression that could not be resolved"
    if _DIGEST.search(image):
        return "pass", "pinned to a digest"
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "fail", "untagged (means latest)"
    tag = last.rsplit(":", 1)[1]
    if tag in ("", "latest"):
        return "fail", "tagged latest"
    if _SEMVER.match(tag):
        return "pass", f"semver tag {tag}"
    if _GITSHA.match(tag):
        return "pass", f"git SHA tag {tag}"
    return "fail", f"moving tag {tag!r} (not a digest, git SHA or full semver)"


def check_image_tag(w: Workload, emit: _Emitter) -> Finding:
    bad, warn, line_bad, line_warn = [], [], None, None
    for c in w.all_containers:
        image = c.spec.get("image")
        if not isinstance(image, str) or not image:
            bad.append(f"{c.name}: no image")
            line_bad = line_bad or c.spec.line
            continue
        status, reason = classify_image(image)
        if status == "fail":
            bad.append(f"{image}: {reason}")
            line_bad = line_bad or c.spec.line_of("image")
        elif status == "warn":
            warn.append(f"{image}: {reason}")
            line_warn = line_warn or c.spec.line_of("image")
    if not w.all_containers:
        return emit("k8s.image-tag", "warn", "no containers found", w.template_line)
    if bad:
        return emit("k8s.image-tag", "fail", "; ".join(bad), line_bad)
    if warn:
        return emit("k8s.image-tag", "warn", "; ".join(warn), line_warn)
    first = w.all_containers[0].spec
    return emit("k8s.image-tag", "pass", "all images pinned", first.line_of("image"))


def check_namespace(w: Workload, emit: _Emitter) -> Finding:
    md = w.obj.metadata
    ns = w.obj.namespace
    line = (
        md.line_of("namespace")
        if "namespace" in md and md.lines.get("namespace")
        else w.obj.obj.line_of("metadata")
    )
    if ns == HELM_RELEASE_NAMESPACE:
        return emit("k8s.namespace", "pass", "namespace set by the Helm release", line, file=w.file)
    if ns is None:
        return emit(
            "k8s.namespace",
            "fail",
            "no namespace: lands in whatever namespace kubectl points to",
            line,
            file=w.file,
        )
    if ns == "default":
        return emit("k8s.namespace", "fail", "deployed to the default namespace", line, file=w.file)
    return emit("k8s.namespace", "pass", f"namespace {ns}", line, file=w.file)


def _hpa_min(w: Workload) -> int | None:
    if w.hpa is None:
        return None
    value = _map(w.hpa.obj.get("spec")).get("minReplicas", 1)
    return value if isinstance(value, int) else None


def check_replicas(w: Workload, emit: _Emitter, ctx: Context) -> Finding:
    if w.kind not in REPLICATED_KINDS:
        return emit("k8s.replicas", "n/a", f"{w.kind} is not replicated", w.obj.line, file=w.file)
    minimum = 2 if ctx.production else 1
    hpa_min = _hpa_min(w)
    if hpa_min is not None:
        status = "pass" if hpa_min >= minimum else "fail"
        return emit(
            "k8s.replicas",
            status,
            f"HorizontalPodAutoscaler {w.hpa.name} minReplicas {hpa_min} (need >= {minimum} in {ctx.env})",
            _map(w.hpa.obj.get("spec")).line_of("minReplicas"),
            file=w.hpa.file,
        )
    reps = w.replicas
    if isinstance(reps, str) and HELM_PLACEHOLDER in reps:
        return emit(
            "k8s.replicas", "warn", "replicas comes from a template expression", w.replicas_line, file=w.file
        )
    try:
        count = int(reps)
    except (TypeError, ValueError):
        return emit(
            "k8s.replicas", "warn", f"replicas {reps!r} is not a number", w.replicas_line, file=w.file
        )
    if count < minimum:
        return emit(
            "k8s.replicas",
            "fail",
            f"{count} replica(s); need >= {minimum} in {ctx.env}",
            w.replicas_line,
            file=w.file,
        )
    return emit(
        "k8s.replicas", "pass", f"{count} replicas (>= {minimum} in {ctx.env})", w.replicas_line, file=w.file
    )


def check_anti_affinity(w: Workload, emit: _Emitter) -> Finding:
    if w.kind not in REPLICATED_KINDS:
        return emit("k8s.anti-affinity", "n/a", f"{w.kind} is not replicated", w.obj.line, file=w.file)
    hpa_min = _hpa_min(w)
    try:
        count = int(w.replicas)
    except (TypeError, ValueError):
        count = 2
    if max(count, hpa_min or 0) < 2 and w.hpa is None:
        return emit(
            "k8s.anti-affinity", "n/a", f"{count} replica: nothing to spread", w.replicas_line, file=w.file
        )
    anti = _map(_map(w.pod_spec.get("affinity")).get("podAntiAffinity"))
    terms: list[tuple[Any, int | None]] = []
    for t in _seq(anti.get("requiredDuringSchedulingIgnoredDuringExecution")):
        terms.append((t, line_of(t)))
    for t in _seq(anti.get("preferredDuringSchedulingIgnoredDuringExecution")):
        if isinstance(t, dict):
            terms.append((t.get("podAffinityTerm"), line_of(t)))
    for term, line in terms:
        if isinstance(term, dict) and term.get("topologyKey") == HOSTNAME_KEY:
            if selector_matches(term.get("labelSelector"), w.pod_labels):
                return emit("k8s.anti-affinity", "pass", "podAntiAffinity on kubernetes.io/hostname", line)
    for tsc in _seq(w.pod_spec.get("topologySpreadConstraints")):
        if isinstance(tsc, dict) and tsc.get("topologyKey") == HOSTNAME_KEY:
            if selector_matches(tsc.get("labelSelector"), w.pod_labels):
                return emit(
                    "k8s.anti-affinity", "pass", "topologySpreadConstraints on hostname", line_of(tsc)
                )
    affinity = _map(w.pod_spec.get("affinity"))
    line = affinity.line_of("podAntiAffinity") if "podAntiAffinity" in affinity else w.pod_spec_line
    msg = "no podAntiAffinity (kubernetes.io/hostname) matching the pod labels"
    return emit("k8s.anti-affinity", "fail", msg, line)


def _zero_disruptions(pdb: K8sObject, replicas: Any) -> bool:
    spec = _map(pdb.obj.get("spec"))
    mu, ma = spec.get("maxUnavailable"), spec.get("minAvailable")
    if mu is not None and str(mu) in ("0", "0%"):
        return True
    if ma is not None and str(ma) == "100%":
        return True
    return isinstance(ma, int) and isinstance(replicas, int) and ma >= replicas


def check_pdb(w: Workload, emit: _Emitter, ctx: Context) -> Finding:
    if w.kind not in REPLICATED_KINDS:
        return emit("k8s.pdb", "n/a", f"{w.kind} is not a replicated workload", w.obj.line, file=w.file)
    for pdb in ctx.pdbs.get(_ns(w.obj), ()):
        selector = _selector_set(pdb, "selector")
        # policy/v1: an empty selector selects every pod of the namespace; v1beta1: none
        empty_matches_all = str(pdb.obj.get("apiVersion")) != "policy/v1beta1"
        if selector_matches(selector, w.pod_labels) and (
            empty_matches_all or selector.get("matchLabels") or selector.get("matchExpressions")
        ):
            pspec = _map(pdb.obj.get("spec"))
            spec_line = pspec.line_of("selector")
            if _zero_disruptions(pdb, w.replicas):
                for key in ("maxUnavailable", "minAvailable"):
                    if key in pspec:
                        spec_line = pspec.line_of(key)
                        break
            if _zero_disruptions(pdb, w.replicas):
                return emit(
                    "k8s.pdb",
                    "warn",
                    f"PodDisruptionBudget {pdb.name} allows no disruption: drains block",
                    spec_line,
                    pdb.file,
                )
            return emit(
                "k8s.pdb", "pass", f"PodDisruptionBudget {pdb.name} selects the pods", spec_line, pdb.file
            )
    return emit("k8s.pdb", "fail", "no PodDisruptionBudget selects these pods", w.labels_line)


def _policy_types(np: K8sObject) -> set[str]:
    spec = _map(np.obj.get("spec"))
    types = spec.get("policyTypes")
    if isinstance(types, list) and types:
        return {str(t) for t in types}
    inferred = {"Ingress"}
    if "egress" in spec:
        inferred.add("Egress")
    return inferred


def check_network_policy(w: Workload, emit: _Emitter, ctx: Context) -> Finding:
    covered: dict[str, K8sObject] = {}
    for np in ctx.netpols.get(_ns(w.obj), ()):
        if selector_matches(_selector_set(np, "podSelector"), w.pod_labels):
            for t in _policy_types(np):
                covered.setdefault(t, np)
    if not covered:
        return emit(
            "k8s.network-policy",
            "fail",
            "no NetworkPolicy selects these pods",
            w.labels_line,
        )
    missing = {"Ingress", "Egress"} - set(covered)
    any_np = next(iter(covered.values()))
    np_spec = _map(any_np.obj.get("spec"))
    line = (
        np_spec.line_of("policyTypes")
        if missing and "policyTypes" in np_spec
        else np_spec.line_of("podSelector")
    )
    if missing:
        return emit(
            "k8s.network-policy",
            "fail",
            f"NetworkPolicy {any_np.name} selects the pods but {'/'.join(sorted(missing))} traffic is not restricted",
            line,
            any_np.file,
        )
    names = sorted({np.name for np in covered.values()})
    return emit(
        "k8s.network-policy",
        "pass",
        f"ingress and egress restricted by {', '.join(names)}",
        line,
        any_np.file,
    )


# ------------------------------------------------------------------------------ running ----
K8S_CHECK_IDS = [cid for cid in CHECKS if cid.startswith("k8s.")]


def _run_one(w: Workload, ctx: Context) -> Iterable[Finding]:
    emit = _Emitter(w)
    yield _resources(w, emit, "requests", "k8s.resources-requests")
    yield _resources(w, emit, "limits", "k8s.resources-limits")
    yield _probe(w, emit, "livenessProbe", "k8s.liveness-probe")
    yield _probe(w, emit, "readinessProbe", "k8s.readiness-probe")
    yield _probe(w, emit, "startupProbe", "k8s.startup-probe")
    yield check_pdb(w, emit, ctx)
    yield check_network_policy(w, emit, ctx)
    yield check_non_root(w, emit)
    yield _container_flag(
        w, emit, "k8s.read-only-root-fs", "readOnlyRootFilesystem", True, False, "root filesystem writable"
    )
    yield _container_flag(w, emit, "k8s.privileged", "privileged", False, False, "privileged")
    yield _container_flag(
        w,
        emit,
        "k8s.privilege-escalation",
        "allowPrivilegeEscalation",
        False,
        True,
        "privilege escalation allowed",
    )
    yield check_image_tag(w, emit)
    yield check_capabilities(w, emit)
    yield check_seccomp(w, emit)
    yield check_token_automount(w, emit, ctx)
    yield check_high_uid(w, emit)
    yield check_image_digest(w, emit)
    yield check_namespace(w, emit)
    yield check_replicas(w, emit, ctx)
    yield check_anti_affinity(w, emit)


def workloads(objects: list[K8sObject]) -> list[Workload]:
    """The pod-carrying objects, with Rollout workloadRefs resolved and their HPAs attached."""
    deployments = {(o.namespace, o.name): o for o in objects if o.kind == "Deployment"}
    referenced = set()
    for o in objects:
        if o.kind == "Rollout":
            ref = _map(o.obj.get("spec")).get("workloadRef")
            if isinstance(ref, dict) and ref.get("kind", "Deployment") == "Deployment":
                referenced.add((o.namespace, str(ref.get("name"))))
    hpas = [o for o in objects if o.kind == "HorizontalPodAutoscaler"]
    out = []
    for o in objects:
        if o.kind not in WORKLOAD_KINDS:
            continue
        if o.kind == "Deployment" and (o.namespace, o.name) in referenced:
            continue  # scaled to zero on purpose; the Rollout that references it is checked instead
        if o.kind == "Pod" and _map(o.metadata.get("annotations")).get("helm.sh/hook"):
            continue  # helm test pods are not the service
        w = _workload(o, deployments)
        if w is None:
            continue
        for h in hpas:
            ref = _map(_map(h.obj.get("spec")).get("scaleTargetRef"))
            if ref.get("kind") == o.kind and ref.get("name") == o.name and _ns(h) == _ns(o):
                w.hpa = h
        out.append(w)
    return out


def pinned_user(objects: list[K8sObject]) -> tuple[str, int | None] | None:
    """(file, line) of a runAsUser when every container of every workload sets a non-zero one
    (its own or the pod's), else None. Such a UID overrides the image's USER, so the image's
    user does not decide who runs; ``runAsNonRoot`` alone does not (it only refuses root)."""
    found: tuple[str, int | None] | None = None
    loads = workloads(objects)
    for w in loads:
        pod_sc = _map(w.pod_spec.get("securityContext"))
        for c in w.all_containers:
            where = _sc(c) if "runAsUser" in _sc(c) else pod_sc
            user = where.get("runAsUser")
            if isinstance(user, bool) or not isinstance(user, int) or user <= 0:
                return None
            found = found or (w.file, where.line_of("runAsUser"))
    return found if loads else None


def run_k8s_checks(objects: list[K8sObject], env: str, production: bool) -> list[Finding]:
    ctx = Context(env=env, production=production, objects=objects)
    for o in objects:
        if o.kind == "PodDisruptionBudget":
            ctx.pdbs.setdefault(_ns(o), []).append(o)
        elif o.kind == "NetworkPolicy":
            ctx.netpols.setdefault(_ns(o), []).append(o)
    renderings: dict[tuple[str, str, str], list[list[Finding]]] = {}
    for w in workloads(objects):
        renderings.setdefault(_identity(w.obj), []).append(list(_run_one(w, ctx)))
    findings: list[Finding] = []
    for copies in renderings.values():
        findings.extend(_merge_renderings(copies))
    return findings


_STATUS_RANK = {"fail": 3, "warn": 2, "pass": 1, "n/a": 0}


def _identity(o: K8sObject) -> tuple[str, str, str]:
    """kind/namespace/name, with "no namespace" and Helm's release namespace read as one."""
    ns = o.namespace
    if ns in (None, HELM_RELEASE_NAMESPACE, "default"):
        ns = ""
    return o.kind, ns, o.name.replace(HELM_PLACEHOLDER, "")


def _merge_renderings(copies: list[list[Finding]]) -> list[Finding]:
    """One row per check for a workload rendered raw, through kustomize and through Helm.

    The worst status stands; the message says which renderings agree with it and which do not.
    """
    if len(copies) == 1:
        return copies[0]
    merged = []
    for rows in zip(*copies, strict=True):
        worst = max(rows, key=lambda f: _STATUS_RANK.get(f.status, 0))
        others = [f for f in rows if f is not worst]
        agree = sorted({f"{f.file}:{f.line}" for f in others if f.status == worst.status})
        differ = sorted({f"{f.file}:{f.line} ({f.status})" for f in others if f.status != worst.status})
        note = []
        if agree:
            note.append("same in " + ", ".join(agree))
        if differ:
            note.append("differs in " + ", ".join(differ))
        merged.append(worst.model_copy(update={"message": f"{worst.message} [{'; '.join(note)}]"}))
    return merged


# -------------------------------------------------------------- hardening (checkov's K8s classes) ----
def check_seccomp(w: Workload, emit: _Emitter) -> Finding:
    """RuntimeDefault or Localhost seccomp on every container (pod level counts for all)."""
    pod_sc = _map(w.pod_spec.get("securityContext"))
    bad, evidence, good = [], None, None
    for c in w.all_containers:
        sc = _sc(c)
        holder = sc if "seccompProfile" in sc else pod_sc
        kind = str(_map(holder.get("seccompProfile")).get("type") or "")
        if kind in ("RuntimeDefault", "Localhost"):
            good = good or holder.line_of("seccompProfile")
            continue
        bad.append(f"{c.name} ({kind or 'no seccompProfile'})")
        evidence = evidence or (
            holder.line_of("seccompProfile") if "seccompProfile" in holder else c.spec.line
        )
    if not w.all_containers:
        return emit("k8s.seccomp", "warn", "no containers found", w.template_line)
    if bad:
        return emit("k8s.seccomp", "fail", f"no RuntimeDefault seccomp profile: {', '.join(bad)}", evidence)
    return emit("k8s.seccomp", "pass", "seccomp RuntimeDefault/Localhost on every container", good)


def check_token_automount(w: Workload, emit: _Emitter, ctx: Context) -> Finding:
    """The pod's own automountServiceAccountToken wins; unset, its ServiceAccount's setting applies."""
    value = w.pod_spec.get("automountServiceAccountToken")
    if value is False:
        line = w.pod_spec.line_of("automountServiceAccountToken")
        return emit("k8s.sa-token-automount", "pass", "service-account token not mounted", line)
    if value is None:
        account = str(w.pod_spec.get("serviceAccountName") or w.pod_spec.get("serviceAccount") or "default")
        for sa in ctx.objects:
            if (
                sa.kind == "ServiceAccount"
                and sa.name == account
                and _ns(sa) == _ns(w.obj)
                and sa.obj.get("automountServiceAccountToken") is False
            ):
                return emit(
                    "k8s.sa-token-automount",
                    "pass",
                    f"ServiceAccount {account} does not mount its token ({sa.file})",
                    w.pod_spec_line,
                )
    line = w.pod_spec.line_of("automountServiceAccountToken") if value is not None else w.pod_spec_line
    return emit(
        "k8s.sa-token-automount",
        "fail",
        "the service-account token is mounted into every container (automountServiceAccountToken not false)",
        line,
    )


_RISKY_CAPS = {"NET_RAW", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "ALL"}


def check_capabilities(w: Workload, emit: _Emitter) -> Finding:
    """Every container drops ALL (or at least NET_RAW) and adds nothing dangerous back."""
    bad, evidence, good = [], None, None
    for c in w.all_containers:
        sc = _sc(c)
        caps = _map(sc.get("capabilities"))
        drop = {str(x).upper() for x in caps.get("drop") or [] if isinstance(x, str)}
        add = {str(x).upper().removeprefix("CAP_") for x in caps.get("add") or [] if isinstance(x, str)}
        risky = sorted(add & _RISKY_CAPS)
        if risky:
            bad.append(f"{c.name} adds {', '.join(risky)}")
            evidence = evidence or caps.line_of("add")
        elif not ({"ALL", "NET_RAW"} & drop):
            bad.append(f"{c.name} keeps NET_RAW (no capabilities.drop: [ALL])")
            evidence = evidence or (caps.line if caps else c.spec.line)
        else:
            good = good or caps.line_of("drop")
    if not w.all_containers:
        return emit("k8s.capabilities", "warn", "no containers found", w.template_line)
    if bad:
        return emit("k8s.capabilities", "fail", "; ".join(bad), evidence)
    return emit("k8s.capabilities", "pass", "capabilities dropped on every container", good)


def check_high_uid(w: Workload, emit: _Emitter) -> Finding:
    """runAsUser >= 10000: a UID that cannot collide with a host user if the container escapes."""
    pod_sc = _map(w.pod_spec.get("securityContext"))
    low, evidence, good = [], None, None
    for c in w.all_containers:
        sc = _sc(c)
        user = sc.get("runAsUser", pod_sc.get("runAsUser"))
        where = sc if "runAsUser" in sc else pod_sc
        if isinstance(user, int) and user >= 10000:
            good = good or where.line_of("runAsUser")
            continue
        low.append(f"{c.name} ({'UID ' + str(user) if user is not None else 'UID from the image'})")
        evidence = evidence or (where.line_of("runAsUser") if "runAsUser" in where else c.spec.line)
    if not w.all_containers:
        return emit("k8s.high-uid", "warn", "no containers found", w.template_line)
    if low:
        return emit("k8s.high-uid", "fail", f"runAsUser below 10000: {', '.join(low)}", evidence)
    return emit("k8s.high-uid", "pass", "every container runs with a UID >= 10000", good)


def check_image_digest(w: Workload, emit: _Emitter) -> Finding:
    undigested, evidence = [], None
    for c in w.all_containers:
        image = str(c.spec.get("image") or "")
        if HELM_PLACEHOLDER in image or _DIGEST.search(image):
            continue
        undigested.append(image or c.name)
        evidence = evidence or c.spec.line_of("image")
    if not w.all_containers:
        return emit("k8s.image-digest", "warn", "no containers found", w.template_line)
    if undigested:
        return emit(
            "k8s.image-digest", "fail", f"not pinned by digest: {', '.join(undigested[:4])}", evidence
        )
    return emit(
        "k8s.image-digest", "pass", "every image pinned by @sha256 digest", w.all_containers[0].spec.line
    )
