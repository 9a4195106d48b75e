"""Rules per tool family, environment awareness, and the shape of the verdict (A2's contract)."""

from __future__ import annotations

import pytest

from skill.guardrails.classify import CommandVerdict, PartVerdict, classify_command


def v(command: str, cwd: str | None = None) -> CommandVerdict:
    return classify_command(command, cwd=cwd)


def tier(command: str, cwd: str | None = None) -> int:
    return v(command, cwd).tier


def rules(command: str) -> list[str]:
    return v(command).rule_ids


# -- contract ------------------------------------------------------------------------------------
def test_verdict_shape():
    verdict = v("sudo kubectl --context prod delete ns payments && echo done")
    assert isinstance(verdict, CommandVerdict)
    assert verdict.tier == 4 and not verdict.deny
    assert verdict.environment == "production"
    assert verdict.deciding == "kubectl --context prod delete ns payments"
    assert "kubectl.delete-critical" in verdict.rule_ids
    assert all(isinstance(p, PartVerdict) for p in verdict.parts)
    deciding = [p for p in verdict.parts if p.text == verdict.deciding][0]
    assert deciding.argv[0] == "kubectl" and deciding.reasons
    assert any("unwrapped sudo" in n for n in verdict.parse_notes)


def test_empty_command_is_tier_1():
    verdict = v("   ")
    assert verdict.tier == 1 and verdict.parts == [] and verdict.deciding is None


def test_deny_set():
    for command in [
        "rm -rf /",
        "rm -rf ~",
        "rm -rf /*",
        "rm -rf $HOME",
        "mkfs.ext4 /dev/sda1",
        "dd if=/dev/zero of=/dev/nvme0n1",
        "chmod -R 777 /",
        ":(){ :|:& };:",
        "echo junk > /dev/sda",
    ]:
        verdict = v(command)
        assert verdict.deny and verdict.tier == 4, command
    for command in ["rm -rf /etc", "rm -rf ./build", "chmod -R 755 /etc", "mkfs.ext4 disk.img"]:
        assert not v(command).deny, command


# -- git ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command,expected",
    [
        ("git status", 1),
        ("git add . && git commit -m wip", 2),
        ("git push origin feature", 2),
        ("git push --force-with-lease", 2),
        ("git push --force origin feature", 3),
        ("git push -f origin main", 4),
        ("git push origin +main", 4),
        ("git push origin :old-branch", 3),
        ("git reset --hard HEAD~3", 3),
        ("git reset HEAD~1", 2),
        ("git checkout -- .", 3),
        ("git checkout -b feature", 2),
        ("git restore --staged file", 2),
        ("git restore file", 3),
        ("git clean -fdx", 3),
        ("git branch -D feature", 3),
        ("git branch -d feature", 2),
        ("git stash clear", 3),
        ("git filter-branch --tree-filter 'rm x' HEAD", 3),
        ("git reflog expire --expire=now --all", 3),
    ],
)
def test_git(command, expected):
    assert tier(command) == expected, (command, rules(command))


# -- file system ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command,expected",
    [
        ("rm file.txt", 2),
        ("rm -rf node_modules", 3),
        ("rm -rf /etc", 4),
        ("rm -f /etc/hosts", 3),
        ("rm -rf ~/Documents", 3),
        ("rm -rf .", 4),
        ("find . -name '*.pyc' -delete", 3),
        ("dd if=disk.img of=backup.img", 2),
        ("shred -u secret.txt", 3),
        ("truncate -s 0 app.log", 3),
        ("chmod 755 script.sh", 2),
        ("chmod 777 shared", 3),
        ("chmod u+s binary", 3),
        ("chown -R app:app /var", 4),
        ("chown root file", 3),
        ("wipefs -a /dev/sdb", 4),
        ("fdisk -l", 1),
    ],
)
def test_filesystem(command, expected):
    assert tier(command) == expected, (command, rules(command))


