"""docker/podman/nerdctl and compose: prunes, volume removal and forced removal lose data."""

from __future__ import annotations

from skill.guardrails.commands._base import Ctx, positionals

_GLOBAL_VALUE = frozenset(
    {
        "--config",
        "-c",
        "--context",
        "-H",
        "--host",
        "-l",
        "--log-level",
        "--tlscacert",
        "--tlscert",
        "--tlskey",
        "--connection",
        "--url",
        "--identity",
        "--root",
        "--runroot",
        "--storage-driver",
        "--cgroup-manager",
        "--namespace",
        "-n",
    }
)
_READ = frozenset(
    """ps images image-ls inspect logs stats top port version info history events diff search login logout
    ls config manifest-inspect context-ls help""".split()
)
_OBJECTS = (
    "container",
    "image",
    "volume",
    "network",
    "system",
    "builder",
    "buildx",
    "pod",
    "context",
    "plugin",
    "secret",
    "node",
    "service",
    "stack",
    "swarm",
    "compose",
    "manifest",
    "machine",
    "trust",
    "checkpoint",
    "scout",
    "kube",
    "generate",
    "healthcheck",
)


def check(ctx: Ctx) -> None:
    argv = ctx.argv
    if ctx.name in ("docker-compose", "podman-compose"):
        _compose(ctx, argv[1:])
        return
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] in _GLOBAL_VALUE:
            ctx.env(
                argv[i + 1]
                if i + 1 < len(argv)
                and argv[i] in ("--context", "-c", "--connection", "-H", "--host", "--url")
                else None
            )
            i += 2
        else:
            if argv[i].startswith(("--context=", "--connection=", "--host=")):
                ctx.env(argv[i].split("=", 1)[1])
            i += 1
    ctx.env(
        ctx.assigns.get("DOCKER_CONTEXT"),
        ctx.assigns.get("DOCKER_HOST"),
        ctx.assigns.get("CONTAINER_CONNECTION"),
    )
    rest = argv[i:]
    if not rest:
        ctx.hit(1, "docker.read", f"{ctx.name} usage")
        return
    sub = rest[0]
    args = rest[1:]
    if sub in _OBJECTS and args and not args[0].startswith("-"):
        obj, sub, args = sub, args[0], args[1:]
    else:
        obj = ""
    sctx = Ctx(name=sub, argv=[sub, *args], dynamic=[False] * (len(args) + 1))
    dyn_targets = any(d for d in ctx.dynamic[len(ctx.argv) - len(args) :]) or ctx.args_unknown
    if obj == "compose":
        _compose(ctx, args, sub)
        return
    if sub in _READ or (
        obj
        and sub
        in ("ls", "list", "inspect", "df", "info", "events", "history", "show", "exists", "logs", "ps")
    ):
        ctx.hit(1, "docker.read", f"{ctx.name} {obj} {sub} only reads".replace("  ", " "))
        return
    if obj == "system" and sub == "reset" or sub == "system" and args[:1] == ["reset"]:
        # podman system reset deletes every container, image, volume and network
        ctx.hit(
            4, "podman.system-reset", f"{ctx.name} system reset deletes all containers, images and volumes"
        )
        return
    if sub == "prune" or sub == "system" and args[:1] == ["prune"]:
        if sctx.has("--dry-run"):
            ctx.hit(1, "docker.dry-run", "prune --dry-run lists only")
        elif obj == "system" and sctx.has("--volumes"):
            ctx.hit(4, "docker.system-prune-volumes", "system prune --volumes deletes unused volumes (data)")
        elif obj == "volume":
            ctx.hit(
                4 if sctx.short("a") or sctx.has("--all") else 3,
                "docker.volume-prune",
                "volume prune deletes volumes (data)",
            )
        else:
            ctx.hit(
                3,
                f"docker.{obj or 'system'}-prune",
                f"{obj or 'system'} prune deletes unused {obj or 'objects'}",
            )
        return
    if obj == "volume" and sub in ("rm", "remove", "delete"):
        ctx.hit(3, "docker.volume-rm", "removes volumes (their data is lost)")
        return
    if (
        sub in ("rm", "rmi", "remove", "delete")
        or obj in ("container", "image", "pod", "network", "secret")
        and sub in ("rm", "remove")
    ):
        force = sctx.short("f", "--force")
        if force or dyn_targets or sctx.has("--all") or sctx.short("a") and obj != "image":
            ctx.hit(
                3, "docker.rm-force", f"{ctx.name} {sub} --force removes running containers/images in use"
            )
        else:
            ctx.hit(2, "docker.rm", f"{ctx.name} {sub} removes stopped containers/unused images")
        return
    if sub in ("stop", "kill"):
        # Stopping a running container is an outage, like `systemctl stop`.
        ctx.hit(3, f"docker.{sub}", f"{ctx.name} {sub} takes running containers down")
        return
    if sub in ("restart", "pause"):
        if dyn_targets or sctx.has("--all") or sctx.short("a"):
            ctx.hit(3, f"docker.{sub}-many", f"{ctx.name} {sub} on containers chosen at run time")
        else:
            ctx.hit(2, f"docker.{sub}", f"{ctx.name} {sub} a container")
        return
    if sub in ("run", "create") and (
        sctx.has("--privileged") or any(a.startswith(("/:/", "/:")) for a in sctx.values("-v", "--volume"))
    ):
        ctx.hit(3, "docker.privileged", "runs a privileged container or mounts the host root")
        return
    if sub in ("exec", "run") and args:
        # The command after the container/image runs inside it: classify it too.
        i = 0
        while i < len(args) and args[i].startswith("-"):
            i += 2 if args[i] in _RUN_VALUE else 1
        if i + 1 < len(args):
            from skill.guardrails.commands.network import join_words

            ctx.shell(join_words(args[i + 1 :]), f"{ctx.name} {sub} {args[i]}")
    if obj in ("swarm",) and sub in ("leave", "init", "join"):
        ctx.hit(3 if sub == "leave" else 2, f"docker.swarm-{sub}", f"docker swarm {sub}")
        return
    if obj in ("service", "stack", "node") and sub in ("rm", "remove", "delete"):
        ctx.hit(3, f"docker.{obj}-rm", f"removes a {obj}")
        return
    ctx.hit(2, "docker.change", f"{ctx.name} {obj} {sub}".replace("  ", " "))


