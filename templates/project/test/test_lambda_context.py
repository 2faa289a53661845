"""Tests for the test support itself: the fake Lambda context behaves like the real one."""

import time
import unittest

from test.lambda_context import FakeLambdaContext, lambda_environment


class FakeLambdaContextTest(unittest.TestCase):
    def test_carries_the_attributes_of_the_lambda_runtime(self):
        context = FakeLambdaContext("my_function", memory_limit_in_mb=256)
        self.assertEqual(context.function_name, "my_function")
        self.assertEqual(context.function_version, "$LATEST")
        self.assertTrue(context.invoked_function_arn.endswith(":function:my_function"))
        self.assertEqual(context.memory_limit_in_mb, "256")
        self.assertEqual(context.log_group_name, "/aws/lambda/my_function")
        self.assertTrue(context.aws_request_id)
        self.assertIsNone(context.identity.cognito_identity_id)
        self.assertIsNone(context.client_context)

    def test_remaining_time_counts_down_from_the_timeout(self):
        context = FakeLambdaContext("my_function", timeout_seconds=1)
        first = context.get_remaining_time_in_millis()
        time.sleep(0.01)
        self.assertLessEqual(first, 1000)
        self.assertLess(context.get_remaining_time_in_millis(), first)

    def test_lambdas_variables_agree_with_the_context(self):
        env = lambda_environment(
            "my_function", "producers.my_function", "3.13", "/var/task"
        )
        context = FakeLambdaContext(
            "my_function", log_stream_name=env["AWS_LAMBDA_LOG_STREAM_NAME"]
        )
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_NAME"], context.function_name)
        self.assertEqual(
            env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], context.memory_limit_in_mb
        )
        self.assertEqual(env["AWS_LAMBDA_LOG_GROUP_NAME"], context.log_group_name)
        self.assertEqual(env["AWS_LAMBDA_LOG_STREAM_NAME"], context.log_stream_name)
        self.assertIn(f":{env['AWS_REGION']}:", context.invoked_function_arn)
        self.assertEqual(env["_HANDLER"], "producers.my_function")


if __name__ == "__main__":
    unittest.main()
