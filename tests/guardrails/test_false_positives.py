"""Destructive text used as data must not trigger; dry runs and previews are T1; help is T1."""

from __future__ import annotations

import pytest

from skill.guardrails.classify import classify_command


def tier(command: str) -> int:
    return classify_command(command).tier


@pytest.mark.parametrize(
    "command",
    [
        'grep -r "rm -rf" .',
        "rg -n 'terraform destroy' docs/",
        "grep -E 'DROP (TABLE|DATABASE)' migrations/*.sql",
        'echo "rm -rf /"',
        "echo 'kubectl delete ns prod' >> notes.txt",
        "printf '%s\\n' 'git push --force'",
        'git commit -m "fix: never run terraform destroy on prod"',
        "git commit -am 'document rm -rf / protection'",
        "git tag -a v1 -m 'DROP TABLE users is blocked now'",
        'gh pr create --title "Block rm -rf" --body "We now block rm -rf / and git reset --hard"',
        'gh issue comment 12 --body "ran kubectl delete pod by mistake"',
        "glab mr create --description 'terraform destroy guard'",
        "ls # rm -rf /",
        "cat <<'EOF'\nrm -rf /\ngit reset --hard\nEOF",
        "tee notes.md <<EOF\nkubectl delete namespace prod\nEOF",
        "grep rm <<< 'rm -rf /home/user'",
        "jq '.steps[] | select(.run == \"rm -rf build\")' workflow.json",
        "awk '/DROP TABLE/ {print}' dump.sql",
        "sed -n '/terraform destroy/p' runbook.md",
        "man rm",
        "which rm",
        "type rm",
        "command -v terraform",
        "history | grep 'git reset --hard'",
        'echo "$(date): terraform destroy skipped"',
        "VAR='rm -rf /'; echo \"$VAR\"",
        "python3 -c 'print(\"rm -rf /\")'",
        "node -e 'console.log(\"DROP TABLE users\")'",
        "aws athena start-query-execution --query-string 'SELECT * FROM t WHERE note = \"DROP TABLE\"'",
        "psql -c \"SELECT * FROM audit WHERE action = 'DROP TABLE users'\"",
        "kubectl logs deploy/api | grep 'delete'",
        "docker logs api 2>&1 | grep 'rm -rf'",
    ],
)
def test_destructive_text_as_data_is_allowed(command):
    v = classify_command(command)
    assert v.tier <= 2, (command, v.tier, v.rule_ids)


@pytest.mark.parametrize(
    "command",
    [
        "terraform plan",
        "terraform plan -out=tf.plan",
        "terraform -chdir=envs/dev plan",
        "tofu plan",
        "pulumi preview",
        "kubectl delete deployment web --dry-run=client",
        "kubectl apply -f k8s/ --dry-run=server",
        "kubectl delete ns staging --dry-run",
        "kubectl diff -f k8s/",
        "helm diff upgrade web ./chart",
        "helm template web ./chart",
        "helm uninstall web --dry-run",
        "helm upgrade --install web ./chart --dry-run",
        "git clean -n",
        "git clean -nd",
        "git clean --dry-run -fd",
        "rsync -avn --delete src/ dst/",
        "rsync --dry-run --delete src/ dst/",
        "ansible-playbook --check site.yml",
        "aws ec2 terminate-instances --instance-ids i-1 --dry-run",
        "aws s3 rm s3://bucket/key --dryrun",
        "docker system prune --dry-run",
        "az deployment group what-if -g rg --template-file main.bicep",
        "rclone sync src remote:dst --dry-run",
    ],
)
def test_dry_runs_and_previews_are_tier_1(command):
    v = classify_command(command)
    assert v.tier == 1, (command, v.tier, v.rule_ids)


@pytest.mark.parametrize(
    "command",
    [
        "rm --help",
        "terraform destroy --help",
        "kubectl delete --help",
        "helm uninstall --help",
        "git push --help",
        "aws s3 rm help",
        "docker system prune --help",
        "ssh -h",
        "gh repo delete --help",
    ],
)
def test_help_is_tier_1(command):
    assert tier(command) == 1, command


