"""The audit's rule ids: stable names, default severities, what they mean and how to fix them."""

from __future__ import annotations

from skill.findings import Rule

RULES: list[Rule] = [
    Rule(
        id="ci.unpinned-action",
        title="Action, reusable workflow, include or docker:// image not pinned to an immutable ref",
        severity="high",
        description="A tag or branch can be moved to malicious code after review; only a full 40-character "
        "commit SHA (or an image digest) is immutable. Actions owned by GitHub (actions/*, github/*) are "
        "reported at medium.",
        fix="Pin to the full commit SHA and keep the version in a comment: uses: owner/repo@<40-hex-sha> # v1.2.3",
    ),
    Rule(
        id="ci.excessive-permissions",
        title="GITHUB_TOKEN permissions broader than needed",
        severity="medium",
        description="No permissions block (the repository default may be write), write-all/read-all, "
        "or a job broadening what the workflow grants.",
        fix="Add `permissions: contents: read` at the top and grant write scopes only to the job that needs them.",
    ),
    Rule(
        id="ci.template-injection",
        title="Attacker-controllable expression expanded into a script",
        severity="high",
        description="${{ }} is substituted into run:/script: text before the shell runs, so a PR title, "
        "branch name, comment or free-text input can inject commands.",
        fix='Pass the value through env: (e.g. env: TITLE: ${{ github.event.pull_request.title }}) and use "$TITLE".',
    ),
    Rule(
        id="ci.secret-exposure",
        title="Secret printed, dumped or traced",
        severity="high",
        description="Secrets echoed, toJSON(secrets), fromJSON(secrets.x) (derived values are not masked), "
        "or secrets on command lines traced by set -x.",
        fix="Never print secrets; pass them as env to the one step that needs them; drop set -x around them.",
    ),
    Rule(
        id="ci.secrets-inherit",
        title="Reusable workflow receives every secret",
        severity="medium",
        description="secrets: inherit hands all repository and organisation secrets to the called workflow.",
        fix="Pass only the secrets the called workflow declares: secrets: { token: ${{ secrets.X }} }.",
    ),
    Rule(
        id="ci.insecure-commands",
        title="ACTIONS_ALLOW_UNSECURE_COMMANDS enabled",
        severity="high",
        description="Re-enables ::set-env and ::add-path, which any log line can trigger.",
        fix="Remove ACTIONS_ALLOW_UNSECURE_COMMANDS and write to $GITHUB_ENV / $GITHUB_PATH.",
    ),
    Rule(
        id="ci.hardcoded-credentials",
        title="Credential written in clear in the pipeline file",
        severity="high",
        description="A container/service registry password, a token-shaped literal, or a secret-named "
        "variable with a literal value.",
        fix="Move the value to a CI secret/masked variable and reference it (${{ secrets.X }} / $X).",
    ),
    Rule(
        id="ci.persist-credentials",
        title="actions/checkout keeps the token in .git/config",
        severity="medium",
        description="Later steps (and uploaded artifacts containing .git) can read the persisted token. "
        "Medium when the job uploads artifacts, low otherwise.",
        fix="with: persist-credentials: false",
    ),
    Rule(
        id="ci.cache-poisoning",
        title="Cache restored in a release or publishing workflow",
        severity="high",
        description="A cache written by a less trusted run (e.g. a PR) can poison the artifact you publish.",
        fix="Do not restore caches in release/publish workflows (drop actions/cache and setup-* cache: inputs there).",
    ),
    Rule(
        id="ci.deprecated-commands",
        title="Deprecated workflow command",
        severity="medium",
        description="::set-output, ::save-state, ::set-env and ::add-path are deprecated or disabled.",
        fix='echo "name=value" >> "$GITHUB_OUTPUT" (or $GITHUB_STATE, $GITHUB_ENV, $GITHUB_PATH).',
    ),
    Rule(
        id="ci.invalid-permissions",
        title="Unknown permission scope or level",
        severity="high",
        description="GitHub rejects the workflow when a permissions key or value is not valid.",
        fix="Use the documented scopes (contents, pull-requests, id-token, ...) with read, write or none.",
    ),
    Rule(
        id="ci.needs-cycle",
        title="needs: graph has a cycle or names an unknown job",
        severity="high",
        description="The pipeline cannot be scheduled.",
        fix="Break the cycle / fix the job id in needs:.",
    ),
    Rule(
        id="ci.no-dependency-cache",
        title="Dependencies installed on every run without a cache",
        severity="medium",
        description="Design principle: cache dependencies between runs. Skipped in release workflows.",
        fix="Use the setup action's cache (e.g. actions/setup-python with cache: pip) or actions/cache; "
        "GitLab: cache: with key: files: on the lock file.",
    ),
    Rule(
        id="ci.stage-order",
        title="Expensive stage does not wait for the cheaper ones (fail fast)",
        severity="medium",
        description="Design principle: lint -> unit -> integration -> e2e. Integration and e2e jobs should "
        "need the cheaper jobs; a cheap job must not wait for an expensive one.",
        fix="Add the cheap jobs to the expensive job's needs: (GitLab: order stages lint, test, integration, e2e).",
    ),
    Rule(
        id="ci.no-timeout",
        title="Job without a timeout",
        severity="low",
        description="A hung GitHub job runs for 6 hours by default: a cost and a queue problem, not a risk.",
        fix="timeout-minutes: 15 on each job (GitLab: timeout: 15m, or default: timeout:).",
    ),
    Rule(
        id="ci.no-concurrency",
        title="Superseded runs are not cancelled",
        severity="low",
        description="Without concurrency (GitLab: interruptible), every push keeps old runs going.",
        fix="concurrency: { group: ${{ github.workflow }}-${{ github.ref }}, cancel-in-progress: true } "
        "(GitLab: default: interruptible: true).",
    ),
    Rule(
        id="ci.rebuild-per-env",
        title="Artifact rebuilt for each environment",
        severity="medium",
        description="Design principle: build once, promote the same artifact through dev -> staging -> prod.",
        fix="Build in one job, publish the artifact/image by digest, and have each deploy job reuse it.",
    ),
    Rule(
        id="ci.mutable-image",
        title="Container image without a pinned tag or digest",
        severity="medium",
        description="image: without a tag, or :latest, changes under you between runs.",
        fix="Pin a version tag (python:3.12.7) or, better, a digest (python@sha256:...).",
    ),
    Rule(
        id="ci.dangerous-triggers",
        title="Privileged trigger (pull_request_target, workflow_run, issue_comment) runs untrusted code",
        severity="high",
        description="These triggers run the base repository's workflow with its secrets and a write token on "
        "events outsiders cause. The trigger alone is reported low; checking out or fetching the PR head "
        "(or the triggering run's head) inside it is high: the outsider's code runs with those privileges.",
        fix="Use pull_request for building PR code; keep privileged triggers for labelling/commenting "
        "without checkout, and pass data between the two through artifacts you treat as untrusted.",
    ),
    Rule(
        id="ci.github-env",
        title="Untrusted text written to GITHUB_ENV, GITHUB_PATH or GITHUB_OUTPUT",
        severity="high",
        description="Lines of $GITHUB_ENV become environment variables (BASH_ENV, LD_PRELOAD, NODE_OPTIONS) "
        "and $GITHUB_PATH entries come first on PATH for every later step; a value with a newline "
        "sets more than the one name, so an outsider's text there runs their code. Branch names cannot "
        "hold a newline (medium); titles, bodies and comments can (high).",
        fix="Keep outsiders' text in a step-level env: variable and quote it where it is used; never write "
        "it to $GITHUB_ENV/$GITHUB_PATH.",
    ),
    Rule(
        id="ci.bot-conditions",
        title="Condition trusts the actor's name",
        severity="high",
        description="github.actor is whoever caused the latest event, not the PR author: another user "
        "can make a bot act again (a rebase comment, a push it rebases) so the event runs as the bot. "
        "High in privileged workflows, medium on pull_request, low elsewhere.",
        fix="Check the PR's author instead: github.event.pull_request.user.login == 'dependabot[bot]'.",
    ),
    Rule(
        id="ci.unsound-condition",
        title="if: condition that is always true",
        severity="high",
        description="if: ${{ a }} && ${{ b }}, or a block scalar (if: |) that ends in a newline, is a string "
        "with expressions inside, not one expression; a non-empty string is true, so the job or step "
        "always runs.",
        fix="Write one expression: if: ${{ a && b }} (or without ${{ }}), on one line.",
    ),
    Rule(
        id="ci.obfuscation",
        title="Expression or uses: path written to hide what it reads",
        severity="low",
        description="A constant expression (format('{0}', 'x'), 'a' == 'a'), a context read through "
        "['name'] where .name would do, or a uses: path with '.', '..' or empty parts makes review harder "
        "and hides what a workflow does.",
        fix="Write the value, the plain context path (github.event.pull_request.title) or the plain action name.",
    ),
    Rule(
        id="ci.known-compromised-action",
        title="Action with a published compromise",
        severity="high",
        description="The action is on the bundled, dated list of compromised actions "
        "(skill/nodes/ci/audit/data/advisories.json; tj-actions/changed-files, CVE-2025-30066, is the "
        "reference case). Critical when pinned to the malicious commit, high when older than the fixed "
        "release, medium when it follows a moving tag.",
        fix="Upgrade past the fixed release, pin the reviewed commit SHA, and rotate secrets the affected "
        "runs could read.",
    ),
    Rule(
        id="ci.archived-action",
        title="Archived action",
        severity="medium",
        description="The action's repository is archived: no security fixes will come. From the bundled, "
        "dated list in skill/nodes/ci/audit/data/advisories.json.",
        fix="Move to the maintained replacement the finding names.",
    ),
    Rule(
        id="ci.app-token-scope",
        title="GitHub App token without scoping",
        severity="medium",
        description="actions/create-github-app-token (or tibdex/github-app-token) without permission-* "
        "inputs mints a token with every permission of the App installation; with owner: but no "
        "repositories: it reaches every repository of that installation.",
        fix="Add permission-<scope>: read|write inputs for what the job needs (and repositories:).",
    ),
    Rule(
        id="ci.adhoc-install",
        title="Unpinned tool installed at run time in a privileged job",
        severity="medium",
        description="pip/pipx/uvx/npx/npm -g/go/cargo/gem installs by name without a version, or curl | sh, "
        "in a job that can write to the repository, reads secrets or runs on a privileged trigger: "
        "whatever the registry serves that minute runs with those privileges.",
        fix="Pin the version (pip install tool==1.2.3, go install x@v1.2.3) or install from a locked "
        "requirements file; better, do it in an unprivileged job.",
    ),
    Rule(
        id="ci.parse-error",
        title="Pipeline file cannot be parsed",
        severity="high",
        description="Invalid YAML or not a pipeline definition.",
        fix="Fix the YAML syntax.",
    ),
]

RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}
# Old ids still honoured in suppression comments.
RENAMED = {"ci.pull-request-target": "ci.dangerous-triggers"}