_RUN_VALUE = frozenset(
    """-e --env -u --user -w --workdir --env-file -v --volume -p --publish --name --network --entrypoint
    -l --label --mount --platform --cpus -m --memory --restart --hostname -h --add-host --dns --device
    --cap-add --cap-drop --log-driver --pull --detach-keys --gpus --ulimit --ipc --pid --shm-size --tmpfs
    --security-opt --expose --health-cmd --cidfile --link --volumes-from --runtime --stop-signal""".split()
)
_COMPOSE_VALUE = frozenset(
    {
        "-f",
        "--file",
        "-p",
        "--project-name",
        "--profile",
        "--env-file",
        "--project-directory",
        "--ansi",
        "--progress",
        "--parallel",
    }
)


_COMPOSE_EXEC_VALUE = frozenset(
    {
        "-e",
        "--env",
        "-u",
        "--user",
        "-w",
        "--workdir",
        "--index",
        "--name",
        "--entrypoint",
        "-l",
        "--label",
        "-p",
        "--publish",
        "-v",
        "--volume",
    }
)


def _compose(ctx: Ctx, args: list[str], sub: str | None = None) -> None:
    pos = positionals(args, _COMPOSE_VALUE)
    for f in Ctx(name="compose", argv=["compose", *args], dynamic=[False] * (len(args) + 1)).values(
        "-f", "--file", "-p", "--project-name", "--env-file"
    ):
        ctx.env(f)
    given = sub is not None  # `docker compose SUB …` passes the words after SUB
    if sub is None:
        sub = pos[0] if pos else ""
    sctx = Ctx(name=sub, argv=[sub, *args], dynamic=[False] * (len(args) + 1))
    if sub in ("exec", "run"):
        # compose exec/run SERVICE CMD…: the command runs in the service container; classify it
        rest = args if given else args[args.index(sub) + 1 :]
        i = 0
        while i < len(rest) and rest[i].startswith("-"):
            i += 2 if rest[i] in _COMPOSE_EXEC_VALUE else 1
        if i + 1 < len(rest):
            from skill.guardrails.commands.network import join_words

            ctx.shell(join_words(rest[i + 1 :]), f"compose {sub} {rest[i]}")
    if sub in (
        "ps",
        "logs",
        "config",
        "images",
        "ls",
        "top",
        "events",
        "port",
        "version",
        "ls",
        "convert",
        "",
    ) or sctx.has("--dry-run"):
        ctx.hit(1, "compose.read", f"compose {sub} only reads")
    elif sub == "down":
        if sctx.has("-v", "--volumes"):
            ctx.hit(3, "compose.down-volumes", "compose down -v deletes the project's volumes (data)")
        elif sctx.has("--rmi"):
            ctx.hit(3, "compose.down-rmi", "compose down --rmi removes images")
        else:
            ctx.hit(2, "compose.down", "stops and removes the project's containers")
    elif sub == "rm":
        if sctx.short("f", "--force") or sctx.short("v", "--volumes") or sctx.short("s", "--stop"):
            ctx.hit(3, "compose.rm-force", "compose rm -f/-v removes containers (and volumes) without asking")
        else:
            ctx.hit(2, "compose.rm", "removes stopped service containers (asks first)")
    elif sub in ("kill",):
        ctx.hit(2, "compose.kill", "kills service containers")
    else:
        ctx.hit(2, "compose.change", f"compose {sub}")