def test_dry_run_none_is_not_a_dry_run():
    assert tier("kubectl delete deployment web --dry-run=none") >= 3
    assert tier("helm uninstall web --dry-run=false") >= 3


@pytest.mark.parametrize(
    "command",
    [
        "ls -la",
        "cat README.md",
        "git status",
        "git log --oneline -5",
        "git diff HEAD~1",
        "kubectl get pods -A",
        "kubectl describe pod api-0",
        "kubectl logs -f deploy/api",
        "helm list -A",
        "docker ps -a",
        "terraform show",
        "aws sts get-caller-identity",
        "gcloud compute instances list",
        "az account show",
        "vault kv list secret/app",
        "gh pr list",
        "systemctl status nginx",
        "psql -c 'SELECT count(*) FROM users'",
        "redis-cli GET key",
    ],
)
def test_read_only_commands_are_tier_1(command):
    assert tier(command) == 1, (command, classify_command(command).rule_ids)


@pytest.mark.parametrize(
    "command",
    [
        "make",
        "make test",
        "pytest -q",
        "npm test",
        "npm run build",
        "cargo build",
        "go test ./...",
        "pip install -r requirements.txt",
    ],
)
def test_ordinary_build_and_test_commands_are_allowed(command):
    assert tier(command) <= 2, command


def test_unknown_programs_default_to_tier_2():
    v = classify_command("frobnicate --level 3 input.txt")
    assert v.tier == 2 and v.rule_ids == ["generic.unknown-program"]


def test_temp_directory_cleanup_is_allowed():
    assert tier("rm -rf /tmp/build") == 2
    assert tier('rm -rf "$TMPDIR/cache"') == 2
    assert tier("rm -rf /tmp/../etc") == 4  # .. is folded before judging


@pytest.mark.parametrize(
    "command", ["make clean", "cargo clean", "npm run clean", "npm uninstall left-pad", "go clean -cache"]
)
def test_build_housekeeping_is_not_a_destructive_verb(command):
    assert tier(command) == 2, (command, classify_command(command).rule_ids)


def test_dash_h_is_help_only_where_the_tool_says_so():
    assert tier("kubectl delete ns payments -h") == 1
    assert tier("terraform destroy -help") == 1
    assert tier("rm -rf / -h") == 4
    assert tier("docker run --rm alpine rm -rf /data -h") >= 3


@pytest.mark.parametrize(
    "command",
    [
        "make test",
        "pytest",
        "npm ci",
        "docker build -t app .",
        "terraform fmt -check",
        "terraform validate",
        "helm template x ./chart",
        "helm diff upgrade x ./chart",
        "git rebase -x 'make test' HEAD~3",
        "git submodule foreach git pull",
        "git bisect run make test",
        "GIT_SSH_COMMAND='ssh -i ~/.ssh/deploy' git fetch",
        "PAGER=cat git log",
        "ssh -o StrictHostKeyChecking=no host uptime",
        "tar -czf out.tgz dir",
        "echo 'export PATH=x' | tee notes.md",
        "psql -c 'WITH t AS (SELECT 1) SELECT * FROM t'",
        "mysql -e 'SELECT /*!40001 SQL_NO_CACHE */ 1'",
        "git push --force-with-lease origin feature",
        "tmux ls",
        "echo ls > x.sh; sh x.sh",
    ],
)
def test_everyday_commands_near_the_review_rules_stay_allowed(command):
    # rules added in review (command-running options, startup files, variables) must not catch these
    assert tier(command) <= 2, (command, classify_command(command).rule_ids)


@pytest.mark.parametrize("command", ["PAGER=cat git log", "git log -S 'PAGER'", "cat ~/.bashrc"])
def test_reading_near_the_review_rules_stays_tier_1(command):
    assert tier(command) == 1, (command, classify_command(command).rule_ids)
