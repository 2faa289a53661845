"""Deploys a generated project's template.yaml to a stand-in AWS (moto in
server mode, at AWS_ENDPOINT_URL) as `sam deploy` would, and prints what the
stack holds.

usage: moto_deploy.py PROJECT_ROOT STACK_NAME STAGE [--state-only]

Like `sam deploy`: uploads each function's zip (target/NAME.zip, built
already) to an S3 bucket and points the function at it, turns the SAM
template into CloudFormation with aws-sam-translator (moto does not run the
transform), then creates the stack or updates it. Prints one JSON object: the
stack's status, its functions (handler, runtime, architectures, environment
variables, code hash), their event source mappings and the outputs. With
--state-only, deploys nothing and prints the same.
"""

import json
import os
import sys

import boto3
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from sam_translate import ManagedPolicies, packaged

BUCKET = "deploy-bucket"


def deploy(root, stack, stage):
    s3 = boto3.client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    with open(os.path.join(root, "template.yaml"), encoding="utf-8") as f:
        template = yaml_parse(f.read())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            code = resource["Properties"]["CodeUri"]
            s3.upload_file(os.path.join(root, code), BUCKET, os.path.basename(code))
    body = json.dumps(transform(packaged(template), {}, ManagedPolicies()))
    cloudformation = boto3.client("cloudformation")
    request = {
        "StackName": stack,
        "TemplateBody": body,
        "Parameters": [{"ParameterKey": "Stage", "ParameterValue": stage}],
        "Capabilities": ["CAPABILITY_IAM"],
    }
    existing = [
        s["StackName"]
        for s in cloudformation.list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    ]
    if stack in existing:
        cloudformation.update_stack(**request)
    else:
        cloudformation.create_stack(**request)
    return cloudformation.describe_stacks(StackName=stack)["Stacks"][0]


def state(stack, description):
    cloudformation = boto3.client("cloudformation")
    lambdas = boto3.client("lambda")
    resources = cloudformation.describe_stack_resources(StackName=stack)[
        "StackResources"
    ]
    functions = {}
    for resource in resources:
        if resource["ResourceType"] != "AWS::Lambda::Function":
            continue
        config = lambdas.get_function(FunctionName=resource["PhysicalResourceId"])[
            "Configuration"
        ]
        functions[resource["LogicalResourceId"]] = {
            "name": config["FunctionName"],
            "handler": config["Handler"],
            "runtime": config["Runtime"],
            "architectures": config.get("Architectures", []),
            "environment": config.get("Environment", {}).get("Variables", {}),
            "code_sha256": config["CodeSha256"],
        }
    names = {f["name"]: logical for logical, f in functions.items()}
    mappings = [
        {
            "function": names.get(
                m["FunctionArn"].rsplit(":", 1)[-1], m["FunctionArn"]
            ),
            "source": m["EventSourceArn"],
            "response_types": m.get("FunctionResponseTypes", []),
            "retries": m.get("MaximumRetryAttempts"),
            "on_failure": m.get("DestinationConfig", {})
            .get("OnFailure", {})
            .get("Destination"),
        }
        for m in lambdas.list_event_source_mappings()["EventSourceMappings"]
        if m["FunctionArn"].rsplit(":", 1)[-1] in names
    ]
    return {
        "status": description["StackStatus"],
        "functions": functions,
        "mappings": mappings,
        "outputs": {
            o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])
        },
    }


def main(root, stack, stage, *options):
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if "--state-only" in options:
        description = boto3.client("cloudformation").describe_stacks(StackName=stack)
        description = description["Stacks"][0]
    else:
        description = deploy(root, stack, stage)
    print(json.dumps(state(stack, description), sort_keys=True))


if __name__ == "__main__":
    main(*sys.argv[1:])