# -- infrastructure as code ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "command,expected",
    [
        ("terraform init", 1),
        ("terraform plan", 1),
        ("terraform apply", 2),
        ("terraform apply tfplan", 3),  # an unreviewed saved plan applies without a prompt
        ("devops iac review plan.json && terraform apply tfplan", 2),
        ("terraform apply -auto-approve", 3),
        ("terraform destroy", 4),
        ("terraform apply -destroy -auto-approve", 4),
        ("terraform state rm aws_instance.web", 3),
        ("terraform state list", 1),
        ("terraform force-unlock 123", 3),
        ("tofu destroy", 4),
        ("pulumi preview", 1),
        ("pulumi up --yes", 3),
        ("pulumi destroy", 4),
        ("pulumi stack rm old", 3),
        ("ansible-playbook site.yml --check", 1),
        ("ansible-playbook site.yml", 2),
        ("ansible web -m ping", 1),
        ("ansible web -m shell -a 'rm -rf /'", 4),
    ],
)
def test_iac(command, expected):
    assert tier(command) == expected, (command, rules(command))


# -- kubernetes ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command,expected",
    [
        ("kubectl get pods", 1),
        ("kubectl apply -f deploy.yaml", 2),
        ("kubectl apply -f deploy.yaml --prune -l app=x", 3),
        ("kubectl delete pod api-0", 3),
        ("kubectl delete ns payments", 4),
        ("kubectl delete pvc data-db-0", 4),
        ("kubectl delete pods --all", 4),
        ("kubectl drain node-1", 3),
        ("kubectl scale deploy api --replicas=0", 3),
        ("kubectl scale deploy api --replicas=3", 2),
        ("kubectl rollout undo deploy/api", 3),
        ("kubectl exec -it api-0 -- rm -rf /data", 3),
        ("helm list", 1),
        ("helm upgrade --install web ./chart", 2),
        ("helm uninstall web", 3),
        ("helm rollback web 2", 3),
        ("kustomize build overlays/dev", 1),
    ],
)
def test_kubernetes(command, expected):
    assert tier(command) == expected, (command, rules(command))


# -- containers ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command,expected",
    [
        ("docker ps", 1),
        ("docker build -t app .", 2),
        ("docker run --rm alpine echo hi", 2),
        ("docker run --privileged -v /:/host alpine", 3),
        ("docker rm old", 2),
        ("docker rm -f api", 3),
        ("docker stop api", 3),
        ("docker volume rm pgdata", 3),
        ("docker system prune -af", 3),
        ("docker system prune -af --volumes", 4),
        ("docker compose down", 2),
        ("docker compose down -v", 3),
        ("podman volume prune", 3),
    ],
)
def test_containers(command, expected):
    assert tier(command) == expected, (command, rules(command))


# -- cloud ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command,expected",
    [
        ("aws s3 ls", 1),
        ("aws ec2 describe-instances", 1),
        ("aws s3 cp a s3://b/a", 2),
        ("aws ec2 run-instances --image-id ami-1", 2),
        ("aws ec2 terminate-instances --instance-ids i-1", 4),
        ("aws rds delete-db-instance --db-instance-identifier db", 4),
        ("aws s3 rm s3://b --recursive", 4),
        ("aws s3 sync . s3://b --delete", 3),
        ("aws iam delete-user --user-name bob", 3),
        ("aws athena start-query-execution --query-string 'DROP TABLE t'", 4),
        ("gcloud compute instances list", 1),
        ("gcloud compute instances delete vm-1", 4),
        ("gcloud projects delete p", 4),
        ("gcloud secrets delete s", 3),
        ("gsutil rm -r gs://b", 4),
        ("az vm list", 1),
        ("az group delete --name rg --yes", 4),
        ("az storage blob delete -c c -n b", 3),
        ("az keyvault secret purge --name s --vault-name v", 4),
    ],
)
def test_cloud(command, expected):
    assert tier(command) == expected, (command, rules(command))


