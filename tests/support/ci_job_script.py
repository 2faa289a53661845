"""Print the shell script of one job of a generated CI file, for the lint tests.

usage: python3 ci_job_script.py CI_FILE JOB

GitHub workflows: the `run` of each of the job's steps, in order. GitLab CI:
the lines of the job's `script`. Needs ruamel.yaml (check-jsonschema's YAML
parser, in the tools' venv).
"""

import sys

from ruamel.yaml import YAML


def job_script(path, job):
    with open(path, encoding="utf-8") as f:
        document = YAML(typ="safe").load(f)
    if "jobs" in document:
        steps = document["jobs"][job]["steps"]
        return "\n".join(step["run"] for step in steps if "run" in step)
    return "\n".join(document[job]["script"])


if __name__ == "__main__":
    print(job_script(*sys.argv[1:]))
