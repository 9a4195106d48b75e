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
    "chrt": "chrt -f {}",
    "taskset": "taskset --all-tasks {}",
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
