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

    def test_unknown_action_is_xml_error(self):
        resp = self.raw(
            "POST", "/", "Action=NoSuchAction&Version=2011-06-15",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            sign_service="sts",
        )
        self.assertEqual(resp.status, 400, resp)
        self.assertTrue(resp.headers.get("x-amzn-requestid"), resp)
        root = resp.xml()
        self.assertEqual(root.tag.rsplit("}", 1)[-1], "ErrorResponse", resp)
        ns = lambda el, name: next((c for c in el if c.tag.rsplit("}", 1)[-1] == name), None)  # noqa: E731
        err = ns(root, "Error")
        self.assertIsNotNone(err, resp)
        self.assertEqual(ns(err, "Type").text, "Sender")
        self.assertTrue(ns(err, "Code").text)
        self.assertIsNotNone(ns(err, "Message"))
        self.assertTrue(ns(root, "RequestId").text)


if __name__ == "__main__":
    main()
