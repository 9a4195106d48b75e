"""Deploy drivers: how one step of a plan reaches the cluster (or whatever the user's script does).

Every driver speaks the same small vocabulary (``DriverAction``):

    deploy    rolling update of the stable version, then wait for it
    canary    run VERSION as the canary at WEIGHT percent of traffic (STEP is the step index)
    promote   make VERSION the stable version at 100 % and retire the canary
    stage     blue-green: bring VERSION up on the idle (preview) side, no traffic yet
    switch    blue-green: move all traffic to the preview side in one atomic change
    rollback  return to VERSION (the last good one) and take the canary/preview out of traffic

Commands always go through ``skill.runner.run_tool`` with a timeout (the tool's own ``--timeout``
plus a margin, so its own message wins over ours). ``commands()`` is what a plan shows;
``apply()`` is what runs, which for kubectl blue-green also asks the cluster which slot is live.
"""

from __future__ import annotations

import json
import math
import shlex
from pathlib import Path
from typing import Any

from skill.durations import parse_duration
from skill.errors import ConfigError, UsageError
from skill.nodes.deploy.settings import fill
from skill.paths import project_root
from skill.runner import ToolResult, run_tool

TIMEOUT_MARGIN = 30.0


def image_ref(image: str, version: str) -> str:
    """``repo/api`` + ``v1.2.3`` -> ``repo/api:v1.2.3``; a digest gives ``repo/api@sha256:...``."""
    if "sha256:" in version or "sha512:" in version:
        return f"{image}@{version.split('@')[-1]}"
    return f"{image}:{version}"


class Driver:
    name = "base"

    def __init__(self, settings: dict[str, Any], *, service: str, env: str, environment: str, strategy: str):
        self.settings = settings
        self.service = service
        self.env = env
        self.environment = environment
        self.strategy = strategy
        try:
            self.timeout = parse_duration(str(settings.get("timeout", "5m"))).total_seconds()
        except UsageError as exc:
            raise ConfigError(f"[deploy] timeout: {exc}") from exc
        self.calls: list[list[str]] = []

    def _t(self, key: str, version: str | None = None) -> str:
        return fill(
            self.settings.get(key, ""),
            service=self.service,
            env=self.env,
            environment=self.environment,
            version=version or "",
        )

    # what a plan shows
    def commands(
        self,
        action: str,
        version: str,
        *,
        weight: int | None = None,
        step: int = 0,
        previous: str | None = None,
    ) -> list[list[str]]:
        raise NotImplementedError

    # what runs
    def apply(
        self,
        action: str,
        version: str,
        *,
        weight: int | None = None,
        step: int = 0,
        previous: str | None = None,
    ) -> list[ToolResult]:
        return [
            self._run(args)
            for args in self.commands(action, version, weight=weight, step=step, previous=previous)
        ]

    margin = TIMEOUT_MARGIN  # the tool's own --timeout fires first and says more than ours

    def _run(self, args: list[str], env: dict[str, str] | None = None) -> ToolResult:
        self.calls.append(list(args))
        return run_tool(args, timeout=self.timeout + self.margin, env=env, check=True)