# -- SQL, redis, mongo ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command,expected",
    [
        ("psql -c 'SELECT * FROM users'", 1),
        ("psql -c 'DROP TABLE users'", 4),
        ("psql -c 'TRUNCATE sessions'", 4),
        ("psql -c 'DELETE FROM users'", 4),
        ("psql -c 'DELETE FROM users WHERE id = 3'", 2),
        ("psql -c 'UPDATE users SET admin = true'", 4),
        ("psql -c 'UPDATE users SET admin = true WHERE id = 3'", 2),
        ("psql -c 'ALTER TABLE users DROP COLUMN email'", 4),
        ("psql -c 'ALTER TABLE users ADD COLUMN age int'", 2),
        ("psql -c 'SELECT 1; DROP DATABASE app'", 4),
        ("psql -c \"SELECT ';DROP TABLE x'\"", 1),
        ("psql -c 'EXPLAIN ANALYZE DELETE FROM t'", 4),
        ("psql -f migrate.sql", 3),
        ("mysql -e 'DROP DATABASE shop'", 4),
        ("mysql -e 'SHOW TABLES'", 1),
        ("sqlite3 app.db 'DELETE FROM t'", 4),
        ("sqlite3 app.db .tables", 1),
        ("mongosh --eval 'db.dropDatabase()'", 4),
        ("mongosh --eval 'db.users.deleteMany({})'", 4),
        ("mongosh --eval 'db.users.find()'", 1),
        ("redis-cli FLUSHALL", 4),
        ("redis-cli GET k", 1),
        ("redis-cli SET k v", 2),
        ("dropdb app", 4),
    ],
)
def test_sql(command, expected):
    assert tier(command) == expected, (command, rules(command))


# -- forges, secrets, services, remote, http ---------------------------------------------------
@pytest.mark.parametrize(
    "command,expected",
    [
        ("gh pr list", 1),
        ("gh pr create --fill", 2),
        ("gh repo delete o/r --yes", 4),
        ("gh release delete v1", 3),
        ("gh secret set TOKEN", 3),
        ("gh api repos/o/r", 1),
        ("gh api -X DELETE repos/o/r/releases/1", 3),
        ("glab repo delete g/p", 4),
        ("vault kv get secret/x", 3),
        ("vault kv put secret/x a=b", 2),
        ("vault kv destroy -versions=1 secret/x", 4),
        ("vault secrets disable kv/", 4),
        ("systemctl status nginx", 1),
        ("systemctl restart nginx", 2),
        ("systemctl stop nginx", 3),
        ("systemctl stop sshd", 4),
        ("reboot", 4),
        ("ssh host uptime", 2),
        ("ssh host 'rm -rf /'", 4),
        ("scp file host:/etc/", 3),
        ("rsync -a src/ host:dst/", 2),
        ("rsync -a --delete src/ host:dst/", 3),
        ("curl https://example.com", 1),
        ("curl -X DELETE https://api.example.com/v1/users/1", 3),
        ("curl -d '{}' https://api.example.com/v1/users", 2),
    ],
)
def test_other_families(command, expected):
    assert tier(command) == expected, (command, rules(command))


# -- environment awareness ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "prod,dev",
    [
        ("kubectl --context prod-eu delete pod x", "kubectl --context dev delete pod x"),
        ("kubectl -n production apply -f x.yaml", "kubectl -n dev apply -f x.yaml"),
        (
            "kubectl --namespace=prod scale deploy a --replicas=2",
            "kubectl --namespace=dev scale deploy a --replicas=2",
        ),
        ("helm -n prod upgrade web ./chart", "helm -n dev upgrade web ./chart"),
        ("helm --kube-context prod-cluster rollback web 1", "helm --kube-context kind-dev rollback web 1"),
        ("terraform -chdir=envs/prod apply", "terraform -chdir=envs/dev apply"),
        (
            "terraform workspace select prod && terraform apply",
            "terraform workspace select dev && terraform apply",
        ),
        ("AWS_PROFILE=prod aws s3 cp a s3://b/a", "AWS_PROFILE=dev aws s3 cp a s3://b/a"),
        (
            "export AWS_PROFILE=prod; aws ec2 run-instances",
            "export AWS_PROFILE=sandbox; aws ec2 run-instances",
        ),
        (
            "aws --profile prod iam delete-user --user-name x",
            "aws --profile dev iam delete-user --user-name x",
        ),
        ("gcloud --project acme-prod secrets delete s", "gcloud --project acme-dev secrets delete s"),
        (
            "psql postgres://app@db.prod.internal/app -c 'DELETE FROM t WHERE id=1'",
            "psql postgres://app@db.dev.internal/app -c 'DELETE FROM t WHERE id=1'",
        ),
        (
            "psql -h prod-db -c 'UPDATE t SET a=1 WHERE id=1'",
            "psql -h localhost -c 'UPDATE t SET a=1 WHERE id=1'",
        ),
        ("ssh deploy@web-prod-1 'systemctl restart api'", "ssh deploy@web-dev-1 'systemctl restart api'"),
        ("docker --context prod rm -f api", "docker --context dev rm -f api"),
        (
            "vault -address=https://vault.prod.corp kv put secret/x a=b",
            "vault -address=https://vault.dev.corp kv put secret/x a=b",
        ),
    ],
)
def test_production_is_strictly_stricter(prod, dev):
    p, d = v(prod), v(dev)
    assert p.environment == "production", prod
    assert p.tier > d.tier or p.tier == 4 == d.tier + (p.tier - d.tier), (prod, p.tier, dev, d.tier)
    assert p.tier == min(4, d.tier + 1), (prod, p.tier, p.rule_ids, dev, d.tier)


