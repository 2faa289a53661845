"""Read a generated CI file, for the tests.

usage: python3 ci_job_script.py CI_FILE JOB   prints the shell script of JOB
       python3 ci_job_script.py CI_FILE       prints the file as JSON

GitHub workflows: a job's script is the `run` of each of its steps, in order.
GitLab CI: the lines of the job's `script`; a job's `extends` is resolved as
GitLab does (hashes merged key by key, other values replaced), also in the
JSON. Needs ruamel.yaml (check-jsonschema's YAML parser, in the tools' venv).
"""

import json
import sys

from ruamel.yaml import YAML


def load(path):
    with open(path, encoding="utf-8") as f:
        document = YAML(typ="safe").load(f)
    if "jobs" not in document:
        document = {
            name: resolved(document, name) if isinstance(value, dict) else value
            for name, value in document.items()
        }
    return document


def resolved(document, name):
    job = document[name]
    parents = job.get("extends", [])
    merged = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        merged = merge(merged, resolved(document, parent))
    return merge(merged, {k: v for k, v in job.items() if k != "extends"})


def merge(base, override):
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def job_script(document, job):
    if "jobs" in document:
        steps = document["jobs"][job]["steps"]
        return "\n".join(step["run"] for step in steps if "run" in step)
    return "\n".join(document[job]["script"])


if __name__ == "__main__":
    document = load(sys.argv[1])
    if len(sys.argv) > 2:
        print(job_script(document, sys.argv[2]))
    else:
        print(json.dumps(document))
