"""Turns generated SAM templates into plain CloudFormation with aws-sam-translator,
the library behind `sam deploy`'s transform, and prints what came out.

usage: sam_translate.py TEMPLATE...

`sam deploy` uploads each local `CodeUri` zip and points the function at it in
S3 before the transform runs; this does the same to the text (no upload), so
the translator sees what CloudFormation would. Prints one JSON object per
template: its functions (handler, runtime, architectures, environment, layers),
layers, event source mappings (and the roles of the functions they invoke),
HTTP API routes, schedule rules and the resources kept when they leave the
template. Exits non-zero, with the
translator's errors, when a template does not translate.
"""

import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class ManagedPolicies:
    """The AWS managed policies SAM may attach, without asking IAM."""

    def load(self):
        arn = "arn:aws:iam::aws:policy/service-role/"
        return {
            "AWSLambdaBasicExecutionRole": arn + "AWSLambdaBasicExecutionRole",
            "AWSLambdaKinesisExecutionRole": arn + "AWSLambdaKinesisExecutionRole",
        }


# The property of each resource type that names a local zip `sam deploy` uploads.
LOCAL_ZIPS = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}


def local_zips(template):
    """The properties of the resources whose zip is a local path, and that path."""
    for resource in template.get("Resources", {}).values():
        key = LOCAL_ZIPS.get(resource.get("Type"))
        properties = resource.get("Properties", {})
        if key and isinstance(properties.get(key), str):
            yield properties, key, properties[key]


def packaged(template, s3_key=os.path.basename):
    """The template as `sam deploy` hands it over: zips in S3, at `s3_key(path)`."""
    for properties, key, path in list(local_zips(template)):
        properties[key] = "s3://deploy-bucket/" + s3_key(path)
    return template


# The AWS managed policies whose reads of streams, queues or table streams are
# on every resource of the account.
WIDE_READS = (
    "AWSLambdaKinesisExecutionRole",
    "AWSLambdaSQSQueueExecutionRole",
    "AWSLambdaDynamoDBExecutionRole",
)


def listed(value):
    """An IAM policy's `Action` or `Resource`, one or a list, as a list."""
    return value if isinstance(value, list) else [value]


def batch_roles(resources, functions, mappings):
    """The role of each function an event source mapping invokes: its
    logical id, the actions on kinesis, sqs or dynamodb it allows on every
    resource (`Resource: "*"`), and the managed policies of WIDE_READS it
    attaches."""
    roles = {}
    for mapping in mappings:
        function = mapping["FunctionName"]["Ref"]
        role = functions[function]["Role"]["Fn::GetAtt"][0]
        properties = resources[role]["Properties"]
        statements = [
            statement
            for policy in properties.get("Policies", [])
            for statement in policy["PolicyDocument"]["Statement"]
        ]
        roles[function] = {
            "role": role,
            "wide_actions": sorted(
                action
                for statement in statements
                if "*" in listed(statement["Resource"])
                for action in listed(statement["Action"])
                if action.split(":")[0] in ("kinesis", "sqs", "dynamodb")
            ),
            "wide_managed_policies": [
                name
                for name in WIDE_READS
                if name in json.dumps(properties.get("ManagedPolicyArns", []))
            ],
        }
    return roles


def summary(cloudformation):
    resources = cloudformation["Resources"]
    of_type = lambda t: {
        k: r.get("Properties", {}) for k, r in resources.items() if r["Type"] == t
    }
    return {
        "functions": {
            name: {
                "handler": p["Handler"],
                "runtime": p["Runtime"],
                "architectures": p["Architectures"],
                "code": p["Code"],
                "environment": sorted(p.get("Environment", {}).get("Variables", {})),
                "layers": p.get("Layers", []),
            }
            for name, p in of_type("AWS::Lambda::Function").items()
        },
        "layers": {
            name: {
                "name": p["LayerName"],
                "content": p["Content"],
                "runtimes": p.get("CompatibleRuntimes", []),
                "architectures": p.get("CompatibleArchitectures", []),
            }
            for name, p in of_type("AWS::Lambda::LayerVersion").items()
        },
        "mappings": [
            {
                "function": p["FunctionName"]["Ref"],
                "response_types": p.get("FunctionResponseTypes", []),
                "retries": p.get("MaximumRetryAttempts"),
                "on_failure": "OnFailure" in p.get("DestinationConfig", {}),
            }
            for p in of_type("AWS::Lambda::EventSourceMapping").values()
        ],
        "routes": sorted(
            p["RouteKey"] for p in of_type("AWS::ApiGatewayV2::Route").values()
        )
        + sorted(
            f"{method.upper()} {path}"
            for api in ("AWS::ApiGatewayV2::Api", "AWS::ApiGateway::RestApi")
            for p in of_type(api).values()
            for path, methods in p.get("Body", {}).get("paths", {}).items()
            for method in methods
        ),
        "rules": len(of_type("AWS::Events::Rule")),
        # rules matching events (EventPattern) rather than a schedule
        "event_patterns": sum(
            "EventPattern" in p for p in of_type("AWS::Events::Rule").values()
        ),
        # SQS queues that send what keeps failing to a dead-letter queue
        "redriven_queues": sum(
            "RedrivePolicy" in p for p in of_type("AWS::SQS::Queue").values()
        ),
        # asynchronous invocations' configs sending what still fails to a destination
        "async_on_failure": sum(
            "OnFailure" in p.get("DestinationConfig", {})
            for p in of_type("AWS::Lambda::EventInvokeConfig").values()
        ),
        "subscriptions": len(of_type("AWS::SNS::Subscription")),
        "urls": len(of_type("AWS::Lambda::Url")),
        "bucket_notifications": sum(
            "NotificationConfiguration" in p
            for p in of_type("AWS::S3::Bucket").values()
        ),
        "log_groups": len(of_type("AWS::Logs::LogGroup")),
        # the types of the resources kept when they leave the template
        "retained": sorted(
            r["Type"]
            for r in resources.values()
            if r.get("DeletionPolicy") == r.get("UpdateReplacePolicy") == "Retain"
        ),
        "batch_roles": batch_roles(
            resources,
            of_type("AWS::Lambda::Function"),
            of_type("AWS::Lambda::EventSourceMapping").values(),
        ),
        "resources": len(resources),
    }


def main(paths):
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for path in paths:
        with open(path, encoding="utf-8") as f:
            template = packaged(yaml_parse(f.read()))
        cloudformation = transform(template, {}, ManagedPolicies())
        print(json.dumps({"template": path, **summary(cloudformation)}, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
