"""The tree-sitter front end: splitting, nesting, word resolution, here-docs and pipes."""

from __future__ import annotations

from pathlib import Path

import pytest

from skill.guardrails.shell import parse


def argvs(command: str) -> list[list[str]]:
    return [s.argv for s in parse(command).commands]


def test_splits_on_every_separator():
    got = argvs("a 1; b 2 && c 3 || d 4 | e 5 & f 6\ng 7")
    assert [a[0] for a in got] == ["a", "b", "c", "d", "e", "f", "g"]


def test_subshells_groups_and_substitutions_are_found():
    got = argvs("(cd x; make) && { ls; } ; echo $(whoami) `id` <(date)")
    names = sorted(a[0] for a in got)
    assert names == sorted(["cd", "make", "ls", "echo", "whoami", "id", "date"])


def test_substitution_commands_are_marked():
    cmds = parse("echo $(rm -rf /tmp/x)").commands
    inner = [c for c in cmds if c.argv[0] == "rm"][0]
    outer = [c for c in cmds if c.argv[0] == "echo"][0]
    assert inner.in_substitution and not outer.in_substitution
    assert outer.dynamic == [False, True]


def test_quotes_and_escapes_are_resolved():
    assert argvs("\\rm 'a b' \"c d\" r''m $'\\x72m'") == [["rm", "a b", "c d", "rm", "rm"]]


def test_ifs_splits_words():
    assert argvs("rm${IFS}-rf${IFS}/") == [["rm", "-rf", "/"]]


def test_heredoc_and_herestring_bodies_attach_to_their_command():
    cmds = parse("psql <<SQL | tee out\nDROP TABLE x;\nSQL\n").commands
    assert cmds[0].argv == ["psql"] and cmds[0].stdin == "DROP TABLE x;\n"
    assert cmds[1].argv == ["tee", "out"] and cmds[1].pipe_src is cmds[0]
    here = parse('bash <<< "rm x"').commands[0]
    assert here.stdin_kind == "herestring" and here.stdin == "rm x"


def test_pipeline_sources_are_linked():
    cmds = parse("curl -s x | sudo bash").commands
    assert cmds[1].pipe_src is cmds[0]


def test_variables_keep_their_text_and_are_dynamic():
    cmd = parse('rm -rf "$HOME"/x').commands[0]
    assert cmd.argv == ["rm", "-rf", "$HOME/x"] and cmd.dynamic == [False, False, True]


def test_syntax_errors_are_reported():
    assert parse("echo 'unterminated").error


def test_the_classifier_imports_nothing_heavy(run):
    code = (
        "import sys; from skill.guardrails.classify import classify_command; "
        "classify_command('sudo kubectl --context prod delete ns x | tee log'); "
        "heavy = ['dataclasses', 'pydantic', 'click', 'langgraph', 'chromadb', 'anthropic', 'mcp', "
        "'onnxruntime', 'json', 'sqlite3', 'tree_sitter_bash', 'importlib.resources', 'inspect']; "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    result = run("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def _signature(v):
    return (
        v.tier,
        v.deny,
        v.rule_ids,
        v.environment,
        [(p.text, p.argv, p.tier, p.rule_ids) for p in v.parts],
    )


def test_plain_line_shortcut_gives_the_grammar_verdict(monkeypatch):
    # The shortcut that skips tree-sitter must agree with it on every line it accepts.
    import json

    from skill.guardrails import shell
    from skill.guardrails.classify import classify_command

    corpus = Path("/work/shared/corpora/guardrails/peer_commands.dev.jsonl")
    lines = [json.loads(x)["command"] for x in corpus.read_text().splitlines()] if corpus.exists() else []
    lines += [
        "kubectl get pods -n prod",
        "rm -rf /",
        "time rm -rf /usr",
        "git push -f origin main",
        "  ls  -la ",
    ]
    plain = [c for c in lines if shell._plain_words(c) is not None]
    assert len(plain) >= 5
    fast = [_signature(classify_command(c)) for c in plain]
    monkeypatch.setattr(shell, "_plain_words", lambda c: None)
    assert fast == [_signature(classify_command(c)) for c in plain]


@pytest.mark.parametrize(
    "line",
    ["rm -rf ~", "X=1 ls", "ls *", "echo $HOME", "a;b", "if true", "%1", "ls\tx", "ls 'a'", "ls\\ x", "!ls"],
)
def test_lines_with_shell_syntax_are_not_plain(line):
    from skill.guardrails import shell

    assert shell._plain_words(line) is None
