"""Code shared by all Lambdas of {{ project_name }}.

Bundled at the root of every Lambda's zip, so handlers import it the same way
in tests and on Lambda: `from utils import ...`.
"""
