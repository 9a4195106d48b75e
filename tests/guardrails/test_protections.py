"""Switching protections off (issue 12 section 2): T3, T4 in production; look-alikes stay allowed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from skill.guardrails.classify import classify_command

REPO = Path(__file__).resolve().parents[2]

OFF = [
    # SELinux / AppArmor / audit
    ("setenforce 0", "protect.selinux-off"),
    ("sudo setenforce Permissive", "protect.selinux-off"),
    ("sed -i 's/SELINUX=enforcing/SELINUX=disabled/' /etc/selinux/config", "protect.selinux-off"),
    ("aa-teardown", "protect.apparmor-off"),
    ("sudo aa-disable /etc/apparmor.d/usr.sbin.nginx", "protect.apparmor-off"),
    ("aa-complain /etc/apparmor.d/*", "protect.apparmor-off"),
    ("apparmor_parser -R /etc/apparmor.d/usr.bin.man", "protect.apparmor-off"),
    ("auditctl -D", "protect.audit-off"),
    ("auditctl -e 0", "protect.audit-off"),
    ("firewall-cmd --set-default-zone=trusted", "protect.firewall-off"),
    ("firewall-cmd --zone=trusted --add-source=0.0.0.0/0", "protect.firewall-off"),
    # firewalls keep their own rules
    ("ufw disable", "firewall.flush"),
    ("iptables -F", "firewall.flush"),
    ("nft flush ruleset", "firewall.flush"),
    # sshd
    ("sed -i 's/^PermitRootLogin no/PermitRootLogin yes/' /etc/ssh/sshd_config", "protect.sshd-weakened"),
    (
        "sed -i -E 's/^#?PasswordAuthentication\\s+no/PasswordAuthentication yes/' /etc/ssh/sshd_config.d/50-cloud-init.conf",
        "protect.sshd-weakened",
    ),
    (
        "sed -i 's|#PasswordAuthentication no|PasswordAuthentication   yes|' /etc/ssh/sshd_config",
        "protect.sshd-weakened",
    ),
    ("sed -i '$a PermitRootLogin yes' /etc/ssh/sshd_config", "protect.sshd-weakened"),
    ("echo 'PasswordAuthentication yes' >> /etc/ssh/sshd_config", "protect.sshd-weakened"),
    ("echo 'PermitRootLogin yes' | sudo tee -a /etc/ssh/sshd_config", "protect.sshd-weakened"),
    ("cat >> /etc/ssh/sshd_config <<EOF\nPermitEmptyPasswords yes\nEOF", "protect.sshd-weakened"),
    # TLS verification
    ("git config --global http.sslVerify false", "protect.tls-verify-off"),
    ("git config http.https://git.internal.example/.sslverify 0", "protect.tls-verify-off"),
    ("git -c http.sslVerify=false clone https://git.example/r.git", "protect.tls-verify-off"),
    ("npm config set strict-ssl false", "protect.tls-verify-off"),
    ("npm set strict-ssl=false", "protect.tls-verify-off"),
    ("yarn config set strict-ssl false", "protect.tls-verify-off"),
    ("yarn config set enableStrictSsl false", "protect.tls-verify-off"),
    ("pnpm config set strict-ssl false", "protect.tls-verify-off"),
    ("pip config set global.trusted-host pypi.example.com", "protect.tls-verify-off"),
    ("conda config --set ssl_verify false", "protect.tls-verify-off"),
    ("export NODE_TLS_REJECT_UNAUTHORIZED=0", "protect.tls-verify-off"),
    ("NODE_TLS_REJECT_UNAUTHORIZED=0 npm install", "protect.tls-verify-off"),
    ("env NODE_TLS_REJECT_UNAUTHORIZED=0 node app.js", "protect.tls-verify-off"),
    ("PYTHONHTTPSVERIFY=0 python app.py", "protect.tls-verify-off"),
    ("export GIT_SSL_NO_VERIFY=1; git pull", "protect.tls-verify-off"),
    ("kubectl config set-cluster c --insecure-skip-tls-verify=true", "protect.tls-verify-off"),
    # cloud exposure
    (
        "aws ec2 authorize-security-group-ingress --group-id sg-1 --protocol tcp --port 22 --cidr 0.0.0.0/0",
        "protect.open-ingress",
    ),
    (
        "aws ec2 authorize-security-group-ingress --group-id sg-1 --ip-permissions IpProtocol=tcp,FromPort=22,ToPort=22,Ipv6Ranges='[{CidrIpv6=::/0}]'",
        "protect.open-ingress",
    ),
    (
        "gcloud compute firewall-rules create ssh --allow tcp:22 --source-ranges=0.0.0.0/0",
        "protect.open-ingress",
    ),
    (
        "az network nsg rule create -g rg --nsg-name n -n r --priority 100 --source-address-prefixes '*' --destination-port-ranges 22",
        "protect.open-ingress",
    ),
    ("aws s3api put-bucket-acl --bucket b --acl public-read", "protect.public-bucket"),
    ("aws s3 cp index.html s3://site/ --acl public-read", "protect.public-bucket"),
    (
        "aws s3api put-public-access-block --bucket b --public-access-block-configuration BlockPublicAcls=false,IgnorePublicAcls=false,BlockPublicPolicy=false,RestrictPublicBuckets=false",
        "protect.public-bucket",
    ),
    (
        'aws s3api put-bucket-policy --bucket b --policy \'{"Statement":[{"Effect":"Allow","Principal": "*","Action":"s3:GetObject"}]}\'',
        "protect.public-bucket",
    ),
    ("gsutil iam ch allUsers:objectViewer gs://b", "protect.public-bucket"),
    ("gsutil acl set public-read gs://b/x", "protect.public-bucket"),
    (
        "gcloud storage buckets add-iam-policy-binding gs://b --member=allUsers --role=roles/storage.objectViewer",
        "protect.public-bucket",
    ),
    ("az storage container create -n c --public-access blob", "protect.public-bucket"),
    ("az storage account update -n a --allow-blob-public-access true", "protect.public-bucket"),
    ("gcloud run deploy api --image x --allow-unauthenticated", "protect.public-service"),
    ("gcloud functions deploy f --trigger-http --allow-unauthenticated", "protect.public-service"),
    (
        "gcloud run services add-iam-policy-binding api --member=allUsers --role=roles/run.invoker",
        "protect.public-service",
    ),
    ("gh repo edit --visibility public", "forge.repo-visibility"),
    # Kubernetes
    (
        'kubectl patch pv pv-1 -p \'{"spec":{"persistentVolumeReclaimPolicy":"Delete"}}\'',
        "protect.pv-reclaim-delete",
    ),
    (
        'kubectl patch persistentvolume/pv-1 --type merge -p \'{"spec":{"persistentVolumeReclaimPolicy":"Delete"}}\'',
        "protect.pv-reclaim-delete",
    ),
    (
        "kubectl create clusterrolebinding x --clusterrole=cluster-admin --serviceaccount=default:app",
        "protect.cluster-admin",
    ),
    ("kubectl -n app create rolebinding x --clusterrole cluster-admin --user=bob", "protect.cluster-admin"),
    # crontab
    ("crontab /dev/null", "protect.crontab-replace"),
    ("crontab mycron.txt", "protect.crontab-replace"),
    ("crontab -u deploy jobs.cron", "protect.crontab-replace"),
]


@pytest.mark.parametrize(("command", "rule"), OFF)
def test_switching_a_protection_off_asks(command, rule):
    v = classify_command(command)
    assert v.tier == 3 and rule in v.rule_ids, (command, v.tier, v.rule_ids)
    assert not v.deny


@pytest.mark.parametrize(
    "command",
    [
        "kubectl --context prod-eu create clusterrolebinding x --clusterrole=cluster-admin --user=bob",
        "gcloud run deploy api --project acme-prod --allow-unauthenticated",
        "aws --profile production ec2 authorize-security-group-ingress --group-id sg-1 --port 22 --cidr 0.0.0.0/0",
        "aws --region eu-west-1 --profile production s3api put-bucket-acl --bucket web --acl public-read",
        'kubectl --context prod patch pv data-0 -p \'{"spec":{"persistentVolumeReclaimPolicy":"Delete"}}\'',
    ],
)
def test_in_production_it_blocks(command):
    v = classify_command(command)
    assert v.tier == 4 and any(r.startswith("protect.") for r in v.rule_ids), (command, v.tier, v.rule_ids)


@pytest.mark.parametrize(
    "command",
    [
        "setenforce 1",
        "getenforce",
        "sestatus",
        "aa-status",
        "auditctl -l",
        "auditctl -s",
        "auditctl -w /etc/passwd -p wa -k passwd",
        "firewall-cmd --list-all",
        "firewall-cmd --permanent --add-service=https",
        "sed -i 's/PermitRootLogin yes/PermitRootLogin no/' /etc/ssh/sshd_config",
        "sed -i 's/^PasswordAuthentication yes/PasswordAuthentication no/' /etc/ssh/sshd_config",
        "grep PermitRootLogin /etc/ssh/sshd_config",
        "sed -i 's/SELINUX=permissive/SELINUX=enforcing/' /etc/selinux/config",
        "git config --global http.sslVerify true",
        "git config --global http.sslCAInfo /etc/ssl/corp.pem",
        "git config --get http.sslVerify",
        "npm config set registry https://registry.example",
        "npm config set strict-ssl true",
        "yarn config get strict-ssl",
        "pip config set global.index-url https://pypi.example/simple",
        "export NODE_TLS_REJECT_UNAUTHORIZED=1",
        "export GIT_SSL_NO_VERIFY=",
        "aws ec2 authorize-security-group-ingress --group-id sg-1 --protocol tcp --port 5432 --cidr 10.0.0.0/8",
        "aws s3api put-bucket-acl --bucket b --acl private",
        "aws s3 cp index.html s3://site/",
        "gcloud run deploy api --image x --no-allow-unauthenticated",
        "gcloud storage buckets add-iam-policy-binding gs://b --member=user:me@example.com --role=roles/storage.admin",
        "gsutil acl set private gs://b/x",
        "az storage container create -n c --public-access off",
        "gh repo edit --description 'new text'",
        'kubectl patch pv pv-1 -p \'{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}\'',
        'kubectl patch deploy api -p \'{"spec":{"replicas":3}}\'',
        "kubectl create clusterrolebinding x --clusterrole=view --serviceaccount=default:app",
        "crontab -l",
        "crontab -e",
    ],
)
def test_lookalikes_that_keep_or_restore_protection_are_allowed(command):
    v = classify_command(command)
    assert v.tier <= 2, (command, v.tier, v.rule_ids)
    assert not any(
        r.startswith("protect.")
        and r.endswith(
            ("-off", "-weakened", "-ingress", "-bucket", "-service", "-admin", "-delete", "-replace")
        )
        for r in v.rule_ids
    )


def test_every_protect_rule_id_is_documented():
    source = (REPO / "skill/guardrails/commands/protections.py").read_text()
    ids = set(re.findall(r'"(protect\.[a-z-]+)"', source))
    assert len(ids) >= 10
    docs = (REPO / "docs/guardrails-rules.md").read_text()
    missing = sorted(r for r in ids if f"`{r}`" not in docs)
    assert not missing, f"undocumented rule ids: {missing}"
