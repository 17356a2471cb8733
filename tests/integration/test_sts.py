"""STS GetCallerIdentity over awsQuery, through boto3 and the aws CLI."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import ACCOUNT_ID, EcsdTestCase, main  # noqa: E402


class StsTest(EcsdTestCase):
    def test_get_caller_identity_cli(self):
        doc = self.aws_ok("sts", "get-caller-identity")
        self.assertEqual(doc["Account"], ACCOUNT_ID)
        self.assertEqual(doc["Arn"], f"arn:aws:iam::{ACCOUNT_ID}:root")
        self.assertIsInstance(doc.get("UserId"), str)
        self.assertTrue(doc["UserId"])

    def test_get_caller_identity_boto3(self):
        resp = self.client("sts").get_caller_identity()
        self.assertEqual(resp["Account"], ACCOUNT_ID)
        self.assertEqual(resp["Arn"], f"arn:aws:iam::{ACCOUNT_ID}:root")
        self.assertTrue(resp["UserId"])
        self.assertTrue(resp["ResponseMetadata"]["RequestId"])

    def test_get_caller_identity_other_region(self):
        resp = self.client("sts", region="eu-west-1").get_caller_identity()
        self.assertEqual(resp["Account"], ACCOUNT_ID)


if __name__ == "__main__":
    main()
