"""Deployments: what was shipped where and when, rollbacks, retractions, the last good version.

Each deployment is a row (the fact) and a deployment memory (so recall and triage find it).
"""

from __future__ import annotations

from typing import Any

from skill.durations import iso, utcnow
from skill.errors import NotFoundError, StorageError, UsageError
from skill.memory.models import DEPLOY_STATUSES, Deployment
from skill.memory.records import OverRecords, prepare
from skill.memory.spool import spool, spool_path
from skill.memory.store import env_name, new_id, when
from skill.redact import redact


class Deployments(OverRecords):
    @staticmethod
    def to_model(row: dict) -> Deployment:
        return Deployment(**{k: v for k, v in row.items() if k != "started_ts"})

    def insert(self, **fields: Any) -> Deployment:
        status = fields.get("status") or "succeeded"
        if status not in DEPLOY_STATUSES:
            raise UsageError(f"unknown deployment status {status!r}", hint=", ".join(DEPLOY_STATUSES))
        started = when(fields.get("started")) or utcnow()
        finished = when(fields.get("finished"))
        dep = {
            "id": fields.get("id") or new_id("dep"),
            "service": fields["service"],
            "env": env_name(fields["env"]),
            "version": fields["version"],
            "commit": fields.get("commit"),
            "strategy": fields.get("strategy"),
            "status": status,
            "started": iso(started),
            "started_ts": started.timestamp(),
            "finished": iso(finished) if finished else None,
            "rolled_back_from": fields.get("rolled_back_from"),
            "by": fields.get("by"),
            "notes": fields.get("notes"),
            "memory_id": fields.get("memory_id"),
            "created_at": iso(utcnow()),
        }
        # Every free-form field, not only notes: a token pasted as --by or --commit is as leaked.
        for key in ("service", "env", "version", "commit", "strategy", "rolled_back_from", "by", "notes"):
            if isinstance(dep[key], str):
                dep[key] = redact(dep[key])
        self.store.execute(
            f"INSERT INTO deployments ({', '.join(chr(34) + k + chr(34) for k in dep)}) "
            f"VALUES ({', '.join('?' * len(dep))})",
            tuple(dep.values()),
        )
        dep.pop("started_ts")
        return Deployment(**dep)

    def record(
        self,
        service: str,
        env: str,
        version: str,
        *,
        commit=None,
        strategy=None,
        status: str = "succeeded",
        started=None,
        finished=None,
        rolled_back_from=None,
        by=None,
        notes=None,
    ) -> Deployment:
        """Record a deployment (and a deployment memory, so it is recalled and triaged)."""
        for name, value in (("service", service), ("env", env), ("version", version)):
            if not value or not str(value).strip():
                raise UsageError(f"deployment needs a {name}")
        if status not in DEPLOY_STATUSES:
            raise UsageError(f"unknown deployment status {status!r}", hint=", ".join(DEPLOY_STATUSES))
        deployment = {
            "commit": commit,
            "strategy": strategy,
            "status": status,
            "started": started,
            "finished": finished,
            "rolled_back_from": rolled_back_from,
            "by": by,
            "notes": notes,
        }
        text = f"[devops] Deployed {service} to {env}: {version}"
        if status != "succeeded":
            text += f" ({status}{', rolled back from ' + rolled_back_from if rolled_back_from else ''})"
        if notes:
            text += f" - {notes}"
        prepared = prepare(
            text,
            kind="deployment",
            service=service,
            env=env,
            version=version,
            importance=0.6 if status == "succeeded" else 0.8,
            source="deployments",
            metadata={"status": status, "commit": commit, "strategy": strategy},
            created_at=started,
            extra={"deployment": deployment},
        )
        try:
            res = self.records.store_prepared([prepared])[0]
        except StorageError as exc:
            # A deployment that happened is a fact: keep it like any memory (stored on the next run).
            spool(self.records.data_dir, prepared)
            raise StorageError(
                f"{exc.message}; the deployment was kept in {spool_path(self.records.data_dir)} and is stored on the next run",
                hint=exc.hint,
            ) from exc
        if res.deployment is not None:
            return res.deployment
        # Same text already remembered (e.g. the protocol line came first): record the deploy itself anyway.
        return self.store.write(
            lambda: self.insert(service=service, env=env, version=version, memory_id=res.id, **deployment)
        )

    def list(
        self, service=None, env=None, since=None, limit: int = 50, include_retracted: bool = False
    ) -> list[Deployment]:
        where, params = ["TRUE" if include_retracted else "retracted_at IS NULL"], []
        if service:
            where.append("lower(service) = lower(?)")
            params.append(service)
        if env:
            where.append("env = ?")
            params.append(env_name(env))
        if since:
            where.append("started_ts >= ?")
            params.append(when(since).timestamp())
        rows = self.store.q(
            f"SELECT * FROM deployments WHERE {' AND '.join(where)} ORDER BY started_ts DESC, rowid DESC LIMIT ?",
            [*params, int(limit)],
        )
        return [self.to_model(r) for r in rows]

    def last_good_version(self, service: str, env: str, before_version: str | None = None) -> str | None:
        """The newest succeeded deployment of service/env that was not rolled back afterwards."""
        rows = self.store.q(
            "SELECT version, status, rolled_back_from, started_ts FROM deployments "
            "WHERE lower(service) = lower(?) AND env = ? AND retracted_at IS NULL "
            "ORDER BY started_ts DESC, rowid DESC",
            (service, env_name(env)),
        )
        bad = {r["version"] for r in rows if r["status"] in ("failed", "rolled_back")}
        bad |= {r["rolled_back_from"] for r in rows if r["rolled_back_from"]}
        skipping = before_version is not None
        for r in rows:
            if skipping:
                if r["version"] == before_version:
                    skipping = False
                continue
            if r["status"] == "succeeded" and r["version"] not in bad and r["version"] != before_version:
                return r["version"]
        if skipping:  # before_version never deployed here: answer from the whole history
            return self.last_good_version(service, env)
        return None

    def retract(self, deployment_id: str, *, reason: str | None = None) -> Deployment:
        """Mark a deployment recorded by mistake as retracted (audited; the row is kept)."""
        rows = self.store.q("SELECT * FROM deployments WHERE id = ?", (deployment_id,))
        if not rows:
            raise NotFoundError(f"no deployment with id {deployment_id!r}", hint="`deployments list --all`")
        if rows[0]["retracted_at"]:
            raise UsageError(f"deployment {deployment_id} was already retracted at {rows[0]['retracted_at']}")
        self.store.write(lambda: self.retract_where("id = ?", (deployment_id,), reason))
        return self.to_model(self.store.q("SELECT * FROM deployments WHERE id = ?", (deployment_id,))[0])

    def retract_where(self, where: str, params: tuple, reason: str | None) -> None:
        now = iso(utcnow())
        for row in self.store.q(f"SELECT id FROM deployments WHERE {where} AND retracted_at IS NULL", params):
            self.store.execute(
                "UPDATE deployments SET retracted_at = ?, retracted_reason = ? WHERE id = ?",
                (now, redact(reason) if reason else None, row["id"]),
            )
            self.store.audit("retract-deployment", row["id"], {"reason": reason})

    def rollback_of(self, service: str, env: str, version: str) -> str | None:
        """The live version when ``version`` is an earlier one redeployed (a rollback), else None."""
        rows = self.store.q(
            "SELECT version, min(started_ts) AS first, min(rowid) AS seq FROM deployments WHERE lower(service) = lower(?) "
            "AND env = ? AND retracted_at IS NULL AND status = 'succeeded' GROUP BY version",
            (service, env_name(env)),
        )
        live = self.store.q(
            "SELECT version FROM deployments WHERE lower(service) = lower(?) AND env = ? "
            "AND retracted_at IS NULL AND status = 'succeeded' ORDER BY started_ts DESC, rowid DESC LIMIT 1",
            (service, env_name(env)),
        )
        first = {r["version"]: (r["first"], r["seq"]) for r in rows}
        if not live or live[0]["version"] == version or version not in first:
            return None
        # Going back to a version first shipped before the live one is a rollback; redeploying
        # a later one (the fix of a version rolled back earlier) is not.
        current = live[0]["version"]
        return current if first[version] < first[current] else None
