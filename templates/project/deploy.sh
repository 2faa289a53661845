#!/usr/bin/env bash
# Code-only fast path: uploads the zips ./build.sh built to the functions the
# stack of an environment already has (the first `sam deploy --config-env ENV`
# made them), with `aws lambda update-function-code` and no CloudFormation
# change. A new handler, or any change to template.yaml, needs `sam deploy`.
#   usage: ./deploy.sh --code-only ENV [NAME...]     (every Lambda without NAME)
# A zip over 50 MB goes through S3: set DEPLOY_BUCKET to a bucket in the region.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

usage() {
    echo "usage: ./deploy.sh --code-only ENV [NAME...]" >&2
    exit 2
}
[[ "${1:-}" == --code-only && $# -ge 2 ]] || usage
env_name=$2
shift 2

# The environment's stack and region, from its table in samconfig.toml.
setting() {
    awk -v table="[${env_name}.deploy.parameters]" -v key="$1" '
        $0 == table { inside = 1; next }
        /^\[/ { inside = 0 }
        inside && $1 == key { sub(/^[^=]*= *"/, ""); sub(/".*$/, ""); print; exit }
    ' samconfig.toml
}
stack=$(setting stack_name)
region=$(setting region)
if [[ -z "$stack" || -z "$region" ]]; then
    echo "error: samconfig.toml has no environment \`${env_name}\` with a stack_name and region" >&2
    echo "hint: use dev, staging or prod, or add a [${env_name}.deploy.parameters] table" >&2
    exit 1
fi

if [[ $# -eq 0 ]]; then
    mapfile -t names < <(./build.sh --list | cut -d' ' -f1)
else
    names=("$@")
fi

# A function's logical ID in template.yaml: its name in UpperCamelCase + Function.
resource() {
    sed -E 's/_+/_/g; s/(^|_)([a-z0-9])/\U\2/g; s/_//g; s/$/Function/' <<<"$1"
}

limit=$((50 * 1024 * 1024))
updated=()
failed=()
for name in "${names[@]}"; do
    zip="target/${name}.zip"
    if [[ ! -f "$zip" ]]; then
        failed+=("${name} (no ${zip}: run ./build.sh --all first)")
        continue
    fi
    if ! function=$(aws cloudformation describe-stack-resource --region "$region" \
        --stack-name "$stack" --logical-resource-id "$(resource "$name")" \
        --query StackResourceDetail.PhysicalResourceId --output text 2>/dev/null); then
        failed+=("${name} (not in stack ${stack}: deploy it with sam deploy --config-env ${env_name})")
        continue
    fi
    if [[ $(stat -c %s "$zip") -gt $limit ]]; then
        if [[ -z "${DEPLOY_BUCKET:-}" ]]; then
            failed+=("${name} (${zip} is over 50 MB: set DEPLOY_BUCKET to upload it through S3)")
            continue
        fi
        key="${stack}/${name}.zip"
        if aws s3 cp --region "$region" --only-show-errors "$zip" "s3://${DEPLOY_BUCKET}/${key}" &&
            aws lambda update-function-code --region "$region" --function-name "$function" \
                --s3-bucket "$DEPLOY_BUCKET" --s3-key "$key" --output text --query CodeSha256 >/dev/null; then
            updated+=("${name} (${function}, through S3)")
        else
            failed+=("${name} (${function}: the upload failed, see above)")
        fi
    elif aws lambda update-function-code --region "$region" --function-name "$function" \
        --zip-file "fileb://${zip}" --output text --query CodeSha256 >/dev/null; then
        updated+=("${name} (${function})")
    else
        failed+=("${name} (${function}: the upload failed, see above)")
    fi
done

echo "updated ${#updated[@]} of ${#names[@]} in ${stack} (${region}):"
for line in "${updated[@]}"; do echo "  ${line}"; done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "failed:" >&2
    for line in "${failed[@]}"; do echo "  ${line}" >&2; done
    exit 1
fi
