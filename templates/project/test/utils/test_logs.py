"""Tests for utils.logs: the function's log level, the root logger left alone."""

import logging
import os
import unittest
from unittest import mock

from utils.logs import get_logger, log_level


class LogLevelTest(unittest.TestCase):
    def test_lambda_level_names_map_to_python_levels(self):
        for lambda_level, python_level in [
            ("TRACE", logging.DEBUG),
            ("DEBUG", logging.DEBUG),
            ("INFO", logging.INFO),
            ("WARN", logging.WARNING),
            ("ERROR", logging.ERROR),
            ("FATAL", logging.CRITICAL),
            ("warn", logging.WARNING),
        ]:
            environ = {"AWS_LAMBDA_LOG_LEVEL": lambda_level}
            self.assertEqual(log_level(environ), python_level, lambda_level)

    def test_info_without_a_configured_level(self):
        self.assertEqual(log_level({}), logging.INFO)
        self.assertEqual(log_level({"AWS_LAMBDA_LOG_LEVEL": "LOUD"}), logging.INFO)


class GetLoggerTest(unittest.TestCase):
    def test_the_logger_takes_the_configured_level_and_the_root_keeps_its_own(self):
        root_level = logging.getLogger().level
        with mock.patch.dict(os.environ, {"AWS_LAMBDA_LOG_LEVEL": "ERROR"}):
            logger = get_logger("test_logs.error_level")
        self.assertEqual(logger.level, logging.ERROR)
        self.assertFalse(logger.isEnabledFor(logging.INFO))
        self.assertEqual(logging.getLogger().level, root_level)

    def test_records_reach_the_handlers_the_runtime_installs_on_the_root(self):
        with mock.patch.dict(os.environ, {"AWS_LAMBDA_LOG_LEVEL": "DEBUG"}):
            logger = get_logger("test_logs.debug_level")
        with self.assertLogs(level="DEBUG") as logs:
            logger.debug("detail", extra={"order_id": "o-1"})
        self.assertEqual(logs.records[0].getMessage(), "detail")
        self.assertEqual(vars(logs.records[0])["order_id"], "o-1")


if __name__ == "__main__":
    unittest.main()
