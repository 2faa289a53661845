"""Tests for the test support itself: the fake Lambda context behaves like the real one."""

import time
import unittest

from test.lambda_context import FakeLambdaContext


class FakeLambdaContextTest(unittest.TestCase):
    def test_carries_the_attributes_of_the_lambda_runtime(self):
        context = FakeLambdaContext("my_function", memory_limit_in_mb=256)
        self.assertEqual(context.function_name, "my_function")
        self.assertEqual(context.function_version, "$LATEST")
        self.assertTrue(context.invoked_function_arn.endswith(":function:my_function"))
        self.assertEqual(context.memory_limit_in_mb, "256")
        self.assertEqual(context.log_group_name, "/aws/lambda/my_function")
        self.assertTrue(context.aws_request_id)

    def test_remaining_time_counts_down_from_the_timeout(self):
        context = FakeLambdaContext("my_function", timeout_seconds=1)
        first = context.get_remaining_time_in_millis()
        time.sleep(0.01)
        self.assertLessEqual(first, 1000)
        self.assertLess(context.get_remaining_time_in_millis(), first)


if __name__ == "__main__":
    unittest.main()
