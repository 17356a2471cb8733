"""The awslogs log driver with real containers: output lands in CloudWatch Logs streams named as ECS names
them, in order with plausible timestamps; a tail that follows the group (the way `aws logs tail --follow`
polls FilterLogEvents) sees a line printed after it started; an ecsd restart (SIGKILL) neither loses nor
duplicates a line; multi-line entries are joined; a missing group without awslogs-create-group fails the
task as ECS does."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import DockerTestCase, busybox_container, docker, main  # noqa: E402

CLUSTER = "logs"
GROUP = "/ecs/app"


def awslogs(group=GROUP, create=True, **extra):
    opts = {"awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}
    if create:
        opts["awslogs-create-group"] = "true"
    opts.update(extra)
    return {"logDriver": "awslogs", "options": opts}


def follow_group(logs, group, start_ms, stop, seen, poll=0.5):
    """What aws-cli v2's `aws logs tail GROUP --follow` does: FilterLogEvents from a start time with
    interleaved results, following nextToken, then polling again from the newest timestamp seen and
    dropping event ids already printed. (aws-cli v1, installed here, has no `logs tail`.)"""
    ids, start = set(), start_ms
    while not stop.is_set():
        token = None
        while True:
            args = {"logGroupName": group, "startTime": start, "interleaved": True}
            if token:
                args["nextToken"] = token
            page = logs.filter_log_events(**args)
            for e in page["events"]:
                if e["eventId"] not in ids:
                    ids.add(e["eventId"])
                    seen.append(e["message"])
                    start = max(start, e["timestamp"])
            token = page.get("nextToken")
            if not token:
                break
        stop.wait(poll)


class AwslogsTest(DockerTestCase):
    def setUp(self):
        super().setUp()
        self.ecs().create_cluster(clusterName=CLUSTER)

    def logs(self):
        return self.client("logs")

    def start(self, family, command, log_configuration=None, **task_kw):
        self.ecs().register_task_definition(family=family, networkMode="bridge", containerDefinitions=[
            busybox_container("app", command, logConfiguration=log_configuration or awslogs())], **task_kw)
        arn = self.run_task(CLUSTER, family)["taskArn"]
        return arn, arn.rsplit("/", 1)[1]

    def messages(self, stream, group=GROUP):
        events, token = [], None
        for _ in range(1000):
            args = dict(logGroupName=group, logStreamName=stream, startFromHead=True)
            if token:
                args["nextToken"] = token
            page = self.logs().get_log_events(**args)
            events += page["events"]
            if page["nextForwardToken"] == token:
                return events
            token = page["nextForwardToken"]
        self.fail("get-log-events does not end")

    def wait_messages(self, stream, count, group=GROUP, timeout=60):
        return self.wait_for(lambda: (lambda ev: ev if len(ev) >= count else None)(self.messages(stream, group)),
                             timeout=timeout, message=f"{count} events in {stream}")

    def test_lines_reach_get_and_filter_log_events_in_order(self):
        before = int(time.time() * 1000) - 1000
        # The engine stamps each line when it reads stdout or stderr (two pipes), so only a pause orders
        # a stderr line after stdout lines.
        arn, tid = self.start("chatty", 'for i in $(seq 1 60); do echo "line $i"; done; sleep 1; echo "oops" >&2; '
                                        'sleep 600')
        self.wait_task(CLUSTER, arn, last_status="RUNNING")
        stream = f"ecs/app/{tid}"
        events = self.wait_messages(stream, 61)
        after = int(time.time() * 1000) + 1000
        messages = [e["message"] for e in events]
        self.assertEqual([m for m in messages if m.startswith("line")], [f"line {i}" for i in range(1, 61)])
        self.assertEqual(messages[-1], "oops")  # stderr too
        self.assertEqual(len(messages), 61)
        stamps = [e["timestamp"] for e in events]
        self.assertEqual(stamps, sorted(stamps))
        self.assertTrue(before <= stamps[0] and stamps[-1] <= after, (before, stamps[0], stamps[-1], after))
        streams = self.aws_ok("logs", "describe-log-streams", "--log-group-name", GROUP)["logStreams"]
        self.assertEqual([s["logStreamName"] for s in streams], [stream])
        cli = self.aws_ok("logs", "get-log-events", "--log-group-name", GROUP, "--log-stream-name", stream,
                          "--start-from-head", "--limit", "5")
        self.assertEqual([e["message"] for e in cli["events"]], [f"line {i}" for i in range(1, 6)])
        found = self.aws_ok("logs", "filter-log-events", "--log-group-name", GROUP, "--filter-pattern", '"line 5"')
        self.assertEqual([e["message"] for e in found["events"]], ["line 5"] + [f"line {i}" for i in range(50, 60)])
        self.assertEqual({e["logStreamName"] for e in found["events"]}, {stream})

    def test_tail_follow_sees_a_line_printed_after_it_started(self):
        arn, tid = self.start("tailed", 'echo ready; while [ ! -f /tmp/go ]; do sleep 0.1; done; '
                                        'echo "printed after the tail started"; sleep 600')
        task = self.wait_task(CLUSTER, arn, last_status="RUNNING")
        self.wait_messages(f"ecs/app/{tid}", 1)
        seen, stop = [], threading.Event()
        tail = threading.Thread(target=follow_group, args=(self.logs(), GROUP, int(time.time() * 1000) - 600000,
                                                           stop, seen), daemon=True)
        tail.start()
        try:
            self.wait_for(lambda: "ready" in seen, timeout=20, message="the tail prints the first line")
            self.assertNotIn("printed after the tail started", seen)
            docker("exec", self.container_of(task)["runtimeId"], "touch", "/tmp/go")
            self.wait_for(lambda: "printed after the tail started" in seen, timeout=20,
                          message="the tail prints the new line")
        finally:
            stop.set()
            tail.join(10)
        self.assertEqual(seen, ["ready", "printed after the tail started"])

    def test_ecsd_restart_loses_and_duplicates_no_line(self):
        count = 300
        arn, tid = self.start("steady", f'i=0; while [ $i -lt {count} ]; do i=$((i+1)); echo "n $i"; '
                                        f'sleep 0.02; done; sleep 600')
        self.wait_task(CLUSTER, arn, last_status="RUNNING")
        stream = f"ecs/app/{tid}"
        self.wait_messages(stream, 20)
        self.daemon.restart(hard=True)  # SIGKILL while the container keeps printing
        events = self.wait_messages(stream, count, timeout=90)
        time.sleep(1.5)  # anything duplicated would show up by now
        messages = [e["message"] for e in self.messages(stream)]
        self.assertEqual(messages, [f"n {i}" for i in range(1, count + 1)])
        self.assertEqual(len(events), count)

    def test_a_restarted_container_continues_its_stream(self):
        self.ecs().register_task_definition(family="restarts", networkMode="bridge", containerDefinitions=[
            busybox_container("app", "sleep 600", logConfiguration=awslogs()),
            busybox_container("side", 'echo "boot"; sleep 600', essential=False, logConfiguration=awslogs())])
        arn = self.run_task(CLUSTER, "restarts")["taskArn"]
        tid = arn.rsplit("/", 1)[1]
        task = self.wait_task(CLUSTER, arn, last_status="RUNNING")
        stream = f"ecs/side/{tid}"
        self.wait_messages(stream, 1)
        docker("restart", "-t", "1", self.container_of(task, "side")["runtimeId"])
        events = self.wait_messages(stream, 2, timeout=60)
        time.sleep(1)
        self.assertEqual([e["message"] for e in self.messages(stream)], ["boot", "boot"])
        self.assertLess(events[0]["timestamp"], events[1]["timestamp"])
        self.assertEqual(self.messages(f"ecs/app/{tid}"), [])

    def test_multiline_entries_are_joined(self):
        cfg = awslogs(**{"awslogs-datetime-format": "%Y-%m-%d %H:%M:%S"})
        arn, tid = self.start("multi", 'echo "2026-01-01 10:00:00 ERROR boom"; echo "  at frame one"; '
                                       'echo "  at frame two"; echo "2026-01-01 10:00:01 INFO done"; sleep 600', cfg)
        self.wait_task(CLUSTER, arn, last_status="RUNNING")
        events = self.wait_messages(f"ecs/app/{tid}", 2, timeout=30)
        self.assertEqual([e["message"] for e in events],
                         ["2026-01-01 10:00:00 ERROR boom\n  at frame one\n  at frame two",
                          "2026-01-01 10:00:01 INFO done"])

    def test_missing_group_without_create_group_fails_the_task(self):
        arn, _ = self.start("nogroup", "echo hi", awslogs(group="/ecs/does-not-exist", create=False))
        task = self.wait_task(CLUSTER, arn, last_status="STOPPED")
        self.assertEqual(task["stopCode"], "TaskFailedToStart")
        self.assertIn("ResourceNotFoundException: The specified log group does not exist", task["stoppedReason"])
        self.assertEqual(self.logs().describe_log_groups(logGroupNamePrefix="/ecs/does-not-exist")["logGroups"], [])
        # With the group created first, the same definition runs and logs.
        self.logs().create_log_group(logGroupName="/ecs/does-not-exist")
        arn = self.run_task(CLUSTER, "nogroup")["taskArn"]
        tid = arn.rsplit("/", 1)[1]
        self.wait_messages(f"ecs/app/{tid}", 1, group="/ecs/does-not-exist")

    def test_other_log_drivers_pass_through_to_docker(self):
        arn, _ = self.start("jsonfile", "echo plain; sleep 600",
                            {"logDriver": "json-file", "options": {"max-size": "1m"}})
        task = self.wait_task(CLUSTER, arn, last_status="RUNNING")
        cid = self.container_of(task)["runtimeId"]
        import json
        info = json.loads(docker("inspect", cid))[0]
        self.assertEqual(info["HostConfig"]["LogConfig"], {"Type": "json-file", "Config": {"max-size": "1m"}})
        self.assertEqual(self.logs().describe_log_groups()["logGroups"], [])


if __name__ == "__main__":
    main()
