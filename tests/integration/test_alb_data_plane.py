"""The ALB data plane against real HTTP/TCP servers on loopback (ip targets 127.0.0.1:port):
keep-alive and upstream connection reuse, streamed chunked uploads, close-delimited responses,
websocket upgrades, fail-over from a refused connection, least outstanding requests, lb_cookie
stickiness, rules by path and host, weighted forwarding, HTTPS with the self-signed certificate,
and TCP listeners of network load balancers with TCP health checks."""

import hashlib
import http.client
import json
import os
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import EcsdTestCase, free_port, main, wait_until  # noqa: E402


class Upstream:
    """An HTTP/1.1 keep-alive server that says who it is and what it got."""

    def __init__(self, name):
        self.name = name
        self.forwarded_connections = set()  # connections that carried a proxied request
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body, headers=()):
                data = json.dumps(body).encode() if not isinstance(body, bytes) else body
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _note(self):
                if "X-Forwarded-For" in self.headers:
                    outer.forwarded_connections.add(id(self.connection))

            def do_HEAD(self):
                self._note()
                self._reply(200, {"name": outer.name})

            def do_GET(self):
                self._note()
                if self.path == "/upgrade" and self.headers.get("Upgrade") == "echo":
                    self.send_response(101)
                    self.send_header("Upgrade", "echo")
                    self.send_header("Connection", "Upgrade")
                    self.end_headers()
                    self.wfile.flush()
                    self.wfile.write(b"hello from " + outer.name.encode() + b"\n")
                    self.wfile.flush()
                    while True:
                        data = self.connection.recv(65536)
                        if not data:
                            break
                        self.connection.sendall(data)
                    self.close_connection = True
                    return
                if self.path == "/slow":
                    time.sleep(2)
                if self.path.startswith("/sleep/"):
                    time.sleep(float(self.path.rsplit("/", 1)[1]))
                if self.path == "/login":
                    self._reply(200, {"name": outer.name}, [("Set-Cookie", "session=s3cr3t; Path=/")])
                    return
                if self.path == "/closing":
                    # A complete response (Content-Length) after which the target closes, as busybox
                    # httpd answers every request.
                    self._reply(200, {"name": outer.name}, [("Connection", "close")])
                    self.close_connection = True
                    return
                if self.path == "/close-delimited":
                    self.send_response(200)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for i in range(100):
                        self.wfile.write(b"line %d\n" % i)
                    self.close_connection = True
                    return
                self._reply(200, {"name": outer.name, "path": self.path, "headers": dict(self.headers)})

            def do_POST(self):
                self._note()
                digest, count = hashlib.sha256(), 0
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            break
                        left = size
                        while left:
                            piece = self.rfile.read(min(left, 1 << 20))
                            digest.update(piece)
                            count += len(piece)
                            left -= len(piece)
                        self.rfile.readline()
                else:
                    left = int(self.headers.get("Content-Length", "0"))
                    while left:
                        piece = self.rfile.read(min(left, 1 << 20))
                        digest.update(piece)
                        count += len(piece)
                        left -= len(piece)
                self._reply(200, {"name": outer.name, "bytes": count, "sha256": digest.hexdigest(),
                                  "chunked": self.headers.get("Transfer-Encoding", "")})

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class EchoServer:
    """A raw TCP echo server (an NLB target)."""

    def __init__(self):
        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                while True:
                    data = self.request.recv(65536)
                    if not data:
                        break
                    self.request.sendall(data)

        self.port = free_port()
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def recv_until(sock, marker, limit=1 << 20):
    data = b""
    while marker not in data and len(data) < limit:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    return data


