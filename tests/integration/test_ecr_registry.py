"""ECR and ecsd's OCI registry with the real docker CLI: login (good and bad password), push, describe-images,
pull by tag and by digest after rmi, immutable tags, lifecycle expiry, BatchDeleteImage, a task running a pushed
image, and the registry API itself (chunked uploads, ranges, mounts, tags pagination) over raw HTTP."""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import (  # noqa: E402
    BUSYBOX_IMAGE,
    DockerTestCase,
    busybox_container,
    docker,
    free_port,
    main,
)

REGISTRY_PORT = free_port()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class EcrRegistryTest(DockerTestCase):
    DAEMON_ARGS = ("--registry-port", str(REGISTRY_PORT), "--registry-sweep-seconds", "1")

    def setUp(self):
        super().setUp()
        self.ecr = self.client("ecr")
        self.images = []  # local image references to remove at the end
        self.image_ids = []  # and the images this test built (with every reference left to them)
        self.docker_config = tempfile.mkdtemp(prefix="ecsd-docker-config-")
        self.addCleanup(shutil.rmtree, self.docker_config, True)
        self.addCleanup(self._remove_images)
        self.suffix = uuid.uuid4().hex[:8]

    # -- helpers ---------------------------------------------------------------------------------------

    def dk(self, *args, check=True, input=None, timeout=120):
        """The docker CLI with this test's own config dir (its logins never touch ~/.docker)."""
        env = dict(os.environ, DOCKER_CONFIG=self.docker_config)
        proc = subprocess.run(["docker", *map(str, args)], capture_output=True, text=True, env=env, input=input,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(map(str, args))} failed ({proc.returncode}): {proc.stderr}")
        return proc

    def _remove_images(self):
        for ref in self.images:
            docker("rmi", "-f", ref, check=False)
        for image_id in self.image_ids:
            docker("rmi", "-f", image_id, check=False)
        if hasattr(self, "registry"):
            self.dk("logout", self.registry, check=False)

    def create_repo(self, name, **kw):
        repo = self.ecr.create_repository(repositoryName=name, **kw)["repository"]
        self.registry = repo["repositoryUri"].split("/", 1)[0]
        return repo

    def login(self):
        password = self.aws_ok_text("ecr", "get-login-password")
        proc = self.dk("login", "--username", "AWS", "--password-stdin", self.registry, input=password)
        self.assertIn("Login Succeeded", proc.stdout)
        return password

    def aws_ok_text(self, *args):
        rc, _doc, err = self.aws(*args)
        self.assertEqual(rc, 0, err)
        env = self._cli_env()
        cmd = ["aws", "--endpoint-url", self.endpoint, "--region", "us-east-1", *args]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=60).stdout.strip()

    def unique_image(self, tag):
        """A local image with a layer of its own on top of busybox (so rmi really removes content)."""
        dockerfile = f"FROM {BUSYBOX_IMAGE}\nRUN echo {uuid.uuid4().hex} > /unique\n"
        proc = subprocess.run(["docker", "build", "-q", "-t", tag, "-"], input=dockerfile, capture_output=True,
                              text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.images.append(tag)
        self.image_ids.append(proc.stdout.strip())
        return tag

    def push(self, local, uri):
        self.dk("tag", local, uri)
        self.images.append(uri)
        proc = self.dk("push", uri)
        return proc.stdout

    def http(self, method, path, body=None, headers=None, password=None):
        req = urllib.request.Request(f"http://{self.registry}{path}", data=body, method=method)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        if password is not None:
            req.add_header("Authorization", "Basic " + base64.b64encode(f"AWS:{password}".encode()).decode())
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(req, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    # -- tests -----------------------------------------------------------------------------------------

    def test_login_push_describe_pull_by_tag_and_digest(self):
        name = f"it/app-{self.suffix}"
        repo = self.create_repo(name)
        self.assertRegex(repo["repositoryUri"], r"^127\.0\.1\.1:\d+/it/app-[0-9a-f]{8}$")
        # A wrong password is refused by docker login.
        bad = self.dk("login", "--username", "AWS", "--password-stdin", self.registry, input="not-the-token",
                      check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("401", bad.stderr)
        self.login()
        local = self.unique_image(f"ecsd-it-ecr-src:{self.suffix}")
        uri = f"{repo['repositoryUri']}:v1"
        out = self.push(local, uri)
        self.assertIn("digest: sha256:", out)
        digest = out.split("digest: ", 1)[1].split()[0]

        details = self.ecr.describe_images(repositoryName=name)["imageDetails"]
        self.assertEqual(len(details), 1)
        d = details[0]
        self.assertEqual(d["imageDigest"], digest)
        self.assertEqual(d["imageTags"], ["v1"])
        self.assertGreater(d["imageSizeInBytes"], 1000)
        self.assertEqual(d["imageManifestMediaType"], "application/vnd.docker.distribution.manifest.v2+json")
        self.assertIn("imagePushedAt", d)
        cli = self.aws_ok("ecr", "describe-images", "--repository-name", name)
        self.assertEqual(cli["imageDetails"][0]["imageDigest"], digest)

        # Pull by tag and by digest after removing the local copies (the unique layer goes with them).
        docker("rmi", "-f", uri, local)
        self.assertEqual(docker("image", "inspect", uri, check=False), "[]")
        self.dk("pull", uri)
        docker("rmi", "-f", uri)
        by_digest = f"{repo['repositoryUri']}@{digest}"
        self.images.append(by_digest)
        self.dk("pull", by_digest)
        content = docker("run", "--rm", by_digest, "cat", "/unique")
        self.assertEqual(len(content), 32)
        # BatchGetImage returns the manifest the registry serves.
        img = self.ecr.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "v1"}])["images"][0]
        self.assertEqual(hashlib.sha256(img["imageManifest"].encode()).hexdigest(), digest.split(":")[1])

    def test_immutable_tag_refused_on_repush(self):
        name = f"it/immutable-{self.suffix}"
        repo = self.create_repo(name, imageTagMutability="IMMUTABLE")
        self.login()
        a = self.unique_image(f"ecsd-it-ecr-a:{self.suffix}")
        b = self.unique_image(f"ecsd-it-ecr-b:{self.suffix}")
        uri = f"{repo['repositoryUri']}:v1"
        self.push(a, uri)
        self.dk("tag", b, uri)
        proc = self.dk("push", uri, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("already exists", proc.stdout + proc.stderr)
        # PutImage says the same through the API.
        manifest = self.ecr.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "v1"}])["images"][0]
        self.assertClientError("ImageAlreadyExistsException", self.ecr.put_image, repositoryName=name,
                               imageManifest=manifest["imageManifest"], imageTag="v1")
        self.assertEqual(len(self.ecr.list_images(repositoryName=name)["imageIds"]), 1)

    def test_lifecycle_policy_expires_old_images(self):
        name = f"it/lifecycle-{self.suffix}"
        repo = self.create_repo(name)
        self.login()
        for tag in ("v1", "v2", "v3"):
            self.push(self.unique_image(f"ecsd-it-ecr-{tag}:{self.suffix}"), f"{repo['repositoryUri']}:{tag}")
        policy = {"rules": [{"rulePriority": 1, "description": "keep two",
                             "selection": {"tagStatus": "tagged", "tagPrefixList": ["v"],
                                           "countType": "imageCountMoreThan", "countNumber": 2},
                             "action": {"type": "expire"}}]}
        self.ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps(policy))

        def tags():
            return sorted(i.get("imageTag") for i in self.ecr.list_images(repositoryName=name)["imageIds"])

        self.wait_for(lambda: tags() == ["v2", "v3"], timeout=30, message="v1 expired by the lifecycle policy")
        got = self.ecr.get_lifecycle_policy(repositoryName=name)
        self.assertIn("lastEvaluatedAt", got)
        # The expired image is gone from the registry too.
        proc = self.dk("pull", f"{repo['repositoryUri']}:v1", check=False)
        self.assertNotEqual(proc.returncode, 0)

    def test_batch_delete_image_then_pull_fails(self):
        name = f"it/delete-{self.suffix}"
        repo = self.create_repo(name)
        self.login()
        uri = f"{repo['repositoryUri']}:v1"
        self.push(self.unique_image(f"ecsd-it-ecr-del:{self.suffix}"), uri)
        self.assertClientError("RepositoryNotEmptyException", self.ecr.delete_repository, repositoryName=name)
        resp = self.ecr.batch_delete_image(repositoryName=name, imageIds=[{"imageTag": "v1"}, {"imageTag": "nope"}])
        self.assertEqual([i["imageTag"] for i in resp["imageIds"]], ["v1"])
        self.assertEqual(resp["failures"][0]["failureCode"], "ImageNotFound")
        docker("rmi", "-f", uri)
        proc = self.dk("pull", uri, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("not found", (proc.stdout + proc.stderr).lower())
        self.ecr.delete_repository(repositoryName=name)

    def test_task_runs_pushed_image_after_rmi(self):
        name = f"it/task-{self.suffix}"
        repo = self.create_repo(name)
        self.login()
        uri = f"{repo['repositoryUri']}:v1"
        self.push(self.unique_image(f"ecsd-it-ecr-task:{self.suffix}"), uri)
        docker("rmi", "-f", uri, f"ecsd-it-ecr-task:{self.suffix}")
        self.assertEqual(docker("image", "inspect", uri, check=False), "[]")
        self.ecs().create_cluster(clusterName="ecr")
        self.ecs().register_task_definition(
            family="from-ecr",
            containerDefinitions=[busybox_container(image=uri, command="test -s /unique && exit 0")])
        task = self.run_task("ecr", "from-ecr")
        stopped = self.wait_task("ecr", task["taskArn"], last_status="STOPPED", timeout=90)
        c = self.container_of(stopped)
        self.assertEqual(c.get("exitCode"), 0, json.dumps(stopped, default=str))
        self.assertIn("pullStartedAt", stopped)
        self.assertTrue(docker("image", "inspect", uri, check=False) != "[]")

    def test_registry_api_chunked_upload_range_mount_and_tags_pagination(self):
        name = f"it/raw-{self.suffix}"
        other = f"it/raw2-{self.suffix}"
        self.create_repo(name)
        self.create_repo(other)
        token = self.ecr.get_authorization_token()["authorizationData"][0]
        password = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)[1]
        status, headers, _ = self.http("GET", "/v2/")
        self.assertEqual(status, 401)
        self.assertIn("Basic realm=", headers["WWW-Authenticate"])
        self.assertEqual(self.http("GET", "/v2/", password=password + "x")[0], 401)
        self.assertEqual(self.http("GET", "/v2/", password=password)[0], 200)
        data = os.urandom(300000)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        status, headers, _ = self.http("POST", f"/v2/{name}/blobs/uploads/", password=password)
        self.assertEqual(status, 202)
        location = headers["Location"].split(self.registry, 1)[1]
        self.assertIn("Docker-Upload-UUID", headers)
        status, headers, _ = self.http("PATCH", location, data[:100000], {"Content-Range": "0-99999"}, password)
        self.assertEqual((status, headers["Range"]), (202, "0-99999"))
        # A chunk that does not continue the upload is refused with the current range.
        status, headers, _ = self.http("PATCH", location, data[:10], {"Content-Range": "5-14"}, password)
        self.assertEqual((status, headers["Range"]), (416, "0-99999"))
        status, headers, _ = self.http("PATCH", location, data[100000:], {"Content-Range": "100000-299999"}, password)
        self.assertEqual(status, 202)
        # A wrong digest is refused and nothing becomes visible.
        wrong = "sha256:" + "0" * 64
        status, _, body = self.http("PUT", f"{location}?digest={wrong}", b"", None, password)
        self.assertEqual(status, 400)
        self.assertIn(b"DIGEST_INVALID", body)
        self.assertEqual(self.http("HEAD", f"/v2/{name}/blobs/{wrong}", password=password)[0], 404)
        # Monolithic upload of the same content.
        status, headers, _ = self.http("POST", f"/v2/{name}/blobs/uploads/?digest={digest}", data,
                                       {"Content-Type": "application/octet-stream"}, password)
        self.assertEqual(status, 201)
        self.assertEqual(headers["Docker-Content-Digest"], digest)
        status, headers, body = self.http("GET", f"/v2/{name}/blobs/{digest}", None, {"Range": "bytes=10-19"}, password)
        self.assertEqual((status, body), (206, data[10:20]))
        self.assertEqual(headers["Content-Range"], f"bytes 10-19/{len(data)}")
        status, headers, body = self.http("HEAD", f"/v2/{name}/blobs/{digest}", password=password)
        self.assertEqual((status, headers["Content-Length"], body), (200, str(len(data)), b""))
        # The other repository cannot read it until it is mounted.
        self.assertEqual(self.http("HEAD", f"/v2/{other}/blobs/{digest}", password=password)[0], 404)
        status, _, _ = self.http("POST", f"/v2/{other}/blobs/uploads/?mount={digest}&from={name}", b"", None, password)
        self.assertEqual(status, 201)
        self.assertEqual(self.http("GET", f"/v2/{other}/blobs/{digest}", password=password)[2], data)
        # An OCI manifest referring to it, tagged three times; tags come back in pages.
        config = b"{}"
        cdigest = "sha256:" + hashlib.sha256(config).hexdigest()
        self.assertEqual(self.http("POST", f"/v2/{name}/blobs/uploads/?digest={cdigest}", config, None, password)[0], 201)
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                          "digest": cdigest, "size": len(config)},
                               "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                           "digest": digest, "size": len(data)}]}).encode()
        for tag in ("a", "b", "c"):
            status, headers, _ = self.http("PUT", f"/v2/{name}/manifests/{tag}", manifest,
                                           {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, password)
            self.assertEqual(status, 201)
        mdigest = headers["Docker-Content-Digest"]
        status, headers, body = self.http("GET", f"/v2/{name}/tags/list?n=2", password=password)
        self.assertEqual(json.loads(body)["tags"], ["a", "b"])
        self.assertIn("rel=\"next\"", headers["Link"])
        status, headers, body = self.http("GET", f"/v2/{name}/tags/list?n=2&last=b", password=password)
        self.assertEqual(json.loads(body)["tags"], ["c"])
        status, headers, body = self.http("GET", f"/v2/{name}/manifests/{mdigest}", password=password)
        self.assertEqual((status, body), (200, manifest))
        self.assertEqual(headers["Content-Type"], "application/vnd.oci.image.manifest.v1+json")
        # A manifest naming a blob the repository lacks is refused.
        bad = manifest.replace(digest.encode(), wrong.encode())
        status, _, body = self.http("PUT", f"/v2/{name}/manifests/bad", bad,
                                    {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, password)
        self.assertEqual(status, 400)
        self.assertIn(b"MANIFEST_BLOB_UNKNOWN", body)
        # The ECR API sees the same image; the registry sees deletes made through it.
        ids = self.ecr.list_images(repositoryName=name, filter={"tagStatus": "TAGGED"})["imageIds"]
        self.assertEqual(sorted(i["imageTag"] for i in ids), ["a", "b", "c"])
        detail = self.ecr.describe_images(repositoryName=name, imageIds=[{"imageDigest": mdigest}])["imageDetails"][0]
        self.assertEqual(detail["imageSizeInBytes"], len(data) + len(config))
        self.assertEqual(detail["artifactMediaType"], "application/vnd.oci.image.config.v1+json")
        self.ecr.batch_delete_image(repositoryName=name, imageIds=[{"imageDigest": mdigest}])
        self.assertEqual(self.http("GET", f"/v2/{name}/manifests/a", password=password)[0], 404)
        # Paths that try to leave the blob store are refused before any file is touched.
        for path in (f"/v2/{name}/blobs/sha256:..%2F..%2Fecsd.db", f"/v2/{name}/blobs/sha256/../../ecsd.db",
                     "/v2/../ecsd.db/blobs/" + digest, f"/v2/{name}/blobs/uploads/../../x"):
            status, _, _ = self.http("GET", path, password=password)
            self.assertIn(status, (400, 404), path)
        # Layer upload through the ECR API.
        up = self.ecr.initiate_layer_upload(repositoryName=other)
        part = os.urandom(1000)
        self.ecr.upload_layer_part(repositoryName=other, uploadId=up["uploadId"], partFirstByte=0, partLastByte=999,
                                   layerPartBlob=part)
        self.assertClientError("InvalidLayerException", self.ecr.complete_layer_upload, repositoryName=other,
                               uploadId=up["uploadId"], layerDigests=[wrong])
        up = self.ecr.initiate_layer_upload(repositoryName=other)
        self.ecr.upload_layer_part(repositoryName=other, uploadId=up["uploadId"], partFirstByte=0, partLastByte=999,
                                   layerPartBlob=part)
        pdigest = "sha256:" + hashlib.sha256(part).hexdigest()
        self.ecr.complete_layer_upload(repositoryName=other, uploadId=up["uploadId"], layerDigests=[pdigest])
        avail = self.ecr.batch_check_layer_availability(repositoryName=other, layerDigests=[pdigest, wrong])
        self.assertEqual(avail["layers"][0]["layerAvailability"], "AVAILABLE")
        self.assertEqual(avail["failures"][0]["failureCode"], "MissingLayerDigest")
        url = self.ecr.get_download_url_for_layer(repositoryName=other, layerDigest=pdigest)["downloadUrl"]
        with urllib.request.urlopen(url, timeout=10) as resp:
            self.assertEqual(resp.read(), part)


if __name__ == "__main__":
    main()
