"""The wrapper registry (skill.guardrails.wrappers): every declared wrapper finds the command it runs.

Each registered name has a real-world usage below; a new entry without one fails
`test_every_registered_wrapper_has_an_example`, so the registry cannot grow untested.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess

import pytest

from skill.guardrails.classify import classify_command
from skill.guardrails.wrappers import SHELLS, WRAPPERS, Wrapper, unwrap

# name -> how it is used, with {} for the command it runs
EXAMPLES = {
    "sudo": "sudo -u deploy -g ops {}",
    "doas": "doas -u admin {}",
    "pkexec": "pkexec --user admin {}",
    "run0": "run0 -u admin --setenv A=1 {}",
    "gosu": "gosu app:app {}",
    "su-exec": "su-exec app {}",
    "setuidgid": "setuidgid app {}",
    "s6-setuidgid": "s6-setuidgid app {}",
    "chpst": "chpst -u app -n 5 {}",
    "setpriv": "setpriv --reuid 1000 --regid 1000 --init-groups {}",
    "chroot": "chroot --userspec=app /srv/jail {}",
    "capsh": "capsh --drop=cap_net_raw --user=app -- -c '{}'",
    "nice": "nice -n 19 {}",
    "ionice": "ionice -c 3 {}",
    "nohup": "nohup {}",
    "setsid": "setsid -f {}",
    "chronic": "chronic {}",
    "unbuffer": "unbuffer {}",
    "torsocks": "torsocks {}",
    "noglob": "noglob {}",
    "chrt": "chrt -f 99 {}",
    "taskset": "taskset -c 0,1 {}",
    "builtin": "builtin {}",
    "time": "time -f %e -o times.log {}",
    "exec": "exec -a name {}",
    "stdbuf": "stdbuf -o L {}",
    "caffeinate": "caffeinate -t 600 {}",
    "proxychains": "proxychains -f proxy.conf {}",
    "proxychains4": "proxychains4 -f proxy.conf {}",
    "runuser": "runuser -u app {}",
    "nsenter": "nsenter -t 1 -m {}",
    "dotenv": "dotenv -e .env.local {}",
    "command": "command -p {}",
    "env": "env -u HOME -C /srv NODE_ENV=production {}",
    "timeout": "timeout -s KILL -k 5 60 {}",
    "flock": "flock -w 10 /tmp/deploy.lock {}",
    "watch": "watch -n 5 {}",
    "busybox": "busybox {}",
    "xargs": "xargs -0 -n 1 -P 4 {}",
    "parallel": "parallel -j 4 '{}' ::: 1",
    "npx": "npx -p some-tool {}",
    "bunx": "bunx {}",
    "pnpx": "pnpx {}",
    "uvx": "uvx --from some-tool {}",
    "uv": "uv --directory app run --with rich -- {}",
    "pipx": "pipx run --spec some-tool {}",
    "poetry": "poetry -C app run {}",
    "pdm": "pdm run {}",
    "hatch": "hatch -e test run {}",
    "pnpm": "pnpm --filter api exec {}",
    "yarn": "yarn dlx {}",
    "npm": "npm exec -w api -- {}",
    "bundle": "bundle exec {}",
    "conda": "conda run -n base {}",
    "mise": "mise exec -- {}",
    "direnv": "direnv exec /srv/app {}",
    "nix": "nix shell {}",
    "eval": "eval '{}'",
    "su": "su - root -c '{}'",
    "screen": "screen -dmS job {}",
    "tmux": "tmux -L work new-session -d -s job '{}'",
    "sg": "sg docker -c '{}'",
    "vagrant": "vagrant ssh -c '{}'",
    "nix-shell": "nix-shell -p hello --run '{}'",
    "gdb": "gdb -batch -ex 'shell {}'",
    "entr": "entr -s '{}'",
    **{shell: shell + " -c '{}'" for shell in SHELLS},
    "busybox-sh": "busybox-sh -c '{}'",
}

INNER = "rm -rf /"


def _found(uw) -> bool:
    """The inner command was reached: as the remaining argv, or as shell text to classify."""
    return uw.argv == shlex.split(INNER) or any(INNER in text for text, _label in uw.nested)


def test_every_registered_wrapper_has_an_example():
    assert set(EXAMPLES) == set(WRAPPERS)


def test_no_name_is_declared_twice():
    assert len(WRAPPERS) == sum(len(w.names) for w in set(WRAPPERS.values()))


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_registered_wrapper_unwraps(name):
    line = EXAMPLES[name].format(INNER)
    argv = shlex.split(line)
    uw = unwrap(argv, [False] * len(argv))
    assert _found(uw), (line, uw.argv, uw.nested)
    v = classify_command(line)
    assert v.tier == 4 and v.deny and "rm.root-or-home" in v.rule_ids, (line, v.rule_ids)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_nested_wrappers_unwrap_inside_every_wrapper(name):
    inner = EXAMPLES[name].format("timeout 5 env A=1 nice " + INNER)
    for line in (inner, f"sudo -u root nohup {inner}"):
        v = classify_command(line)
        assert v.tier == 4 and v.deny and "rm.root-or-home" in v.rule_ids, (line, v.rule_ids)


def test_nested_prefix_wrappers_are_peeled_in_order():
    argv = "sudo -u ops /usr/bin/nice -n 5 timeout 10 env A=1 xargs -0 rm -rf".split()
    uw = unwrap(argv, [False] * len(argv))
    assert uw.argv == ["rm", "-rf"]
    assert uw.assigns == {"A": "1"} and uw.args_unknown
    assert [n for n in uw.notes if n.startswith("unwrapped")] == [
        "unwrapped sudo",
        "unwrapped nice",
        "unwrapped timeout",
        "unwrapped env",
        "unwrapped xargs (arguments come from stdin)",
        "unwrapped xargs",
    ]


def test_a_runaway_chain_of_wrappers_stops_and_asks():
    argv = ["nohup"] * 70 + ["ls"]
    uw = unwrap(argv, [False] * len(argv))
    assert (3, "shell.too-deep", "too many nested wrappers") in uw.hits


# Wrappers whose first word is not an option of their own: busybox (a leading option is busybox's,
# no applet runs), eval (every word is the command), sg (the group comes first), vagrant (its
# command option belongs to `vagrant ssh`).
_NO_LEADING_OPTIONS = {"busybox", "eval", "sg", "vagrant"}


@pytest.mark.parametrize("name", sorted(set(EXAMPLES) - _NO_LEADING_OPTIONS))
def test_an_unknown_option_of_a_wrapper_fails_closed(name):
    # An option the registry does not declare is read as a flag and the search for the command goes
    # on, so the command is still found (the real wrapper would refuse the option and run nothing).
    head, rest = EXAMPLES[name].format(INNER).split(" ", 1)
    line = f"{head} --no-such-option {rest}"
    v = classify_command(line)
    assert v.tier == 4 and v.deny and "rm.root-or-home" in v.rule_ids, (line, v.rule_ids)


@pytest.mark.parametrize("name", sorted(set(EXAMPLES) - _NO_LEADING_OPTIONS))
def test_an_unknown_option_that_takes_a_value_fails_closed(name):
    # `sudo --new-option VALUE rm -rf /`: were the option a flag, VALUE would be the program; the
    # reading where it took VALUE is judged too, and the stricter verdict stands. Every kind of
    # wrapper, not only the plain prefixes: xargs, watch, flock, env, su, screen, shells …
    head, rest = EXAMPLES[name].format(INNER).split(" ", 1)
    line = f"{head} --new-option VALUE {rest}"
    v = classify_command(line)
    assert v.tier == 4 and v.deny and "rm.root-or-home" in v.rule_ids, (line, v.rule_ids)


# Wrappers whose command is the first word after their options (not a script, a subcommand's
# program or a shell's arguments).
_COMMAND_FOLLOWS = sorted(
    n
    for n, w in WRAPPERS.items()
    if w.find.__name__
    in ("_prefix", "_sudo", "_exec", "_command", "_xargs", "_watch", "_flock", "_env", "_chroot")
    or (w.find.__name__ == "_runner" and not w.subcommands)
)


@pytest.mark.parametrize("name", _COMMAND_FOLLOWS)
def test_an_unknown_option_before_a_value_option_fails_closed(name):
    # `xargs --new-option -I git push …`: read as a flag, -I takes `git` and `push` is the command;
    # if the unknown option took `-I`, git is. Not only the option just before the command counts.
    w = WRAPPERS[name]
    operand = "/srv/lock " * w.operands  # timeout's duration, flock's lock file …
    for option in sorted(o for o in w.values if re.fullmatch(r"-[A-Za-z]", o))[:4]:
        line = f"{name} --new-option {option} {operand}{INNER}"
        v = classify_command(line)
        assert v.tier == 4 and v.deny and "rm.root-or-home" in v.rule_ids, (line, v.rule_ids)


@pytest.mark.parametrize("name", sorted(n for n, w in WRAPPERS.items() if w.subcommands))
def test_an_unknown_global_option_of_a_runner_fails_closed(name):
    # `uv --cache-dir DIR run cmd`: the undeclared option's value stands between it and `run`.
    sub = WRAPPERS[name].subcommands[0]
    line = f"{name} --new-option VALUE {sub} {'/srv ' if name == 'direnv' else ''}{INNER}"
    v = classify_command(line)
    assert v.tier == 4 and v.deny and "rm.root-or-home" in v.rule_ids, (line, v.rule_ids)


@pytest.mark.parametrize(
    "line",
    [
        "sudo -EH kubectl get pods",  # a bundle of declared flags
        "sudo --preserve-env=PATH kubectl get pods",  # a value attached with =
        "stdbuf -oL kubectl get pods",  # a value attached to its option
        "nice -19 kubectl get pods",  # a number
        "timeout -v --preserve-status 10 kubectl get pods",
    ],
)
def test_declared_options_leave_one_reading(line):
    argv = line.split()
    uw = unwrap(argv, [False] * len(argv))
    assert uw.argv == ["kubectl", "get", "pods"]
    assert [r for r in uw.readings if not r[1].endswith("(if it is the command)")] == []


def test_a_bundle_ending_in_a_value_option_gets_a_second_reading():
    # skip_options reads `root` as the command; the reading without `-Eu root` finds kubectl.
    argv = "sudo -Eu root kubectl get pods".split()
    uw = unwrap(argv, [False] * len(argv))
    assert uw.argv[0] == "root" and [text for text, _ in uw.readings] == ["sudo kubectl get pods"]


@pytest.mark.parametrize(
    "line,rule",
    [
        ("taskset 0x1 git push --force origin main", "git.force-push-protected"),
        ("chrt -f 99 git push --force origin main", "git.force-push-protected"),
        ("sudo -R /srv/root git push --force origin main", "git.force-push-protected"),  # sudo --chroot
        ("sudo -iu postgres dropdb payments", "sql.dropdb"),  # a bundle ending in -u takes `postgres`
        ("chrt kubectl delete ns prod", "kubectl.delete-critical"),  # no priority: the operand is the command
        ("timeout kubectl delete ns prod", "kubectl.delete-critical"),  # no duration
    ],
)
def test_operands_and_value_options_do_not_hide_the_command(line, rule):
    v = classify_command(line)
    assert v.tier == 4 and rule in v.rule_ids, (line, v.rule_ids)


@pytest.mark.parametrize(
    "line,tier",
    [
        ("timeout 10 kubectl get pods", 1),  # the duration read as a program is only T2: dropped
        ("sudo --new-flag git status", 2),  # the other reading (`status`) does not ask: dropped
        ("time --new-flag ls -la", 1),
    ],
)
def test_another_reading_counts_only_when_it_asks_or_blocks(line, tier):
    v = classify_command(line)
    assert v.tier == tier and len(v.parts) == 1, (line, v.tier, [p.text for p in v.parts])


def test_sudo_and_doas_assignments_set_the_environment():
    for wrapper in ("sudo", "doas"):
        argv = [wrapper, "KUBECONFIG=/etc/prod.conf", "kubectl", "get", "pods"]
        uw = unwrap(argv, [False] * len(argv))
        assert uw.argv == ["kubectl", "get", "pods"] and uw.assigns == {"KUBECONFIG": "/etc/prod.conf"}


def test_adding_a_wrapper_is_one_entry(monkeypatch):
    # A declared entry is all the loop needs: options with values, operands, the command.
    monkeypatch.setitem(WRAPPERS, "with-lease", Wrapper("with-lease", "--holder -H", operands=1))
    argv = "with-lease -H me --quiet lease-42 kubectl delete ns prod".split()
    uw = unwrap(argv, [False] * len(argv))
    assert uw.argv == ["kubectl", "delete", "ns", "prod"] and "unwrapped with-lease" in uw.notes
    assert "kubectl.delete-critical" in classify_command(" ".join(argv)).rule_ids


# -- declarations checked against the installed tools --------------------------------------------
_HELP_SPEC = re.compile(r"^\s{1,8}(-\S.*)$")
_HELP_NAME = re.compile(r"--?[A-Za-z0-9][\w-]*")


def _help_options(tool: str) -> dict[str, str]:
    """{option: "value" | "optional" | "flag"} as `tool --help` (GNU/util-linux layout) shows it:
    `-n, --interval <secs>` and `-a, --arg-file=FILE` take a value, `--eof[=END]` and `-l[N]` only
    an attached one, anything else none."""
    out = subprocess.run([tool, "--help"], capture_output=True, text=True, timeout=30)
    kinds: dict[str, str] = {}
    for line in (out.stdout + out.stderr).splitlines():
        m = _HELP_SPEC.match(line)
        if not m:
            continue
        spec, names, pos = m.group(1), [], 0
        while (name := _HELP_NAME.match(spec, pos)) is not None:
            names.append(name.group())
            pos = name.end()
            sep = re.match(r"[,.]\s*", spec[pos:])  # `-W. --wdns` is a typo in nsenter's help
            if not sep or not spec[pos + sep.end() :].startswith("-"):
                break
            pos += sep.end()
        rest = spec[pos:]
        if rest.startswith("["):
            kind = "optional"
        elif rest.startswith("=") or re.match(r"\s(<|[A-Z][A-Z0-9_-]*(\s|$)|\S*\|)", rest):
            kind = "value"
        else:
            kind = "flag"
        kinds.update(dict.fromkeys(names, kind))
    return kinds


_GNU_WRAPPERS = (
    "xargs watch flock env su runuser setpriv chroot timeout nice stdbuf setsid nsenter ionice chrt taskset"
).split()


@pytest.mark.parametrize("tool", _GNU_WRAPPERS)
def test_declared_options_match_the_installed_tool(tool):
    # A flag declared as taking a value hides the command behind it (`watch -d rm -rf /` read `rm`
    # as -d's value); a value option declared as a flag loses the reading where it takes one. An
    # option the tool does not list (a BSD one) may stay declared; one not declared is read both ways.
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed here")
    kinds = _help_options(tool)
    assert len(kinds) >= 3, f"could not read the options of `{tool} --help`"
    w = WRAPPERS[tool]
    assert [o for o in sorted(w.values) if kinds.get(o, "value") != "value"] == []
    assert [o for o in sorted(w.flags) if kinds.get(o) == "value"] == []


@pytest.mark.parametrize(
    "tool,flags",
    [("xargs", "-0 -i -l -e -r -t -x --replace --eof --null"), ("env", "-i -v --ignore-signal")],
)
def test_declared_flags_do_not_take_the_next_word(tool, flags):
    # The real program runs `echo marker` after each declared flag, so the flag did not take `echo`.
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed here")
    for flag in flags.split():
        assert flag in WRAPPERS[tool].flags
        run = subprocess.run([tool, flag, "echo", "marker"], input="a\n", capture_output=True, text=True)
        assert "marker" in run.stdout, (tool, flag, run.stderr)


@pytest.mark.parametrize(
    "line,rule",
    [
        ("xargs --weird x git push --force origin main", "git.force-push-protected"),
        ("watch -Z 5 kubectl delete ns prod", "kubectl.delete-critical"),
        ("flock --bogus x /tmp/l git push --force origin main", "git.force-push-protected"),
        ("flock --bogus x /tmp/l -c 'git push --force origin main'", "git.force-push-protected"),
        ("env --weird x git push --force origin main", "git.force-push-protected"),
        ("npx --weird x git push --force origin main", "git.force-push-protected"),
        ("bash --weird x -c 'git push --force origin main'", "git.force-push-protected"),
        ("tmux --weird x new-session 'git push --force origin main'", "git.force-push-protected"),
        # options whose value is only ever attached: the next word is the command
        ("watch -d kubectl delete ns prod", "kubectl.delete-critical"),
        ("xargs -l git push --force origin main", "git.force-push-protected"),
        ("nsenter -t 1 --wd git push --force origin main", "git.force-push-protected"),
        # a command handed over in an option the shell wrapper did not know
        ("fish --command 'git push --force origin main'", "git.force-push-protected"),
        ("fish -C 'git push --force origin main'", "git.force-push-protected"),
        ("env -iS 'git push --force origin main'", "git.force-push-protected"),
    ],
)
def test_every_wrapper_kind_reads_unknown_options_both_ways(line, rule):
    v = classify_command(line)
    assert v.tier == 4 and rule in v.rule_ids, (line, v.tier, v.rule_ids)


@pytest.mark.parametrize(
    "line,tier",
    [
        ("xargs -0 ls", 1),
        ("xargs -0 -n1 -P4 echo", 1),
        ("watch -n 5 kubectl get pods", 1),
        ("watch -d -n 2 df -h", 1),
        ("flock /tmp/l make test", 2),
        ("flock -x -w 10 /tmp/l git status", 1),
        ("env -i PATH=/usr/bin git log", 1),
        ("bash -lc 'ls -la'", 1),
    ],
)
def test_declared_options_of_those_wrappers_stay_quiet(line, tier):
    # Real options are declared, so no second reading is even made, and the tier is the command's.
    argv = shlex.split(line)
    uw = unwrap(argv, [False] * len(argv))
    assert [r for r in uw.readings if not r[1].endswith("(if it is the command)")] == [], uw.readings
    assert classify_command(line).tier == tier


def test_many_unknown_options_ask_instead_of_growing_without_end():
    # Each undeclared option doubles the ways to read what follows; past a budget the line asks.
    line = "sudo " + " ".join(f"--opt{i}" for i in range(30)) + " ls"
    v = classify_command(line)
    assert v.tier == 3 and "shell.over-budget" in v.rule_ids, v.rule_ids


# -- switching user: the command the other user's shell runs is judged ----------------------------
@pytest.mark.parametrize(
    "line",
    [
        "su -l app -c '{}'",
        "su - app -c '{}'",
        "su -c '{}' app",
        "su app -c '{}'",
        "su --login --command='{}'",
        "su --session-command '{}' app",
        "su -lc '{}'",
        "su -c'{}' app",
        "su -s /bin/bash - app -c '{}'",
        "runuser -l app -c '{}'",
        "runuser - app -c '{}'",
        "runuser app -c '{}'",
        "runuser -lc '{}' app",
        "runuser --login app --command='{}'",
        "runuser -u app -- {}",
        "sudo -iu app {}",
        "sudo su - -c '{}'",
        "sudo su - app -c '{}'",
        "doas su -c '{}'",
        "pkexec --user app {}",
        "run0 -u app {}",
        "gosu app {}",
        "su-exec app {}",
        "setpriv --reuid 1000 --init-groups {}",
        "chpst -u app {}",
        "capsh --user=app -- -c '{}'",
        "chroot --userspec=app /srv/jail {}",
    ],
)
def test_the_command_run_as_another_user_is_judged(line):
    for inner, rule in (
        ("git push --force origin main", "git.force-push-protected"),
        (INNER, "rm.root-or-home"),
    ):
        v = classify_command(line.format(inner))
        assert v.tier == 4 and rule in v.rule_ids, (line.format(inner), v.rule_ids)


@pytest.mark.parametrize(
    "line,rule",
    [
        ("su - app deploy.sh", "shell.script-file"),  # arguments after USER go to the user's shell
        ("su -s /usr/bin/python3 app -c 'import shutil; shutil.rmtree(\"/\")'", "rm.root-or-home"),
        ('su app -c "$CMD"', "shell.dynamic-script"),
        ('su -s "$SH" app -c ls', "shell.dynamic-command"),
        ("runuser -l app", "shell.interactive"),
        ("pkexec", "sudo.root-shell"),
        ("chroot /srv/jail", "shell.interactive"),
    ],
)
def test_what_the_other_users_shell_runs(line, rule):
    assert rule in classify_command(line).rule_ids, (line, classify_command(line).rule_ids)


def test_su_alone_still_asks_and_runuser_adds_no_tier():
    # su switches to a user whose password it asks (usually root): T3 even for `ls`; runuser and
    # the setuid helpers only run as root already, so they add nothing to the command's own tier.
    assert classify_command("su - app -c 'ls'").tier == 3
    for line in ("runuser -l app -c 'ls'", "runuser -u app -- ls", "gosu app ls", "setpriv --reuid 1000 ls"):
        assert classify_command(line).tier == 1, line