class AlbDataPlaneTest(EcsdTestCase):
    DAEMON_ARGS = ("--no-scheduler",)

    def setUp(self):
        super().setUp()
        self.ec2 = self.client("ec2")
        self.elb = self.client("elbv2")
        self.vpc, self.subnets, _ = self.default_network()

    # -- helpers ---------------------------------------------------------------------------------------

    def wait_for(self, predicate, timeout=10.0, message="condition"):
        return wait_until(predicate, timeout=timeout, interval=0.1, message=message)

    def upstream(self, name):
        u = Upstream(name)
        self.addCleanup(u.close)
        return u

    def load_balancer(self, name="web", type_="application"):
        return self.elb.create_load_balancer(Name=name, Subnets=self.subnets, Type=type_)["LoadBalancers"][0]

    def target_group(self, name, targets, protocol="HTTP", interval=5, **kw):
        tg = self.elb.create_target_group(
            Name=name, Protocol=protocol, Port=80, VpcId=self.vpc, TargetType="ip", HealthCheckIntervalSeconds=interval,
            HealthCheckTimeoutSeconds=2 if protocol == "HTTP" else 10 if interval >= 10 else 5,
            HealthyThresholdCount=2, UnhealthyThresholdCount=2, **kw)["TargetGroups"][0]["TargetGroupArn"]
        self.elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": "127.0.0.1", "Port": p} for p in targets])
        return tg

    def listener(self, lb, tg, protocol="HTTP", **kw):
        port = free_port()
        arn = self.elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol=protocol, Port=port,
                                       DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}], **kw
                                       )["Listeners"][0]["ListenerArn"]
        self.wait_for(lambda: json.loads(self.raw("GET", "/_ecsd/listeners").body).get(arn) == port or None,
                      timeout=10, message="listener served")
        return arn, port

    def served_by(self, upstream, group="web"):
        """An ALB with one HTTP listener forwarding to a target group whose one target is `upstream`,
        once that target is healthy. @return the listener's port."""
        tg = self.target_group(group, [upstream.port])
        _, port = self.listener(self.load_balancer(), tg)
        self.wait_healthy(tg, 1)
        return port

    def wait_healthy(self, tg, n):
        def healthy():
            d = self.elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
            return len(d) == n and all(x["TargetHealth"]["State"] == "healthy" for x in d) or None
        self.wait_for(healthy, timeout=30, message=f"{n} healthy targets")

    def get(self, port, path="/", headers=None, host="127.0.0.1"):
        conn = http.client.HTTPConnection(host, port, timeout=10)
        try:
            conn.request("GET", path, headers=headers or {})
            resp = conn.getresponse()
            body = resp.read()
            return resp.status, resp, body
        finally:
            conn.close()

    def name_of(self, port, path="/", headers=None):
        status, _, body = self.get(port, path, headers)
        self.assertEqual(status, 200, body)
        return json.loads(body)["name"]

    def rss_peak_kb(self):
        with open(f"/proc/{self.daemon.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    # -- tests -----------------------------------------------------------------------------------------

    def test_keep_alive_reuse_streamed_uploads_and_close_delimited_responses(self):
        a = self.upstream("a")
        port = self.served_by(a)

        # One client connection, many requests: the listener keeps it open, and reuses its
        # upstream connection instead of opening one per request.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.addCleanup(conn.close)
        conn.request("GET", "/first")
        resp = conn.getresponse()
        first = json.loads(resp.read())
        sock = conn.sock
        self.assertEqual(first["headers"]["X-Forwarded-For"], "127.0.0.1")
        self.assertEqual(first["headers"]["X-Forwarded-Proto"], "http")
        self.assertEqual(first["headers"]["X-Forwarded-Port"], str(port))
        self.assertRegex(first["headers"]["X-Amzn-Trace-Id"], r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$")
        for i in range(30):
            conn.request("GET", f"/n/{i}")
            resp = conn.getresponse()
            self.assertEqual(json.loads(resp.read())["path"], f"/n/{i}")
            self.assertIs(conn.sock, sock, "the client connection stayed open")
        self.assertLessEqual(len(a.forwarded_connections), 2, "upstream connections are reused")

        # HEAD: headers only.
        conn.request("HEAD", "/")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.read(), b"")

        # A 64 MiB chunked upload streams through without being held in memory.
        size, piece = 64 << 20, os.urandom(1 << 20)
        expected = hashlib.sha256(piece * 64).hexdigest()
        before = self.rss_peak_kb()
        conn.request("POST", "/upload", body=(piece for _ in range(size // len(piece))), encode_chunked=True,
                     headers={"Transfer-Encoding": "chunked"})
        resp = conn.getresponse()
        raw = resp.read()
        self.assertEqual(resp.status, 200, raw[:300])
        got = json.loads(raw)
        self.assertEqual((got["bytes"], got["sha256"], got["chunked"]), (size, expected, "chunked"))
        self.assertLess(self.rss_peak_kb() - before, 32 << 10, "ecsd's peak RSS grew by less than 32 MiB")
        # ... and with Content-Length.
        body = os.urandom(3 << 20)
        conn.request("POST", "/upload", body=body)
        resp = conn.getresponse()
        raw = resp.read()
        self.assertEqual(resp.status, 200, raw[:300])
        got = json.loads(raw)
        self.assertEqual((got["bytes"], got["sha256"]), (len(body), hashlib.sha256(body).hexdigest()))

        # A response whose end is the target closing the connection reaches HTTP/1.1 clients
        # chunked, and their connection stays open.
        conn.request("GET", "/close-delimited")
        resp = conn.getresponse()
        self.assertEqual(resp.getheader("Transfer-Encoding"), "chunked")
        self.assertEqual(resp.read(), b"".join(b"line %d\n" % i for i in range(100)))
        conn.request("GET", "/after")
        self.assertEqual(json.loads(conn.getresponse().read())["path"], "/after")

    def test_targets_that_close_each_connection_leave_no_time_wait_on_the_proxy_side(self):
        # The target says "Connection: close": the listener waits for the target to close first
        # instead of closing the finished connection itself, so the TIME_WAIT entry (one per request)
        # stays on the target's side, and a target that closes every connection cannot exhaust the
        # ephemeral ports of the proxy's connect().
        a = self.upstream("a")
        port = self.served_by(a, "closing")

        def time_wait(local_port=None, peer_port=None):
            out = subprocess.run(["ss", "-Htan", "state", "time-wait"], capture_output=True, text=True,
                                 check=True).stdout.split("\n")
            n = 0
            for line in out:
                cols = line.split()
                if len(cols) < 4:
                    continue
                local, peer = cols[-2].rsplit(":", 1)[1], cols[-1].rsplit(":", 1)[1]
                if (local_port is None or local == str(local_port)) and (peer_port is None or peer == str(peer_port)):
                    n += 1
            return n

        before_proxy_side = time_wait(peer_port=a.port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.addCleanup(conn.close)
        for i in range(60):
            conn.request("GET", "/closing")
            resp = conn.getresponse()
            self.assertEqual(json.loads(resp.read())["name"], "a")
            self.assertEqual(resp.getheader("Connection", "keep-alive").lower(), "keep-alive",
                             "the client's connection to the listener stays open")
        # Every one of the 60 upstream connections was closed by the target first ...
        self.wait_for(lambda: time_wait(local_port=a.port) >= 60 or None, timeout=10,
                      message="60 TIME_WAIT entries on the target's side")
        # ... and none by the listener (health checks may add one or two).
        self.assertLessEqual(time_wait(peer_port=a.port) - before_proxy_side, 5)

    def test_a_target_slower_than_the_idle_timeout_gets_504(self):
        # The load balancer's idle timeout bounds the wait for a target's response: past it the client
        # gets ALB's 504 (the data plane checks deadlines once a second, so up to a second late).
        a = self.upstream("a")
        lb = self.load_balancer()
        self.elb.modify_load_balancer_attributes(
            LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "1"}])
        tg = self.target_group("slow", [a.port])
        _, port = self.listener(lb, tg)
        self.wait_healthy(tg, 1)
        self.assertEqual(self.name_of(port, "/sleep/0.2"), "a")  # a response within the timeout passes
        started = time.monotonic()
        status, resp, body = self.get(port, "/sleep/6")
        elapsed = time.monotonic() - started
        self.assertEqual(status, 504, body)
        self.assertIn(b"504 Gateway Time-out", body)
        self.assertEqual(resp.getheader("Server"), "awselb/2.0")
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 4.5, "504 after the 1 s idle timeout, not after the target's 6 s")
        self.assertEqual(self.name_of(port), "a")  # the listener and the target still serve

    def test_malformed_requests_get_400(self):
        a = self.upstream("a")
        lb = self.load_balancer()
        tg = self.target_group("web", [a.port])
        _, port = self.listener(lb, tg)
        for raw in (b"NOT HTTP\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * 70000 + b"\r\n\r\n"):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                try:
                    s.sendall(raw)
                except OSError:
                    pass
                data = recv_until(s, b"\r\n\r\n")
                self.assertTrue(data.startswith(b"HTTP/1.1 400"), data[:100])

    def test_websocket_upgrade_is_spliced(self):
        a = self.upstream("a")
        port = self.served_by(a)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
            head = recv_until(s, b"hello from a\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
            self.assertIn(b"hello from a\n", head)
            for msg in (b"ping", b"x" * 200000):
                s.sendall(msg)
                got = b""
                while len(got) < len(msg):
                    piece = s.recv(65536)
                    self.assertTrue(piece, "connection closed early")
                    got += piece
                self.assertEqual(got, msg)

    def test_a_refused_connection_goes_to_another_target(self):
        a = self.upstream("a")
        dead = free_port()  # nobody listens there
        lb = self.load_balancer()
        # Checks every 30 s: both targets stay "initial" for a while, so ALB fails open to both.
        tg = self.target_group("web", [a.port, dead], interval=30)
        _, port = self.listener(lb, tg)
        names = [self.name_of(port) for _ in range(10)]
        self.assertEqual(names, ["a"] * 10)

    def test_least_outstanding_requests_and_lb_cookie_stickiness(self):
        a, b = self.upstream("a"), self.upstream("b")
        lb = self.load_balancer()
        tg = self.target_group("web", [a.port, b.port])
        self.elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
            {"Key": "load_balancing.algorithm.type", "Value": "least_outstanding_requests"}])
        _, port = self.listener(lb, tg)
        self.wait_healthy(tg, 2)
        time.sleep(0.2)
        slow = {}
        t = threading.Thread(target=lambda: slow.update(name=self.name_of(port, "/slow")))
        t.start()
        time.sleep(0.5)  # the slow request is in flight on one target
        quick = {self.name_of(port) for _ in range(6)}
        t.join()
        self.assertEqual(len(quick), 1, "every quick request avoided the busy target")
        self.assertNotIn(slow["name"], quick)

        self.elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
            {"Key": "stickiness.enabled", "Value": "true"}, {"Key": "stickiness.type", "Value": "lb_cookie"},
            {"Key": "stickiness.lb_cookie.duration_seconds", "Value": "120"}])
        self.wait_for(lambda: any(c.startswith("AWSALB=") for c in self.get(port)[1].headers.get_all("Set-Cookie") or [])
                      or None, timeout=10, message="lb_cookie stickiness applied")
        status, resp, body = self.get(port)
        cookies = resp.headers.get_all("Set-Cookie")
        awsalb = [c for c in cookies if c.startswith("AWSALB=")]
        self.assertEqual(len(awsalb), 1, cookies)
        self.assertIn("Path=/", awsalb[0])
        first = json.loads(body)["name"]
        value = awsalb[0].split(";")[0]
        sticky = {self.name_of(port, headers={"Cookie": value}) for _ in range(8)}
        self.assertEqual(sticky, {first})
        self.assertEqual({self.name_of(port) for _ in range(8)}, {"a", "b"}, "without the cookie: both targets")

        # app_cookie: once the application sets its cookie, AWSALBAPP-0 pins the client to the target.
        self.elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
            {"Key": "stickiness.type", "Value": "app_cookie"},
            {"Key": "stickiness.app_cookie.cookie_name", "Value": "session"}])
        self.wait_for(lambda: not any(c.startswith("AWSALB=") for c in self.get(port)[1].headers.get_all("Set-Cookie") or [])
                      or None, timeout=10, message="app_cookie stickiness applied")
        status, resp, body = self.get(port)
        self.assertEqual(resp.headers.get_all("Set-Cookie"), None, "no cookie until the application sets one")
        status, resp, body = self.get(port, "/login")
        cookies = resp.headers.get_all("Set-Cookie")
        app = [c for c in cookies if c.startswith("AWSALBAPP-0=")]
        self.assertEqual(len(app), 1, cookies)
        self.assertIn("session=s3cr3t; Path=/", cookies)
        first = json.loads(body)["name"]
        value = app[0].split(";")[0]
        sticky = {self.name_of(port, headers={"Cookie": "session=s3cr3t; " + value}) for _ in range(8)}
        self.assertEqual(sticky, {first})

    def test_rules_by_path_and_host_and_weighted_forwarding(self):
        web, api = self.upstream("web"), self.upstream("api")
        lb = self.load_balancer()
        tg_web = self.target_group("web", [web.port])
        tg_api = self.target_group("api", [api.port])
        listener, port = self.listener(lb, tg_web)
        self.elb.create_rule(ListenerArn=listener, Priority=10,
                             Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}],
                             Actions=[{"Type": "forward", "TargetGroupArn": tg_api}])
        self.elb.create_rule(ListenerArn=listener, Priority=20,
                             Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["api.example.*"]}}],
                             Actions=[{"Type": "forward", "TargetGroupArn": tg_api}])
        self.wait_healthy(tg_web, 1)
        self.wait_healthy(tg_api, 1)
        self.assertEqual(self.name_of(port, "/api/users"), "api")
        self.assertEqual(self.name_of(port, "/", {"Host": "api.example.com"}), "api")
        self.assertEqual(self.name_of(port, "/index.html"), "web")
        self.assertEqual(self.name_of(port, "/apix"), "web")

        # Default action: 3 to 1 across the two groups.
        self.elb.modify_listener(ListenerArn=listener, DefaultActions=[{"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": tg_web, "Weight": 3}, {"TargetGroupArn": tg_api, "Weight": 1}]}}])
        self.wait_for(lambda: "api" in {self.name_of(port, "/w") for _ in range(20)} or None, timeout=10,
                      message="weighted default action applied")
        names = [self.name_of(port, "/w") for _ in range(400)]
        share = names.count("api") / len(names)
        self.assertTrue(0.15 <= share <= 0.35, f"api got {share:.0%} of the requests, configured 25%")

    def test_https_listener_terminates_tls_with_the_self_signed_certificate(self):
        a = self.upstream("a")
        lb = self.load_balancer()
        tg = self.target_group("web", [a.port])
        cert_arn = "arn:aws:acm:us-east-1:000000000000:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
        _, port = self.listener(lb, tg, protocol="HTTPS", Certificates=[{"CertificateArn": cert_arn}])
        self.wait_healthy(tg, 1)
        ca = os.path.join(self.daemon.data_dir, "alb-tls", "cert.pem")
        self.assertTrue(os.path.exists(ca), "the certificate is kept under the data dir")
        ctx = ssl.create_default_context(cafile=ca)
        # The load balancer's DNS name verifies against the certificate.
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=ctx)
        conn.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                                    server_hostname=lb["DNSName"])
        self.addCleanup(conn.close)
        conn.request("GET", "/secure", headers={"Host": lb["DNSName"]})
        got = json.loads(conn.getresponse().read())
        self.assertEqual(got["headers"]["X-Forwarded-Proto"], "https")
        self.assertEqual(got["headers"]["X-Forwarded-Port"], str(port))
        conn.request("GET", "/again")
        self.assertEqual(json.loads(conn.getresponse().read())["path"], "/again")
        # Plain HTTP on the HTTPS port is no HTTP answer.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                data = s.recv(100)
            except OSError:
                data = b""
            self.assertFalse(data.startswith(b"HTTP/1.1 200"))

    def test_tcp_listener_of_a_network_load_balancer_splices_bytes(self):
        echo = EchoServer()
        self.addCleanup(echo.close)
        nlb = self.load_balancer("net", "network")
        tg = self.target_group("tcp", [echo.port], protocol="TCP", interval=10)
        desc = self.elb.describe_target_groups(TargetGroupArns=[tg])["TargetGroups"][0]
        self.assertEqual(desc["HealthCheckProtocol"], "TCP")
        _, port = self.listener(nlb, tg, protocol="TCP")
        self.wait_healthy(tg, 1)  # a TCP health check: the connection opens
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            for msg in (b"not http at all\n", os.urandom(300000)):
                s.sendall(msg)
                got = b""
                while len(got) < len(msg):
                    piece = s.recv(65536)
                    self.assertTrue(piece, "connection closed early")
                    got += piece
                self.assertEqual(got, msg)
            s.shutdown(socket.SHUT_WR)
            self.assertEqual(s.recv(10), b"", "the half-close reaches the target and comes back")


if __name__ == "__main__":
    main()
