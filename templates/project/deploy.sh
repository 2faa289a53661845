#!/usr/bin/env bash
# Code-only fast path: uploads the zips ./build.sh built to the functions the
# stack of an environment already has (the first `sam deploy --config-env ENV`
# made them), with `aws lambda update-function-code` and no CloudFormation
# change. A new handler, or any change to template.yaml, needs `sam deploy`.
#   usage: ./deploy.sh --code-only ENV [NAME...]     (every Lambda without NAME)
# A zip over 50 MB goes through S3: set DEPLOY_BUCKET to a bucket in the region.
# With dependencies = "layer" in lambdas.toml the zips hold no dependencies:
# unless every function's layer is target/dependencies.zip as built now, it
# refuses (nothing updated) and says to `sam deploy`, which publishes it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

usage() {
    echo "usage: ./deploy.sh --code-only ENV [NAME...]" >&2
    exit 2
}
[[ "${1:-}" == --code-only && $# -ge 2 ]] || usage
env_name=$2
shift 2

# toml_string FILE TABLE KEY: the string KEY of [TABLE] in FILE (TABLE "":
# the keys before the first table), written `KEY = "value"` or with '...'.
toml_string() {
    awk -v table="$2" -v key="$3" '
        BEGIN { inside = (table == "") }
        /^[[:space:]]*\[/ { inside = ($0 == "[" table "]"); next }
        inside && $0 ~ "^[[:space:]]*" key "[[:space:]]*=" {
            sub(/^[^=]*=[[:space:]]*["\047]/, ""); sub(/["\047].*$/, ""); print; exit
        }
    ' "$1"
}
# The environment's stack and region, from its table in samconfig.toml.
setting() {
    toml_string samconfig.toml "${env_name}.deploy.parameters" "$1"
}
stack=$(setting stack_name)
region=$(setting region)
if [[ -z "$stack" || -z "$region" ]]; then
    echo "error: samconfig.toml has no environment \`${env_name}\` with a stack_name and region" >&2
    echo "hint: use dev, staging or prod, or add a [${env_name}.deploy.parameters] table" >&2
    exit 1
fi

if [[ $# -eq 0 ]]; then
    # An assignment, not a process substitution: a manifest build.sh refuses
    # (it says why) stops this script too.
    listed=$(./build.sh --list)
    mapfile -t names < <(cut -d' ' -f1 <<<"$listed")
else
    names=("$@")
fi

# A function's logical ID in template.yaml: its name in UpperCamelCase + Function.
resource() {
    sed -E 's/_+/_/g; s/(^|_)([a-z0-9])/\U\2/g; s/_//g; s/$/Function/' <<<"$1"
}

updated=()
failed=()
# The Lambdas to update and their functions, "NAME FUNCTION" each.
targets=()
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
    targets+=("${name} ${function}")
done

# refuse MESSAGE HINT: stop before any update.
refuse() {
    echo "error: $1" >&2
    echo "hint: $2; nothing was updated" >&2
    exit 1
}

# Layer mode: each function must run with a layer holding exactly
# target/dependencies.zip (Lambda's CodeSha256: the base64 of its sha256).
layer_zip=target/dependencies.zip
if [[ "$(toml_string lambdas.toml "" dependencies)" == layer && ${#targets[@]} -gt 0 ]]; then
    [[ -f "$layer_zip" ]] || refuse "no \`${layer_zip}\` (lambdas.toml puts the dependencies in a layer)" "run ./build.sh --all first"
    built=$(python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1], "rb").read()).digest()).decode())' "$layer_zip")
    declare -A layer_hashes=()
    stale=()
    for target in "${targets[@]}"; do
        read -r name function <<<"$target"
        current=no
        for arn in $(aws lambda get-function-configuration --region "$region" --function-name "$function" \
            --query 'Layers[].Arn' --output text); do
            # `None`: the function has no layer.
            [[ $arn == None ]] && continue
            if [[ -z "${layer_hashes[$arn]:-}" ]]; then
                layer_hashes[$arn]=$(aws lambda get-layer-version --region "$region" --layer-name "${arn%:*}" \
                    --version-number "${arn##*:}" --query Content.CodeSha256 --output text)
            fi
            [[ "${layer_hashes[$arn]}" == "$built" ]] && current=yes
        done
        [[ $current == yes ]] || stale+=("$name")
    done
    if [[ ${#stale[@]} -gt 0 ]]; then
        printf -v stale_list '%s, ' "${stale[@]}"
        refuse "the functions of ${stale_list%, } in stack \`${stack}\` run without \`${layer_zip}\` as built now (their layer holds other dependencies, or they have none), and their zips hold no dependencies" \
            "deploy with \`sam deploy --config-env ${env_name}\`, which publishes the layer and points every function at it"
    fi
fi

limit=$((50 * 1024 * 1024))
for target in "${targets[@]}"; do
    read -r name function <<<"$target"
    zip="target/${name}.zip"
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