class KubectlDriver(Driver):
    """Plain Deployments: ``kubectl set image`` + ``kubectl rollout status``.

    Canary: a ``<deployment>-canary`` Deployment whose replica count approximates the weight
    (``replicas`` setting = the stable replica count). Blue-green: ``<deployment>-blue`` and
    ``<deployment>-green`` Deployments behind one Service selecting ``slot: blue|green``; the
    switch is one ``kubectl patch`` of that selector.
    """

    name = "kubectl"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.live_slot: str | None = None
        self.switched_from: str | None = None

    def _k(self) -> list[str]:
        args = ["kubectl"]
        if self.settings.get("context"):
            args += ["--context", self._t("context")]
        if self.settings.get("namespace"):
            args += ["-n", self._t("namespace")]
        return args

    def _set_image(self, deployment: str, version: str) -> list[list[str]]:
        container, image = self._t("container"), self._t("image", version)
        return [
            [
                *self._k(),
                "set",
                "image",
                f"deployment/{deployment}",
                f"{container}={image_ref(image, version)}",
            ],
            [*self._k(), "rollout", "status", f"deployment/{deployment}", f"--timeout={int(self.timeout)}s"],
        ]

    def _scale(self, deployment: str, replicas: int) -> list[str]:
        return [*self._k(), "scale", f"deployment/{deployment}", f"--replicas={replicas}"]

    def _patch_slot(self, slot: str) -> list[str]:
        patch = json.dumps({"spec": {"selector": {"slot": slot}}}, separators=(",", ":"))
        return [*self._k(), "patch", "service", self.service, "--type", "merge", "-p", patch]

    def commands(self, action, version, *, weight=None, step=0, previous=None):
        dep = self._t("deployment")
        canary = f"{dep}-canary"
        idle = {"blue": "green", "green": "blue"}.get(self.live_slot or "", "<idle-slot>")
        if action == "deploy":
            return self._set_image(dep, version)
        if action == "canary":
            total = int(self.settings.get("replicas", 10) or 10)
            replicas = max(1, math.ceil(total * (weight or 0) / 100))
            set_image, status = self._set_image(canary, version)
            return [set_image, self._scale(canary, replicas), status]
        if action == "promote":
            return [*self._set_image(dep, version), self._scale(canary, 0)]
        if action == "stage":
            return self._set_image(f"{dep}-{idle}", version)
        if action == "switch":
            return [self._patch_slot(idle)]
        if action == "rollback":
            if self.strategy == "blue-green":
                back = self.switched_from or self.live_slot or "<live-slot>"
                return [self._patch_slot(back)] if (self.switched_from or not self.live_slot) else []
            cmds = self._set_image(dep, version)
            return [self._scale(canary, 0), *cmds] if self.strategy == "canary" else cmds
        raise UsageError(f"kubectl driver: unknown action {action!r}")

    def _detect_live_slot(self) -> str:
        result = self._run(
            [*self._k(), "get", "service", self.service, "-o", "jsonpath={.spec.selector.slot}"]
        )
        slot = result.stdout.strip().strip("'\"")
        return slot if slot in ("blue", "green") else "blue"

    def apply(self, action, version, *, weight=None, step=0, previous=None):
        if self.strategy == "blue-green" and action in ("stage", "switch") and self.live_slot is None:
            self.live_slot = self._detect_live_slot()
        results = super().apply(action, version, weight=weight, step=step, previous=previous)
        if action == "switch":
            self.switched_from = self.live_slot
        return results


class HelmDriver(Driver):
    """``helm upgrade --install --atomic --wait``; canary and preview are chart values.

    The value keys are settings (``helm_image_key``, ``helm_canary_tag_key``,
    ``helm_canary_weight_key``, ``helm_preview_tag_key``) so any chart convention fits.
    """

    name = "helm"

    def _upgrade(self, *sets: tuple[str, str]) -> list[str]:
        args = ["helm", "upgrade", "--install", self._t("release"), self._t("chart")]
        if self.settings.get("namespace"):
            args += ["--namespace", self._t("namespace")]
        if self.settings.get("context"):
            args += ["--kube-context", self._t("context")]
        args += ["--reuse-values", "--atomic", "--wait", f"--timeout={int(self.timeout)}s"]
        for key, value in sets:
            args += [
                "--set-string" if key != self.settings["helm_canary_weight_key"] else "--set",
                f"{key}={value}",
            ]
        return args

    def commands(self, action, version, *, weight=None, step=0, previous=None):
        s = self.settings
        image, ctag, cweight, preview = (
            s["helm_image_key"],
            s["helm_canary_tag_key"],
            s["helm_canary_weight_key"],
            s["helm_preview_tag_key"],
        )
        if action == "deploy":
            return [self._upgrade((image, version))]
        if action == "canary":
            return [self._upgrade((ctag, version), (cweight, str(weight or 0)))]
        if action == "promote":
            return [self._upgrade((image, version), (cweight, "0"))]
        if action == "stage":
            return [self._upgrade((preview, version))]
        if action == "switch":
            return [self._upgrade((image, version))]
        if action == "rollback":
            if self.strategy == "canary":
                return [self._upgrade((image, version), (cweight, "0"))]
            return [self._upgrade((image, version))]
        raise UsageError(f"helm driver: unknown action {action!r}")


