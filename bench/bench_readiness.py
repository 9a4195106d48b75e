"""Readiness scan speed: 1,000 generated manifests + 100 Dockerfiles, in files per second.

Baselines measured in the same run over the same files: plain ``yaml.safe_load_all`` (what a
naive scanner does, pure-Python loader) and libyaml's ``CSafeLoader`` (parsing only, no checks).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skill.nodes.readiness import review  # noqa: E402

MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{i}
  namespace: team-{t}
spec:
  replicas: {r}
  selector:
    matchLabels: {{app: svc-{i}}}
  template:
    metadata:
      labels: {{app: svc-{i}}}
    spec:
      securityContext: {{runAsNonRoot: true}}
      containers:
        - name: app
          image: ghcr.io/example/svc-{i}:1.{i}.0
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{cpu: 500m, memory: 256Mi}}
          livenessProbe: {{httpGet: {{path: /healthz, port: 8080}}}}
          readinessProbe: {{httpGet: {{path: /readyz, port: 8080}}}}
          securityContext: {{readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}}
---
apiVersion: v1
kind: Service
metadata: {{name: svc-{i}, namespace: team-{t}}}
spec:
  selector: {{app: svc-{i}}}
  ports: [{{port: 80, targetPort: 8080}}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: svc-{i}, namespace: team-{t}}}
spec:
  maxUnavailable: 1
  selector: {{matchLabels: {{app: svc-{i}}}}}
"""
DOCKERFILE = """FROM python:3.12.{i}-slim AS build
COPY . /src
RUN pip install --no-cache-dir -r /src/requirements.txt | tee /tmp/log
FROM python:3.12.{i}-slim
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
COPY --from=build /src /app
USER 10001
CMD ["python", "/app/main.py"]
"""


def generate(root: Path) -> list[Path]:
    yamls = []
    for i in range(1000):
        d = root / "k8s" / f"team-{i % 20}"
        d.mkdir(parents=True, exist_ok=True)
        p = d / f"svc-{i}.yaml"
        p.write_text(MANIFEST.format(i=i, t=i % 20, r=1 + i % 3))
        yamls.append(p)
    for i in range(100):
        d = root / "images" / f"img-{i}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "Dockerfile").write_text(DOCKERFILE.format(i=i % 10))
    return yamls


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        yamls = generate(root)
        files = len(yamls) + 100
        dockerfiles = list(root.glob("images/*/Dockerfile"))

        def baseline_pure() -> None:
            for p in yamls:
                list(yaml.safe_load_all(p.read_text()))
            for p in dockerfiles:
                p.read_text().splitlines()

        def baseline_c() -> None:
            for p in yamls:
                list(yaml.load_all(p.read_text(), Loader=yaml.CSafeLoader))
            for p in dockerfiles:
                p.read_text().splitlines()

        holder = {}

        def ours() -> None:
            holder["rep"] = review(root, env="production")

        ours()  # warm imports and the page cache once, for every contender alike
        t_ours = min(timed(ours) for _ in range(3))
        t_pure = min(timed(baseline_pure) for _ in range(2))
        t_c = min(timed(baseline_c) for _ in range(3))
        rep = holder["rep"]
        findings = len(rep.checks)
        print(
            f"readiness scan: {files} files (1000 manifests x 3 docs + 100 Dockerfiles), {findings} findings"
        )
        print(f"  devops readiness (all checks)      {t_ours:6.2f} s  {files / t_ours:8.0f} files/s")
        print(
            f"  baseline yaml.safe_load_all        {t_pure:6.2f} s  {files / t_pure:8.0f} files/s  (parse only)"
        )
        print(f"  baseline yaml CSafeLoader load_all {t_c:6.2f} s  {files / t_c:8.0f} files/s  (parse only)")
        print(f"  ratio vs safe_load_all: {t_pure / t_ours:.2f}x faster; vs CSafeLoader: {t_c / t_ours:.2f}x")


if __name__ == "__main__":
    main()
