"""Wire-level behaviour with raw HTTP: awsJson1.1 and awsQuery error shapes, limits, request ids, robustness."""

import http.client
import json
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import ECS_TARGET_PREFIX, EcsdTestCase, main, sign_request, xml_child  # noqa: E402


def error_code(resp):
    doc = resp.json()
    return doc["__type"].rsplit("#", 1)[-1].split(":", 1)[0]


class JsonProtocolErrorsTest(EcsdTestCase):
    def assert_json_error(self, resp, status=400, codes=None):
        self.assertEqual(resp.status, status, resp)
        self.assertTrue(resp.headers.get("x-amzn-requestid"), f"no x-amzn-RequestId: {resp!r}")
        self.assertTrue(resp.headers.get("content-type", "").startswith("application/x-amz-json-1.1"), resp)
        doc = resp.json()
        self.assertIsInstance(doc.get("__type"), str, resp)
        self.assertIsInstance(doc.get("message", doc.get("Message")), str, resp)
        if codes is not None:
            self.assertIn(error_code(resp), codes, resp)
        return doc

    def test_success_has_request_id(self):
        resp = self.ecs_raw("ListClusters", {})
        self.assertEqual(resp.status, 200, resp)
        self.assertTrue(resp.headers.get("x-amzn-requestid"), resp)
        self.assertEqual(resp.json(), {"clusterArns": []})

    def test_request_ids_are_unique(self):
        ids = {self.ecs_raw("ListClusters", {}).headers.get("x-amzn-requestid") for _ in range(5)}
        self.assertEqual(len(ids), 5, ids)

    def test_unknown_operation(self):
        resp = self.ecs_raw("NoSuchOperation", {})
        self.assert_json_error(resp, codes=("UnknownOperationException",))

    def test_unknown_target_prefix(self):
        resp = self.raw(
            "POST", "/", "{}", sign_service="ecs",
            headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "NoSuchService_2020.Op"},
        )
        self.assertEqual(resp.status, 400, resp)
        self.assertTrue(resp.headers.get("x-amzn-requestid"), resp)

    def test_malformed_json(self):
        for body in ('{"clusterName": ', "not json at all", '{"clusterName": "a",}'):
            with self.subTest(body=body):
                self.assert_json_error(self.ecs_raw("CreateCluster", body), codes=("SerializationException",))
        self.assertEqual(self.ecs().list_clusters()["clusterArns"], [])

    def test_body_not_an_object(self):
        for body in ("[]", '"string"', "42"):
            with self.subTest(body=body):
                self.assert_json_error(self.ecs_raw("ListClusters", body))

    def test_wrong_member_type(self):
        self.ecs().create_cluster(clusterName="types")
        self.ecs().register_task_definition(
            family="types", containerDefinitions=[{"name": "a", "image": "busybox", "memory": 32}]
        )
        resp = self.ecs_raw(
            "CreateService",
            {"cluster": "types", "serviceName": "s", "taskDefinition": "types", "desiredCount": "x"},
        )
        self.assert_json_error(resp, codes=("SerializationException", "InvalidParameterException"))
        resp = self.ecs_raw("RegisterTaskDefinition", {"family": "types", "containerDefinitions": "nope"})
        self.assert_json_error(resp, codes=("SerializationException", "InvalidParameterException", "ClientException"))
        resp = self.ecs_raw("ListClusters", {"maxResults": True})
        self.assert_json_error(resp, codes=("SerializationException", "InvalidParameterException"))
        # Nothing was created by the rejected calls.
        self.assertEqual(self.ecs().list_services(cluster="types")["serviceArns"], [])

    def test_missing_required_member(self):
        for op, body in (
            ("DescribeTaskDefinition", {}),
            ("CreateService", {"cluster": "x"}),
            ("RegisterTaskDefinition", {"family": "no-containers"}),
            ("TagResource", {"resourceArn": "arn:aws:ecs:us-east-1:000000000000:cluster/x"}),
        ):
            with self.subTest(op=op):
                self.assert_json_error(self.ecs_raw(op, body))

    def test_unsigned_request_defaults_to_us_east_1(self):
        self.ecs("us-east-1").create_cluster(clusterName="unsigned-view")
        self.ecs("eu-west-1").create_cluster(clusterName="west-only")
        resp = self.raw(
            "POST", "/", "{}",
            headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"{ECS_TARGET_PREFIX}.ListClusters"},
        )
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["clusterArns"], ["arn:aws:ecs:us-east-1:000000000000:cluster/unsigned-view"])

    def test_oversized_body_is_refused_cleanly(self):
        size = 48 * 1024 * 1024  # above any sensible API body limit (ecsd: 32 MiB)
        status, raw = self._send_oversized("CreateCluster", size)
        self.assertIsNotNone(status, f"connection dropped without an HTTP response; got {raw[:300]!r}")
        self.assertIn(status, (400, 413), raw[:500])
        self.assertIn(b"x-amzn-requestid", raw.lower(), raw[:500])
        # Request ids stay unique on this early-refusal path too.
        _status2, raw2 = self._send_oversized("CreateCluster", size)
        self.assertNotEqual(self._request_id(raw), self._request_id(raw2), "two refusals share one request id")
        # The daemon is still serving.
        self.assertEqual(self.ecs().list_clusters()["clusterArns"], [])
        self.assertTrue(self.daemon.alive())

    @staticmethod
    def _request_id(raw):
        for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"x-amzn-requestid":
                return value.strip()
        return None

    def test_oversized_headers_are_refused_cleanly(self):
        resp = self.ecs_raw("ListClusters", {}, extra_headers={"X-Padding": "p" * (64 * 1024)})
        self.assertIn(resp.status, (400, 413, 431), resp)
        self.assertTrue(resp.headers.get("x-amzn-requestid"), resp)
        self.assertEqual(self.ecs().list_clusters()["clusterArns"], [])

    def _send_oversized(self, operation, size):
        """Stream a JSON body of `size` bytes; stop sending once the server answers. Returns (status, raw)."""
        prefix = b'{"clusterName": "'
        suffix = b'"}'
        total = size
        fill = total - len(prefix) - len(suffix)
        headers = sign_request(
            "POST", self.endpoint + "/", "ecs",
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": f"{ECS_TARGET_PREFIX}.{operation}",
                "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD",
            },
            body=b"",
        )
        head = ["POST / HTTP/1.1", f"Host: 127.0.0.1:{self.daemon.port}", f"Content-Length: {total}"]
        head += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in ("host", "content-length")]
        request_head = ("\r\n".join(head) + "\r\n\r\n").encode()

        sock = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=30)
        received = b""
        try:
            sock.sendall(request_head + prefix)
            chunk = b"a" * (256 * 1024)
            sent = 0
            deadline = time.monotonic() + 60
            while sent < fill and time.monotonic() < deadline:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break  # the server answered early
                n = min(len(chunk), fill - sent)
                try:
                    sock.sendall(chunk[:n])
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += n
            else:
                try:
                    sock.sendall(suffix)
                except (BrokenPipeError, ConnectionResetError):
                    pass
            sock.settimeout(30)
            while b"\r\n\r\n" not in received:
                try:
                    data = sock.recv(65536)
                except (ConnectionResetError, socket.timeout):
                    break
                if not data:
                    break
                received += data
        finally:
            sock.close()
        if not received.startswith(b"HTTP/1."):
            return None, received
        return int(received.split(b" ", 2)[1]), received

    def test_keep_alive_many_requests_one_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.daemon.port, timeout=30)
        try:
            for i in range(50):
                body = json.dumps({"clusterName": f"ka-{i % 5}"}).encode()
                headers = sign_request(
                    "POST", self.endpoint + "/", "ecs", body=body,
                    headers={"Content-Type": "application/x-amz-json-1.1",
                             "X-Amz-Target": f"{ECS_TARGET_PREFIX}.CreateCluster"},
                )
                conn.request("POST", "/", body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.assertEqual(resp.status, 200, data)
                self.assertTrue(resp.getheader("x-amzn-RequestId"))
        finally:
            conn.close()
        self.assertEqual(len(self.ecs().list_clusters()["clusterArns"]), 5)

    def test_garbage_does_not_kill_the_daemon(self):
        for payload in (b"GARBAGE\r\n\r\n", b"\x00\x01\x02\xff" * 100, b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                        b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"):
            with socket.create_connection(("127.0.0.1", self.daemon.port), timeout=10) as sock:
                try:
                    sock.sendall(payload)
                    sock.shutdown(socket.SHUT_WR)
                    sock.recv(65536)
                except OSError:
                    pass
        self.assertTrue(self.daemon.alive(), self.daemon.log_tail())
        status, doc = self.daemon.health()
        self.assertEqual(status, 200)
        self.assertEqual(self.ecs().list_clusters()["clusterArns"], [])


class QueryProtocolErrorsTest(EcsdTestCase):
    FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

    def assert_xml_error(self, resp, status=400, codes=None):
        self.assertEqual(resp.status, status, resp)
        self.assertTrue(resp.headers.get("x-amzn-requestid"), f"no x-amzn-RequestId: {resp!r}")
        self.assertIn("xml", resp.headers.get("content-type", ""), resp)
        root = resp.xml()
        self.assertEqual(root.tag.rsplit("}", 1)[-1], "ErrorResponse", resp)
        err = xml_child(root, "Error")
        self.assertIsNotNone(err, resp)
        self.assertEqual(xml_child(err, "Type").text, "Sender", resp)
        code = xml_child(err, "Code").text
        self.assertTrue(code, resp)
        self.assertIsNotNone(xml_child(err, "Message"), resp)
        self.assertTrue((xml_child(root, "RequestId").text or "").strip(), resp)
        if codes is not None:
            self.assertIn(code, codes, resp)
        return code

    def test_sts_unknown_action(self):
        resp = self.raw("POST", "/", "Action=NoSuchAction&Version=2011-06-15", headers=self.FORM, sign_service="sts")
        self.assert_xml_error(resp, codes=("InvalidAction",))

    def test_sts_missing_action(self):
        resp = self.raw("POST", "/", "Version=2011-06-15", headers=self.FORM, sign_service="sts")
        self.assert_xml_error(resp)

    def test_sts_success_envelope(self):
        resp = self.raw("POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", headers=self.FORM,
                        sign_service="sts")
        self.assertEqual(resp.status, 200, resp)
        self.assertTrue(resp.headers.get("x-amzn-requestid"), resp)
        root = resp.xml()
        self.assertEqual(root.tag.rsplit("}", 1)[-1], "GetCallerIdentityResponse")
        result = xml_child(root, "GetCallerIdentityResult")
        self.assertEqual(xml_child(result, "Account").text, "000000000000")
        meta = xml_child(root, "ResponseMetadata")
        self.assertEqual(xml_child(meta, "RequestId").text, resp.headers["x-amzn-requestid"])


if __name__ == "__main__":
    main()
