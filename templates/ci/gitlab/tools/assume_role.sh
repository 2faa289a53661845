#!/usr/bin/env bash
# Runs a command with the credentials of an AWS role assumed through GitLab's
# OpenID Connect ID token, so that CI stores no AWS key: .gitlab-ci.yml's
# deploy jobs run `tools/assume_role.sh sam deploy ...`.
#   usage: tools/assume_role.sh COMMAND [ARG...]
# Reads AWS_DEPLOY_ROLE_ARN (the role, a CI/CD variable scoped to the job's
# environment) and AWS_ID_TOKEN (the job's `id_tokens`). COMMAND sees the
# role's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; if
# the role cannot be assumed, it does not run.
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: tools/assume_role.sh COMMAND [ARG...]" >&2
    exit 2
fi
for variable in AWS_DEPLOY_ROLE_ARN AWS_ID_TOKEN; do
    if [[ -z "${!variable:-}" ]]; then
        echo "error: \`${variable}\` is not set" >&2
        echo "hint: set it up as README.md says (\"Deploy from CI\")" >&2
        exit 1
    fi
done

# STS answers in every region; the environment's own region is in
# samconfig.toml, which `sam deploy` reads.
credentials=$(aws sts assume-role-with-web-identity \
    --region "${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}" \
    --role-arn "$AWS_DEPLOY_ROLE_ARN" \
    --role-session-name "gitlab-${CI_PROJECT_ID:-local}-${CI_JOB_ID:-0}" \
    --web-identity-token "$AWS_ID_TOKEN" \
    --duration-seconds 3600 \
    --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' \
    --output text)
read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN <<<"$credentials"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
echo "assumed ${AWS_DEPLOY_ROLE_ARN}" >&2
exec "$@"
