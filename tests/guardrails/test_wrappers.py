"""The wrapper registry (skill.guardrails.wrappers): every declared wrapper finds the command it runs.

Each registered name has a real-world usage below; a new entry without one fails
`test_every_registered_wrapper_has_an_example`, so the registry cannot grow untested.
"""

from __future__ import annotations

import shlex

import pytest

from skill.guardrails.classify import classify_command
from skill.guardrails.wrappers import SHELLS, WRAPPERS, Wrapper, unwrap

# name -> how it is used, with {} for the command it runs
EXAMPLES = {
    "sudo": "sudo -u deploy -g ops {}",
    "doas": "doas -u admin {}",
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


_PREFIXES = sorted(
    n for n, w in WRAPPERS.items() if w.find.__name__ in ("_prefix", "_sudo", "_exec", "_command")
)


@pytest.mark.parametrize("name", _PREFIXES)
def test_an_unknown_option_that_takes_a_value_fails_closed(name):
    # `sudo --new-option VALUE rm -rf /`: were the option a flag, VALUE would be the program; the
    # reading where it took VALUE is judged too, and the stricter verdict stands.
    head, rest = EXAMPLES[name].format(INNER).split(" ", 1)
    line = f"{head} --new-option VALUE {rest}"
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
