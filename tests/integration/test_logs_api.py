"""CloudWatch Logs API through the aws CLI and boto3: groups, streams, PutLogEvents' rules, GetLogEvents'
tokens, FilterLogEvents patterns and pagination, retention and tags, and the errors clients expect."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import EcsdTestCase, main, paginate  # noqa: E402

GROUP = "/ecs/api-test"


def now_ms():
    return int(time.time() * 1000)


class LogsApiTest(EcsdTestCase):
    def logs(self):
        return self.client("logs")

    def setUp(self):
        super().setUp()
        self.logs().create_log_group(logGroupName=GROUP, tags={"team": "core"})
        self.logs().create_log_stream(logGroupName=GROUP, logStreamName="s1")
        self.logs().create_log_stream(logGroupName=GROUP, logStreamName="s2")

    def put(self, stream, messages, start=None):
        t = start if start is not None else now_ms() - len(messages)
        events = [{"timestamp": t + i, "message": m} for i, m in enumerate(messages)]
        return self.logs().put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=events)

    def test_cli_lifecycle_and_errors(self):
        self.aws_ok("logs", "create-log-group", "--log-group-name", "/cli/group")
        rc, _, err = self.aws("logs", "create-log-group", "--log-group-name", "/cli/group")
        self.assertNotEqual(rc, 0)
        self.assertIn("ResourceAlreadyExistsException", err)
        groups = self.aws_ok("logs", "describe-log-groups", "--log-group-name-prefix", "/cli")["logGroups"]
        self.assertEqual([g["logGroupName"] for g in groups], ["/cli/group"])
        self.assertEqual(groups[0]["arn"], f"arn:aws:logs:us-east-1:000000000000:log-group:/cli/group:*")
        self.aws_ok("logs", "put-retention-policy", "--log-group-name", "/cli/group", "--retention-in-days", "7")
        groups = self.aws_ok("logs", "describe-log-groups", "--log-group-name-prefix", "/cli")["logGroups"]
        self.assertEqual(groups[0]["retentionInDays"], 7)
        rc, _, err = self.aws("logs", "put-retention-policy", "--log-group-name", "/cli/group",
                              "--retention-in-days", "2")
        self.assertIn("InvalidParameterException", err)
        self.aws_ok("logs", "delete-log-group", "--log-group-name", "/cli/group")
        rc, _, err = self.aws("logs", "delete-log-group", "--log-group-name", "/cli/group")
        self.assertIn("ResourceNotFoundException", err)
        rc, _, err = self.aws("logs", "get-log-events", "--log-group-name", GROUP, "--log-stream-name", "nope")
        self.assertIn("ResourceNotFoundException", err)

    def test_put_and_get_with_tokens(self):
        t0 = now_ms() - 100
        out = self.put("s1", [f"m{i}" for i in range(10)], start=t0)
        self.assertIn("nextSequenceToken", out)
        self.assertNotIn("rejectedLogEventsInfo", out)
        got = self.logs().get_log_events(logGroupName=GROUP, logStreamName="s1", startFromHead=True, limit=4)
        self.assertEqual([e["message"] for e in got["events"]], ["m0", "m1", "m2", "m3"])
        self.assertEqual(got["events"][0]["timestamp"], t0)
        self.assertTrue(got["nextForwardToken"].startswith("f/"))
        self.assertTrue(got["nextBackwardToken"].startswith("b/"))
        seen, token = [], None
        for _ in range(10):
            args = dict(logGroupName=GROUP, logStreamName="s1", startFromHead=True, limit=4)
            if token:
                args["nextToken"] = token
            page = self.logs().get_log_events(**args)
            seen += [e["message"] for e in page["events"]]
            if page["nextForwardToken"] == token:
                break  # the same token back: the end of the stream
            token = page["nextForwardToken"]
        self.assertEqual(seen, [f"m{i}" for i in range(10)])
        # Without startFromHead the newest events come back, and the CLI prints them.
        cli = self.aws_ok("logs", "get-log-events", "--log-group-name", GROUP, "--log-stream-name", "s1",
                          "--limit", "3")
        self.assertEqual([e["message"] for e in cli["events"]], ["m7", "m8", "m9"])
        window = self.logs().get_log_events(logGroupName=GROUP, logStreamName="s1", startTime=t0 + 2,
                                            endTime=t0 + 5, startFromHead=True)
        self.assertEqual([e["message"] for e in window["events"]], ["m2", "m3", "m4"])

    def test_put_log_events_rules(self):
        day = 86400000
        out = self.logs().put_log_events(
            logGroupName=GROUP, logStreamName="s1",
            logEvents=[{"timestamp": now_ms() - 15 * day, "message": "old"},
                       {"timestamp": now_ms(), "message": "ok"},
                       {"timestamp": now_ms() + 3 * 3600000, "message": "future"}])
        self.assertEqual(out["rejectedLogEventsInfo"], {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 2})
        self.assertClientError("InvalidParameterException", self.logs().put_log_events, logGroupName=GROUP,
                               logStreamName="s1", logEvents=[{"timestamp": now_ms(), "message": "b"},
                                                              {"timestamp": now_ms() - 10, "message": "a"}])
        self.assertClientError("ResourceNotFoundException", self.logs().put_log_events, logGroupName=GROUP,
                               logStreamName="missing", logEvents=[{"timestamp": now_ms(), "message": "x"}])
        self.assertClientError("InvalidParameterException", self.logs().put_log_events, logGroupName=GROUP,
                               logStreamName="s1", logEvents=[{"timestamp": now_ms(), "message": "x" * 1048576}])

    def test_filter_log_events_patterns_interleaving_and_pagination(self):
        t0 = now_ms() - 1000
        self.logs().put_log_events(logGroupName=GROUP, logStreamName="s1", logEvents=[
            {"timestamp": t0, "message": '{"level":"error","code":500}'},
            {"timestamp": t0 + 2, "message": "ERROR disk full"},
            {"timestamp": t0 + 4, "message": "WARN slow request"}])
        self.logs().put_log_events(logGroupName=GROUP, logStreamName="s2", logEvents=[
            {"timestamp": t0 + 1, "message": '{"level":"info","code":200}'},
            {"timestamp": t0 + 3, "message": "ERROR Exiting now"}])
        every = self.logs().filter_log_events(logGroupName=GROUP)["events"]
        self.assertEqual([(e["logStreamName"], e["timestamp"] - t0) for e in every],
                         [("s1", 0), ("s2", 1), ("s1", 2), ("s2", 3), ("s1", 4)])
        self.assertEqual(len({e["eventId"] for e in every}), 5)

        def messages(pattern, **kw):
            return [e["message"] for e in
                    self.logs().filter_log_events(logGroupName=GROUP, filterPattern=pattern, **kw)["events"]]
        self.assertEqual(messages('{ $.level = "error" }'), ['{"level":"error","code":500}'])
        self.assertEqual(messages("{ $.code >= 200 && $.code < 300 }"), ['{"level":"info","code":200}'])
        self.assertEqual(messages("ERROR -Exiting"), ["ERROR disk full"])
        self.assertEqual(messages("?WARN ?full"), ["ERROR disk full", "WARN slow request"])
        self.assertEqual(messages('"slow request"'), ["WARN slow request"])
        self.assertEqual(messages("ERROR", logStreamNamePrefix="s2"), ["ERROR Exiting now"])
        self.assertEqual(messages("", logStreamNames=["s2"], startTime=t0 + 2), ["ERROR Exiting now"])
        self.assertClientError("InvalidParameterException", self.logs().filter_log_events, logGroupName=GROUP,
                               filterPattern="{ $.level = }")
        items, sizes = paginate(self.logs().filter_log_events, "events", logGroupName=GROUP, limit=2)
        self.assertEqual(len(items), 5)
        self.assertEqual(sizes[:3], [2, 2, 1])
        # The CLI's paginator follows nextToken to the end.
        cli = self.aws_ok("logs", "filter-log-events", "--log-group-name", GROUP, "--filter-pattern", "ERROR",
                          "--page-size", "1")
        self.assertEqual([e["message"] for e in cli["events"]], ["ERROR disk full", "ERROR Exiting now"])

    def test_describe_streams_order_and_pagination(self):
        self.put("s2", ["older"], start=now_ms() - 5000)
        self.put("s1", ["newer"])
        for i in range(3):
            self.logs().create_log_stream(logGroupName=GROUP, logStreamName=f"p/{i}")
        streams = self.logs().describe_log_streams(logGroupName=GROUP, orderBy="LastEventTime",
                                                   descending=True)["logStreams"]
        self.assertEqual([s["logStreamName"] for s in streams[:2]], ["s1", "s2"])
        self.assertIn("lastEventTimestamp", streams[0])
        self.assertTrue(streams[0]["arn"].endswith(f"log-group:{GROUP}:log-stream:s1"))
        items, sizes = paginate(self.logs().describe_log_streams, "logStreams", logGroupName=GROUP,
                                logStreamNamePrefix="p/", limit=2)
        self.assertEqual([s["logStreamName"] for s in items], ["p/0", "p/1", "p/2"])
        self.assertEqual(sizes, [2, 1])
        self.assertClientError("InvalidParameterException", self.logs().describe_log_streams, logGroupName=GROUP,
                               orderBy="LastEventTime", logStreamNamePrefix="p/")
        self.logs().delete_log_stream(logGroupName=GROUP, logStreamName="p/0")
        self.assertClientError("ResourceNotFoundException", self.logs().delete_log_stream, logGroupName=GROUP,
                               logStreamName="p/0")

    def test_describe_groups_pagination_and_tags(self):
        for i in range(5):
            self.logs().create_log_group(logGroupName=f"/page/{i}")
        items, sizes = paginate(self.logs().describe_log_groups, "logGroups", logGroupNamePrefix="/page/", limit=2)
        self.assertEqual([g["logGroupName"] for g in items], [f"/page/{i}" for i in range(5)])
        self.assertEqual(sizes, [2, 2, 1])
        pattern = self.logs().describe_log_groups(logGroupNamePattern="PAGE/3")["logGroups"]
        self.assertEqual([g["logGroupName"] for g in pattern], ["/page/3"])
        arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{GROUP}"
        self.assertEqual(self.logs().list_tags_for_resource(resourceArn=arn)["tags"], {"team": "core"})
        self.logs().tag_resource(resourceArn=arn, tags={"env": "dev"})
        self.logs().untag_resource(resourceArn=arn, tagKeys=["team"])
        self.assertEqual(self.logs().list_tags_for_resource(resourceArn=arn)["tags"], {"env": "dev"})
        self.assertEqual(self.logs().list_tags_log_group(logGroupName=GROUP)["tags"], {"env": "dev"})
        self.assertClientError("ResourceNotFoundException", self.logs().list_tags_for_resource,
                               resourceArn=arn + "-missing")

    def test_retention_expires_old_events(self):
        day = 86400000
        # Two batches: one batch may not span more than 24 hours.
        self.logs().put_log_events(logGroupName=GROUP, logStreamName="s1", logEvents=[
            {"timestamp": now_ms() - 3 * day, "message": "three days old"}])
        self.logs().put_log_events(logGroupName=GROUP, logStreamName="s1", logEvents=[
            {"timestamp": now_ms(), "message": "fresh"}])
        self.assertEqual(len(self.logs().filter_log_events(logGroupName=GROUP)["events"]), 2)
        self.logs().put_retention_policy(logGroupName=GROUP, retentionInDays=1)
        got = self.logs().get_log_events(logGroupName=GROUP, logStreamName="s1", startFromHead=True)["events"]
        self.assertEqual([e["message"] for e in got], ["fresh"])
        self.logs().delete_retention_policy(logGroupName=GROUP)
        self.assertNotIn("retentionInDays", self.logs().describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0])


if __name__ == "__main__":
    main()
