#!/usr/bin/env bash
# Proves infra/template.yaml without an AWS account (issue 5, item 6):
#   1. cfn-lint                  no errors, no warnings
#   2. sam validate --lint       SAM's own transform validation plus cfn-lint
#   3. checkov                   zero failed checks; every skip is justified next to its resource
#   4. sam build                 functions and the arm64 layer, from PyPI wheels, into .aws-sam/build
#   5. pytest tests/infra        the template translated to CloudFormation, security properties asserted
#
# Needs: uv, and the project's synced .venv (`uv sync`). Network: PyPI only (tools and wheels).
# Run from anywhere: bash infra/check.sh
set -euo pipefail

cd "$(dirname "$0")/.."

# The Makefile passes its uv (UV=...), which may live in ~/.local/bin rather than on PATH.
UV="${UV:-$(command -v uv || echo "$HOME/.local/bin/uv")}"
export UV_PYTHON_DOWNLOADS="${UV_PYTHON_DOWNLOADS:-never}"
export UV_PYTHON="${UV_PYTHON:-/root/.pyenv/versions/3.13.0/bin/python3.13}"
export SAM_CLI_TELEMETRY=0
# sam validate --lint was verified to run with no credentials and no region at all (SAM CLI 1.170.0):
# it validates the transform locally and needs no managed-policy lookup for this template (plain
# `sam validate` would call iam:ListPolicies for policy *names*; the template uses ARNs only).
# Dummy values keep any SDK call that might appear in a later version from reaching a real account.
export AWS_ACCESS_KEY_ID=offline-check AWS_SECRET_ACCESS_KEY=offline-check AWS_SESSION_TOKEN=offline-check
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
unset AWS_PROFILE AWS_ENDPOINT_URL

SAM_CLI="aws-sam-cli==1.170.0"
CHECKOV="checkov==3.3.30"
# samtranslator for the template tests; the version aws-sam-cli 1.170.0 uses.
SAM_TRANSLATOR="aws-sam-translator==1.115.0"

# `sam build` (aws-lambda-builders) calls the `python3.13` and `pip` it finds on PATH; uv's .venv
# has no pip, so the interpreter's own bin goes first.
PYTHON_BIN="$(dirname "$UV_PYTHON")"

TEMPLATE=infra/template.yaml
total_start=$SECONDS

step() {
    local name=$1
    shift
    local start=$SECONDS
    echo "==> $name"
    "$@"
    echo "    ok: $name ($((SECONDS - start)) s)"
}

step "cfn-lint" "$UV" run cfn-lint "$TEMPLATE"
step "sam validate --lint" "$UV" tool run --from "$SAM_CLI" sam validate --lint --template "$TEMPLATE"
step "checkov" "$UV" tool run --from "$CHECKOV" checkov --file "$TEMPLATE" --framework cloudformation \
    --skip-download --compact --quiet
step "sam build" env PATH="$PYTHON_BIN:$PATH" "$UV" tool run --from "$SAM_CLI" sam build \
    --template-file "$TEMPLATE" --build-dir .aws-sam/build --cache-dir .aws-sam/cache --cached
echo "    layers unpacked: common $(du -sh --apparent-size .aws-sam/build/CommonLayer | cut -f1), crypto $(du -sh --apparent-size .aws-sam/build/CryptoLayer | cut -f1) (Lambda limit: 250 MB with the functions)"
step "template tests" "$UV" run --with "$SAM_TRANSLATOR" pytest tests/infra -q -p no:cacheprovider

echo "infra checks passed in $((SECONDS - total_start)) s"