def test_cwd_names_the_terraform_environment():
    assert tier("terraform apply", cwd="/srv/infra/envs/prod") == 3
    assert tier("terraform apply", cwd="/srv/infra/envs/dev") == 2


def test_bucket_names_count_as_environment():
    # Issue 12 §4: a bucket named for production is production (was: names are data).
    assert v("aws s3 cp a s3://prod-bucket/a").environment == "production"
    assert v("aws s3 cp a s3://product-assets/a").environment is None


def test_relative_paths_use_the_callers_cwd():
    assert tier("rm -rf build", cwd="/tmp/work") == 2
    assert tier("rm -rf build", cwd="/srv/app") == 3
    assert v("rm -rf *", cwd="/").deny
    assert tier("rm -rf etc", cwd="/") == 4


def test_cd_earlier_on_the_line_can_only_make_things_stricter():
    assert v("cd / && rm -rf *").deny
    assert v("cd ~ && rm -rf *").deny
    assert tier("cd /etc && rm -rf nginx") == 4
    # the cd may fail and `;` runs rm anyway in the original directory: not relaxed to T2
    assert tier("cd /tmp/x; rm -rf *") == 3


def test_deep_paths_under_home_are_risky_but_not_critical():
    assert tier("rm -rf /home/alice/project/node_modules") == 3
    assert tier("rm -rf /home/alice") == 4
    assert tier("rm -rf /var/lib/postgresql/data") == 4


@pytest.mark.parametrize(
    "command,expected",
    [
        ("stripe customers delete cus_1", 3),
        ("flipt flag delete my-flag", 3),
        ("rabbitmqctl delete_vhost /prod", 3),
        ("kafka-topics --bootstrap-server k:9092 --delete --topic t", 3),
        ("kafka-delete-records --offset-json-file f.json", 3),
        ("borg list repo::archive", 1),
        ("stripe customers list", 1),
        ("frobnicate run job.yaml", 2),
        ("npm publish", 3),
        ("cargo build", 2),
        ("apt-get remove nginx", 3),
        ("apt-get install nginx", 2),
        ("Remove-Partition -DiskNumber 1", 3),
    ],
)
def test_unknown_programs_are_judged_by_their_verbs(command, expected):
    assert tier(command) == expected, (command, rules(command))


def test_unicode_spaces_separate_words():
    assert tier("git\u3000status") == 1
    assert v("rm\u00a0-rf\u00a0/").deny


def test_sed_in_place_is_a_change():
    assert tier("sed -i 's/a/b/' app.py") == 2
    assert tier("sed 's/a/b/' app.py") == 1


@pytest.mark.parametrize(
    "prod,dev",
    [
        (
            "kubectl config use-context prod-eu && kubectl delete pod x",
            "kubectl config use-context dev && kubectl delete pod x",
        ),
        (
            "kubectx prod; kubectl scale deploy a --replicas=2",
            "kubectx dev; kubectl scale deploy a --replicas=2",
        ),
        ("pulumi stack select prod && pulumi up", "pulumi stack select dev && pulumi up"),
        ("docker context use prod && docker rm -f x", "docker context use dev && docker rm -f x"),
    ],
)
def test_context_selected_earlier_on_the_line_applies_to_later_commands(prod, dev):
    p, d = v(prod), v(dev)
    assert p.environment == "production" and p.tier == min(4, d.tier + 1), (prod, p.rule_ids, d.rule_ids)
