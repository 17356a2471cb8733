"""ECS account settings: list-account-settings, put-account-setting(-default) and their effect on new clusters."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import ACCOUNT_ID, EcsdTestCase, main  # noqa: E402

ROOT_ARN = f"arn:aws:iam::{ACCOUNT_ID}:root"


def effective(ecs, name):
    resp = ecs.list_account_settings(name=name, effectiveSettings=True)
    values = [s["value"] for s in resp["settings"] if s["name"] == name]
    return values


class AccountSettingsTest(EcsdTestCase):
    def test_list_effective_settings(self):
        resp = self.ecs().list_account_settings(effectiveSettings=True)
        self.assertIsInstance(resp["settings"], list)
        self.assertTrue(resp["settings"], "effective settings should list the account's defaults")
        for setting in resp["settings"]:
            self.assertIn("name", setting)
            self.assertIn("value", setting)
        by_name = {s["name"]: s["value"] for s in resp["settings"]}
        self.assertEqual(by_name.get("containerInsights"), "disabled", by_name)
        self.assertEqual(by_name.get("serviceLongArnFormat"), "enabled", by_name)

    def test_put_account_setting(self):
        ecs = self.ecs()
        setting = ecs.put_account_setting(name="containerInsights", value="enabled")["setting"]
        self.assertEqual(setting["name"], "containerInsights")
        self.assertEqual(setting["value"], "enabled")
        self.assertEqual(setting["principalArn"], ROOT_ARN)
        self.assertEqual(effective(ecs, "containerInsights"), ["enabled"])

        # New clusters pick up the account's containerInsights default.
        ecs.create_cluster(clusterName="after-setting")
        cluster = ecs.describe_clusters(clusters=["after-setting"], include=["SETTINGS"])["clusters"][0]
        self.assertEqual({s["name"]: s["value"] for s in cluster["settings"]}.get("containerInsights"), "enabled")

    def test_put_account_setting_with_cli(self):
        doc = self.aws_ok("ecs", "put-account-setting", "--name", "containerInsights", "--value", "enabled")
        self.assertEqual(doc["setting"]["value"], "enabled")
        doc = self.aws_ok("ecs", "list-account-settings", "--name", "containerInsights", "--effective-settings")
        self.assertEqual([s["value"] for s in doc["settings"]], ["enabled"])

    def test_put_account_setting_default(self):
        ecs = self.ecs()
        setting = ecs.put_account_setting_default(name="awsvpcTrunking", value="enabled")["setting"]
        self.assertEqual(setting["name"], "awsvpcTrunking")
        self.assertEqual(setting["value"], "enabled")
        self.assertEqual(effective(ecs, "awsvpcTrunking"), ["enabled"])

    def test_settings_are_per_region(self):
        east, west = self.ecs("us-east-1"), self.ecs("eu-west-1")
        east.put_account_setting(name="containerInsights", value="enabled")
        self.assertEqual(effective(east, "containerInsights"), ["enabled"])
        self.assertEqual(effective(west, "containerInsights"), ["disabled"])

    def test_invalid_setting_name(self):
        from botocore.exceptions import ClientError

        with self.assertRaises(ClientError) as ctx:
            self.ecs().put_account_setting(name="noSuchSetting", value="enabled")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertIn(
            ctx.exception.response["Error"]["Code"],
            ("InvalidParameterException", "ClientException", "ValidationException", "SerializationException"),
        )


if __name__ == "__main__":
    main()
