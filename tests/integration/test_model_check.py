"""Self-test of the harness's raw-response model check (no daemon): it must catch what it claims to catch."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import botocore.session  # noqa: E402
from botocore.awsrequest import AWSResponse  # noqa: E402

from ecsd_harness import ModelViolation, check_raw_response, clear_violations, make_client  # noqa: E402

JSON_HEADERS = {"x-amzn-RequestId": "rid-1", "Content-Type": "application/x-amz-json-1.1"}
XML_HEADERS = {"x-amzn-RequestId": "rid-1", "Content-Type": "text/xml"}

GOOD_CLUSTER = {
    "clusterArn": "arn:aws:ecs:us-east-1:000000000000:cluster/a",
    "clusterName": "a",
    "status": "ACTIVE",
    "registeredContainerInstancesCount": 0,
    "settings": [{"name": "containerInsights", "value": "disabled"}],
    "tags": [],
}


class _RawStream:
    """Minimal urllib3-like raw stream for botocore's AWSResponse."""

    def __init__(self, data):
        self._data = data

    def stream(self, *args, **kwargs):
        yield self._data


class ModelCheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        session = botocore.session.get_session()
        cls.ecs = session.get_service_model("ecs")
        cls.sts = session.get_service_model("sts")

    def problems(self, service, op, status, body, headers=JSON_HEADERS):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        return check_raw_response(service.operation_model(op), {"status_code": status, "headers": headers,
                                                                "body": body})

    def test_good_json_passes(self):
        self.assertEqual(self.problems(self.ecs, "CreateCluster", 200, {"cluster": GOOD_CLUSTER}), [])

    def test_misspelled_member(self):
        bad = dict(GOOD_CLUSTER, clustername="a")
        problems = self.problems(self.ecs, "CreateCluster", 200, {"cluster": bad})
        self.assertTrue(any("clustername" in p and "not a member" in p for p in problems), problems)

    def test_nested_misspelled_member(self):
        bad = dict(GOOD_CLUSTER, settings=[{"name": "containerInsights", "Value": "disabled"}])
        problems = self.problems(self.ecs, "CreateCluster", 200, {"cluster": bad})
        self.assertTrue(any("Value" in p for p in problems), problems)

    def test_wrong_types(self):
        for member, value in (("registeredContainerInstancesCount", "0"), ("clusterName", 5),
                              ("tags", {}), ("registeredContainerInstancesCount", True),
                              ("registeredContainerInstancesCount", None)):
            with self.subTest(member=member, value=value):
                problems = self.problems(self.ecs, "CreateCluster", 200, {"cluster": dict(GOOD_CLUSTER, **{member: value})})
                self.assertTrue(problems, f"{member}={value!r} not caught")

    def test_timestamp_must_be_number(self):
        td = {"taskDefinitionArn": "arn", "registeredAt": "2024-01-01T00:00:00Z"}
        problems = self.problems(self.ecs, "DescribeTaskDefinition", 200, {"taskDefinition": td})
        self.assertTrue(any("registeredAt" in p for p in problems), problems)
        td["registeredAt"] = 1700000000.123
        self.assertEqual(self.problems(self.ecs, "DescribeTaskDefinition", 200, {"taskDefinition": td}), [])

    def test_enum_values(self):
        td = {"taskDefinitionArn": "arn", "networkMode": "bridged"}
        problems = self.problems(self.ecs, "DescribeTaskDefinition", 200, {"taskDefinition": td})
        self.assertTrue(any("networkMode" in p and "enum" in p for p in problems), problems)

    def test_map_values(self):
        td = {"containerDefinitions": [{"dockerLabels": {"a": 1}}]}
        problems = self.problems(self.ecs, "DescribeTaskDefinition", 200, {"taskDefinition": td})
        self.assertTrue(problems)

    def test_missing_request_id(self):
        problems = self.problems(self.ecs, "ListClusters", 200, {"clusterArns": []},
                                 headers={"Content-Type": "application/x-amz-json-1.1"})
        self.assertTrue(any("x-amzn-RequestId" in p for p in problems), problems)

    def test_duplicate_json_keys(self):
        problems = self.problems(self.ecs, "ListClusters", 200, '{"clusterArns": [], "clusterArns": []}')
        self.assertTrue(problems)

    def test_json_errors(self):
        good = {"__type": "ClusterNotFoundException", "message": "Cluster not found."}
        self.assertEqual(self.problems(self.ecs, "DeleteCluster", 400, good), [])
        prefixed = {"__type": "com.amazonaws.ecs#ClusterNotFoundException", "message": "Cluster not found."}
        self.assertEqual(self.problems(self.ecs, "DeleteCluster", 400, prefixed), [])
        self.assertTrue(self.problems(self.ecs, "DeleteCluster", 400, {"message": "no type"}))
        self.assertTrue(self.problems(self.ecs, "DeleteCluster", 400, {"__type": "ClusterNotFoundException"}))
        self.assertTrue(self.problems(self.ecs, "DeleteCluster", 400, {"__type": "ClusterMissing", "message": "x"}))
        self.assertTrue(self.problems(self.ecs, "DeleteCluster", 500, {"__type": "ServerException", "message": "x"}))
        self.assertTrue(self.problems(self.ecs, "DeleteCluster", 400, "<html>oops</html>"))

    def test_query_success_and_errors(self):
        ok = ("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
              "<GetCallerIdentityResult><Arn>arn:aws:iam::000000000000:root</Arn><UserId>000000000000</UserId>"
              "<Account>000000000000</Account></GetCallerIdentityResult>"
              "<ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>")
        self.assertEqual(self.problems(self.sts, "GetCallerIdentity", 200, ok, XML_HEADERS), [])
        misspelled = ok.replace("<Account>000000000000</Account>", "<AccountId>000000000000</AccountId>")
        problems = self.problems(self.sts, "GetCallerIdentity", 200, misspelled, XML_HEADERS)
        self.assertTrue(any("AccountId" in p for p in problems), problems)
        no_meta = ok.replace("<ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata>", "")
        self.assertTrue(self.problems(self.sts, "GetCallerIdentity", 200, no_meta, XML_HEADERS))

        err = ("<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>m</Message></Error>"
               "<RequestId>rid-1</RequestId></ErrorResponse>")
        self.assertEqual(self.problems(self.sts, "GetCallerIdentity", 400, err, XML_HEADERS), [])
        self.assertTrue(self.problems(self.sts, "GetCallerIdentity", 400, err.replace("Sender", "Client"), XML_HEADERS))
        self.assertTrue(self.problems(self.sts, "GetCallerIdentity", 400,
                                      err.replace("<RequestId>rid-1</RequestId>", ""), XML_HEADERS))

    def test_hook_is_wired_into_clients(self):
        """A client from make_client raises ModelViolation on a bad raw response."""
        client = make_client("http://127.0.0.1:9", "ecs")
        body = json.dumps({"clusterArns": [], "nextTokn": "x"}).encode()

        def fake_send(request, **kwargs):
            return AWSResponse(request.url, 200, JSON_HEADERS, _RawStream(body))

        client.meta.events.register("before-send.ecs.ListClusters", fake_send)
        with self.assertRaises(ModelViolation) as ctx:
            client.list_clusters()
        self.assertIn("nextTokn", str(ctx.exception))
        clear_violations()


if __name__ == "__main__":
    unittest.main(verbosity=2)