class ArgoRolloutsDriver(Driver):
    """Argo Rollouts through its kubectl plugin; the Rollout's own steps hold the weights.

    The first canary step sets the image (the Rollout moves to its first setWeight and pauses);
    each further step promotes to the next pause; ``promote`` is ``promote --full``. Rollback is
    ``abort`` (traffic back to stable at once) then ``set image`` to the last good version so the
    Rollout leaves the Degraded state.
    """

    name = "argo-rollouts"

    def _a(self) -> list[str]:
        args = ["kubectl", "argo", "rollouts"]
        if self.settings.get("context"):
            args += ["--context", self._t("context")]
        if self.settings.get("namespace"):
            args += ["-n", self._t("namespace")]
        return args

    def _set_image(self, version: str) -> list[str]:
        container, image = self._t("container"), self._t("image", version)
        return [*self._a(), "set", "image", self._t("rollout"), f"{container}={image_ref(image, version)}"]

    def _status(self) -> list[str]:
        return [*self._a(), "status", self._t("rollout"), "--timeout", f"{int(self.timeout)}s"]

    def commands(self, action, version, *, weight=None, step=0, previous=None):
        rollout = self._t("rollout")
        if action in ("deploy", "stage"):
            return [self._set_image(version), self._status()]
        if action == "canary":
            first = self._set_image(version) if step == 0 else [*self._a(), "promote", rollout]
            return [first, self._status()]
        if action == "promote":
            return [[*self._a(), "promote", rollout, "--full"], self._status()]
        if action == "switch":
            return [[*self._a(), "promote", rollout], self._status()]
        if action == "rollback":
            return [[*self._a(), "abort", rollout], self._set_image(version), self._status()]
        raise UsageError(f"argo-rollouts driver: unknown action {action!r}")


class ScriptDriver(Driver):
    """A user script (``[deploy] script = "./deploy.sh"``) called once per step.

    It gets SERVICE, ENV, ENVIRONMENT (canonical), VERSION, ACTION, STEP, WEIGHT, STRATEGY and
    PREVIOUS_VERSION in its environment; exit 0 means the step is done.
    """

    name = "script"
    margin = 0.0  # a script has no timeout of its own: ours is the only one

    def _argv(self) -> list[str]:
        raw = str(self.settings.get("script") or "").strip()
        if not raw:
            raise ConfigError("[deploy] driver = 'script' needs [deploy] script = \"path/to/deploy-script\"")
        try:
            argv = shlex.split(raw)
        except ValueError as exc:
            raise ConfigError(f"[deploy] script: {exc}") from exc
        first = Path(argv[0]).expanduser()
        if not first.is_absolute() and ("/" in argv[0] or not _on_path(argv[0])):
            root = Path(project_root() or Path.cwd())
            if (root / first).exists():
                argv[0] = str(root / first)
        return argv

    def env_for(self, action, version, *, weight=None, step=0, previous=None) -> dict[str, str]:
        return {
            "SERVICE": self.service,
            "ENV": self.env,
            "ENVIRONMENT": self.environment,
            "VERSION": version,
            "ACTION": action,
            "STEP": str(step),
            "WEIGHT": "" if weight is None else str(weight),
            "STRATEGY": self.strategy,
            "PREVIOUS_VERSION": previous or "",
        }

    def commands(self, action, version, *, weight=None, step=0, previous=None):
        env = self.env_for(action, version, weight=weight, step=step, previous=previous)
        return [[f"{k}={v}" for k, v in env.items() if v] + self._argv()]

    def apply(self, action, version, *, weight=None, step=0, previous=None):
        env = self.env_for(action, version, weight=weight, step=step, previous=previous)
        return [self._run(self._argv(), env=env)]


def _on_path(name: str) -> bool:
    from skill.runner import which

    return which(name) is not None


DRIVER_CLASSES: dict[str, type[Driver]] = {
    "kubectl": KubectlDriver,
    "helm": HelmDriver,
    "argo-rollouts": ArgoRolloutsDriver,
    "script": ScriptDriver,
}


def make_driver(
    settings: dict[str, Any], *, service: str, env: str, environment: str, strategy: str
) -> Driver:
    name = settings.get("driver", "kubectl")
    cls = DRIVER_CLASSES.get(name)
    if cls is None:
        raise ConfigError(f"[deploy] driver = {name!r} is not one of {', '.join(DRIVER_CLASSES)}")
    return cls(settings, service=service, env=env, environment=environment, strategy=strategy)


def render(commands: list[list[str]]) -> list[str]:
    """Commands as shell lines for a plan, with any credential in them redacted."""
    from skill.redact import redact

    return [redact(shlex.join(c)) for c in commands]
