"""Deploys a generated project's template.yaml to a stand-in AWS (moto in
server mode, at AWS_ENDPOINT_URL) as `sam deploy` would, and prints what the
stack holds.

usage: moto_deploy.py PROJECT_ROOT STACK_NAME STAGE [--state-only]

Like `sam deploy`: uploads each function's zip (target/NAME.zip, built
already) and the layer's (target/dependencies.zip, in layer mode) to an S3
bucket, keyed by their MD5, and points the function or layer at it, turns the SAM
template into CloudFormation with aws-sam-translator (moto does not run the
transform), then creates the stack or updates it (and gives the functions
their layers and the configs of their asynchronous invocations, which moto's
CloudFormation cannot). Prints one JSON object: the stack's status, its
functions (handler, runtime, architectures, environment variables, code hash,
layers, the on-failure destination of asynchronous invocations, the stack's
role they run as and the names of its policies, inline and attached), the layers' versions (newest first, with their
code hash and runtimes), the functions' event source mappings and the outputs. With
--state-only, deploys nothing and prints the same.
"""

import copy
import hashlib
import json
import os
import sys

import boto3
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from sam_translate import ManagedPolicies, local_zips, packaged

BUCKET = "deploy-bucket"


def deploy(root, stack, stage):
    s3 = boto3.client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    with open(os.path.join(root, "template.yaml"), encoding="utf-8") as f:
        template = yaml_parse(f.read())

    def s3_key(path):
        # As sam deploy names uploads: by the MD5 of their bytes, so that a
        # changed zip is a new object, and a changed layer a new version.
        with open(os.path.join(root, path), "rb") as f:
            return hashlib.md5(f.read()).hexdigest()

    for _, _, path in local_zips(template):
        s3.upload_file(os.path.join(root, path), BUCKET, s3_key(path))
    translated = transform(packaged(template, s3_key), {}, ManagedPolicies())
    body = json.dumps(deployable(translated))
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
    attach_layers(stack, translated)
    attach_event_invoke_configs(stack, translated)
    return cloudformation.describe_stacks(StackName=stack)["Stacks"][0]


def deployable(translated):
    """The template without what moto's CloudFormation cannot deploy: the
    functions' `Layers` (it drops them when it creates a function, and fails
    to update one with them: a `Ref` to a layer version is no ARN there) and
    the configs of asynchronous invocations (it knows no such resource).
    `attach_layers` and `attach_event_invoke_configs` set them instead."""
    body = copy.deepcopy(translated)
    for logical, resource in list(body["Resources"].items()):
        if resource["Type"] == "AWS::Lambda::Function":
            resource["Properties"].pop("Layers", None)
        elif resource["Type"] == "AWS::Lambda::EventInvokeConfig":
            del body["Resources"][logical]
    return body


def physical_ids(stack):
    """The stack's resources: logical id to physical id."""
    cloudformation = boto3.client("cloudformation")
    return {
        r["LogicalResourceId"]: r.get("PhysicalResourceId")
        for r in cloudformation.describe_stack_resources(StackName=stack)[
            "StackResources"
        ]
    }


def attach_event_invoke_configs(stack, translated):
    """Gives each function the config of its asynchronous invocations that
    the template declares, as CloudFormation does (see `deployable`): the
    retries, and the SQS queue that `Fn::GetAtt` names as on-failure
    destination."""
    lambdas = boto3.client("lambda")
    sqs = boto3.client("sqs")
    physical = physical_ids(stack)
    for resource in translated["Resources"].values():
        if resource["Type"] != "AWS::Lambda::EventInvokeConfig":
            continue
        properties = resource["Properties"]
        on_failure = properties["DestinationConfig"]["OnFailure"]
        queue = physical[on_failure["Destination"]["Fn::GetAtt"][0]]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        lambdas.put_function_event_invoke_config(
            FunctionName=physical[properties["FunctionName"]["Ref"]],
            MaximumRetryAttempts=properties["MaximumRetryAttempts"],
            DestinationConfig={
                "OnFailure": {"Destination": arn["Attributes"]["QueueArn"]}
            },
        )


def attach_layers(stack, translated):
    """Gives each function the layers the template lists for it, as
    CloudFormation does (see `without_layers`); moto names a layer
    STACK-LOGICALID-SUFFIX, whatever its `LayerName`."""
    lambdas = boto3.client("lambda")
    physical = physical_ids(stack)
    newest = {
        layer["LayerName"].rsplit("-", 2)[-2]: layer["LatestMatchingVersion"][
            "LayerVersionArn"
        ]
        for layer in lambdas.list_layers()["Layers"]
    }
    for logical, resource in translated["Resources"].items():
        layers = resource.get("Properties", {}).get("Layers")
        if resource["Type"] == "AWS::Lambda::Function" and layers:
            lambdas.update_function_configuration(
                FunctionName=physical[logical],
                Layers=[newest[layer["Ref"]] for layer in layers],
            )


def async_on_failure(lambdas, function):
    """Where `function`'s asynchronous invocations go when they still fail."""
    try:
        config = lambdas.get_function_event_invoke_config(FunctionName=function)
    except lambdas.exceptions.ResourceNotFoundException:
        return None
    return config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")


def state(stack, description):
    cloudformation = boto3.client("cloudformation")
    lambdas = boto3.client("lambda")
    resources = cloudformation.describe_stack_resources(StackName=stack)[
        "StackResources"
    ]
    iam = boto3.client("iam")
    roles = {
        r["PhysicalResourceId"]: r["LogicalResourceId"]
        for r in resources
        if r["ResourceType"] == "AWS::IAM::Role"
    }
    functions = {}
    for resource in resources:
        if resource["ResourceType"] != "AWS::Lambda::Function":
            continue
        config = lambdas.get_function(FunctionName=resource["PhysicalResourceId"])[
            "Configuration"
        ]
        role_name = config["Role"].rsplit("/", 1)[-1]
        functions[resource["LogicalResourceId"]] = {
            "name": config["FunctionName"],
            "handler": config["Handler"],
            "runtime": config["Runtime"],
            "architectures": config.get("Architectures", []),
            "environment": config.get("Environment", {}).get("Variables", {}),
            "code_sha256": config["CodeSha256"],
            "layers": [layer["Arn"] for layer in config.get("Layers", [])],
            "async_on_failure": async_on_failure(lambdas, config["FunctionName"]),
            "role": roles.get(role_name),
            "role_policies": sorted(
                iam.list_role_policies(RoleName=role_name)["PolicyNames"]
                + [
                    p["PolicyName"]
                    for p in iam.list_attached_role_policies(RoleName=role_name)[
                        "AttachedPolicies"
                    ]
                ]
            ),
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
    layers = {
        layer["LayerName"]: [
            {
                "arn": version["LayerVersionArn"],
                "code_sha256": lambdas.get_layer_version(
                    LayerName=layer["LayerName"], VersionNumber=version["Version"]
                )["Content"]["CodeSha256"],
                "runtimes": version.get("CompatibleRuntimes", []),
            }
            for version in lambdas.list_layer_versions(LayerName=layer["LayerName"])[
                "LayerVersions"
            ]
        ]
        for layer in lambdas.list_layers()["Layers"]
    }
    return {
        "status": description["StackStatus"],
        "functions": functions,
        "layers": layers,
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
