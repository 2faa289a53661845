"""Logging at the function's configured log level, in the format Lambda sets up.

Lambda's Python runtime installs the root logger's handler itself: records come
out as JSON when the function's log format is JSON (`AWS_LAMBDA_LOG_FORMAT`),
and extra fields passed with `extra={...}` become JSON keys. Code that sets the
root logger's level or handlers overrides that configuration, so modules take a
logger of their own from `get_logger` instead, set to the function's application
log level (`AWS_LAMBDA_LOG_LEVEL`; INFO when there is none).
"""

import logging
import os
from collections.abc import Mapping

# Lambda's application log levels and the Python levels they stand for.
LAMBDA_LOG_LEVELS = {
    "TRACE": logging.DEBUG,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
    "FATAL": logging.CRITICAL,
}


def log_level(environ: Mapping[str, str]) -> int:
    """The Python level for the function's `AWS_LAMBDA_LOG_LEVEL`: pure, no IO."""
    configured = environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    return LAMBDA_LOG_LEVELS.get(configured, logging.INFO)


def get_logger(name: str) -> logging.Logger:
    """The logger `name` at the function's log level; the root logger is left alone."""
    logger = logging.getLogger(name)
    logger.setLevel(log_level(os.environ))
    return logger
