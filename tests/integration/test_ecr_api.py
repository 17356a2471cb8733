"""The ECR API through boto3 and the aws CLI (responses checked against the model): repositories, settings,
policies, tags, PutImage/BatchGetImage/BatchDeleteImage on manifests built through the layer upload API, and the
errors ECR returns. No Docker needed."""

import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import ACCOUNT_ID, EcsdTestCase, free_port, main  # noqa: E402

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class EcrApiTest(EcsdTestCase):
    DAEMON_ARGS = ("--registry-port", str(free_port()), "--no-scheduler")

    def setUp(self):
        super().setUp()
        self.ecr = self.client("ecr")

    def upload(self, repo, data):
        up = self.ecr.initiate_layer_upload(repositoryName=repo)
        self.assertGreater(up["partSize"], 0)
        half = len(data) // 2
        self.ecr.upload_layer_part(repositoryName=repo, uploadId=up["uploadId"], partFirstByte=0,
                                   partLastByte=half - 1, layerPartBlob=data[:half])
        self.assertClientError("InvalidLayerPartException", self.ecr.upload_layer_part, repositoryName=repo,
                               uploadId=up["uploadId"], partFirstByte=0, partLastByte=len(data) - half - 1,
                               layerPartBlob=data[half:])
        self.ecr.upload_layer_part(repositoryName=repo, uploadId=up["uploadId"], partFirstByte=half,
                                   partLastByte=len(data) - 1, layerPartBlob=data[half:])
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        done = self.ecr.complete_layer_upload(repositoryName=repo, uploadId=up["uploadId"], layerDigests=[digest])
        self.assertEqual(done["layerDigest"], digest)
        return digest

    def manifest(self, repo, layer=b"layer"):
        config = json.dumps({"architecture": "amd64", "os": "linux", "layer": layer.decode()}).encode()
        cdigest = self.upload(repo, config)
        ldigest = self.upload(repo, layer * 100)
        return json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdigest,
                                      "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ldigest,
                                       "size": len(layer) * 100}]})

    def test_repository_lifecycle_settings_and_errors(self):
        out = self.aws_ok("ecr", "create-repository", "--repository-name", "team/web", "--image-tag-mutability",
                          "IMMUTABLE", "--image-scanning-configuration", "scanOnPush=true", "--tags",
                          "Key=env,Value=dev")
        repo = out["repository"]
        self.assertEqual(repo["repositoryArn"], f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/team/web")
        self.assertEqual(repo["registryId"], ACCOUNT_ID)
        self.assertEqual(repo["imageTagMutability"], "IMMUTABLE")
        self.assertEqual(repo["imageScanningConfiguration"], {"scanOnPush": True})
        self.assertEqual(repo["encryptionConfiguration"], {"encryptionType": "AES256"})
        self.aws_err("RepositoryAlreadyExistsException", "ecr", "create-repository", "--repository-name", "team/web")
        self.assertClientError("InvalidParameterException", self.ecr.create_repository, repositoryName="Bad_Name")
        # Another region has its own registry address.
        west = self.client("ecr", region="us-west-2").create_repository(repositoryName="team/web")["repository"]
        self.assertTrue(west["repositoryUri"].startswith("127.0.4.1:"))
        self.assertTrue(repo["repositoryUri"].startswith("127.0.1.1:"))

        self.ecr.create_repository(repositoryName="other")
        names = [r["repositoryName"] for r in self.ecr.describe_repositories()["repositories"]]
        self.assertEqual(names, ["other", "team/web"])
        page = self.ecr.describe_repositories(maxResults=1)
        self.assertEqual(len(page["repositories"]), 1)
        self.assertEqual(len(self.ecr.describe_repositories(nextToken=page["nextToken"])["repositories"]), 1)
        self.assertClientError("RepositoryNotFoundException", self.ecr.describe_repositories, repositoryNames=["nope"])

        got = self.ecr.put_image_tag_mutability(repositoryName="team/web", imageTagMutability="MUTABLE")
        self.assertEqual(got["imageTagMutability"], "MUTABLE")
        arn = repo["repositoryArn"]
        self.ecr.tag_resource(resourceArn=arn, tags=[{"Key": "team", "Value": "a"}])
        self.ecr.untag_resource(resourceArn=arn, tagKeys=["env"])
        self.assertEqual(self.ecr.list_tags_for_resource(resourceArn=arn)["tags"], [{"Key": "team", "Value": "a"}])
        self.assertClientError("InvalidParameterException", self.ecr.list_tags_for_resource, resourceArn="arn:aws:s3:::x")

        self.assertClientError("RepositoryPolicyNotFoundException", self.ecr.get_repository_policy,
                               repositoryName="team/web")
        policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                                     "Action": "ecr:BatchGetImage"}]})
        self.ecr.set_repository_policy(repositoryName="team/web", policyText=policy)
        self.assertEqual(self.ecr.get_repository_policy(repositoryName="team/web")["policyText"], policy)
        self.ecr.delete_repository_policy(repositoryName="team/web")
        self.assertClientError("InvalidParameterException", self.ecr.set_repository_policy, repositoryName="team/web",
                               policyText="not json")

        self.assertClientError("LifecyclePolicyNotFoundException", self.ecr.get_lifecycle_policy,
                               repositoryName="team/web")
        self.assertClientError("InvalidParameterException", self.ecr.put_lifecycle_policy, repositoryName="team/web",
                               lifecyclePolicyText=json.dumps({"rules": [{"rulePriority": 1, "description": "a rule without a selection "
                                                                                    "cannot select any image at all"}]}))
        lp = json.dumps({"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged",
                                                                     "countType": "sinceImagePushed",
                                                                     "countUnit": "days", "countNumber": 14},
                                    "action": {"type": "expire"}}]})
        self.ecr.put_lifecycle_policy(repositoryName="team/web", lifecyclePolicyText=lp)
        self.assertEqual(self.ecr.get_lifecycle_policy(repositoryName="team/web")["lifecyclePolicyText"], lp)
        self.assertEqual(self.ecr.delete_lifecycle_policy(repositoryName="team/web")["lifecyclePolicyText"], lp)

        reg = self.ecr.describe_registry()
        self.assertEqual(reg["registryId"], ACCOUNT_ID)
        self.ecr.delete_repository(repositoryName="team/web")
        self.assertClientError("RepositoryNotFoundException", self.ecr.delete_repository, repositoryName="team/web")
        self.assertEqual(self.ecr.list_tags_for_resource(resourceArn=arn.replace("team/web", "other"))["tags"], [])

    def test_authorization_token(self):
        data = self.ecr.get_authorization_token()["authorizationData"][0]
        user, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
        self.assertEqual(user, "AWS")
        self.assertTrue(password)
        self.assertRegex(data["proxyEndpoint"], r"^http://127\.0\.1\.1:\d+$")
        self.assertGreater(data["expiresAt"].timestamp(), 11 * 3600 + __import__("time").time())
        pw = self.aws_ok("ecr", "get-authorization-token")["authorizationData"][0]
        self.assertIn("authorizationToken", pw)

    def test_put_image_get_list_describe_delete(self):
        self.ecr.create_repository(repositoryName="app")
        manifest = self.manifest("app")
        digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
        img = self.ecr.put_image(repositoryName="app", imageManifest=manifest, imageTag="v1")["image"]
        self.assertEqual(img["imageId"], {"imageDigest": digest, "imageTag": "v1"})
        self.assertEqual(img["imageManifestMediaType"], OCI_MANIFEST)
        self.assertClientError("ImageAlreadyExistsException", self.ecr.put_image, repositoryName="app",
                               imageManifest=manifest, imageTag="v1")
        self.ecr.put_image(repositoryName="app", imageManifest=manifest, imageTag="latest")  # retag by manifest
        self.assertClientError("ImageDigestDoesNotMatchException", self.ecr.put_image, repositoryName="app",
                               imageManifest=manifest, imageTag="x", imageDigest="sha256:" + "1" * 64)
        missing = manifest.replace(json.loads(manifest)["layers"][0]["digest"], "sha256:" + "2" * 64)
        self.assertClientError("LayersNotFoundException", self.ecr.put_image, repositoryName="app",
                               imageManifest=missing, imageTag="broken")
        # An untagged second image.
        other = self.manifest("app", b"other")
        self.ecr.put_image(repositoryName="app", imageManifest=other)
        ids = self.ecr.list_images(repositoryName="app")["imageIds"]
        self.assertEqual(len(ids), 3)
        self.assertEqual(len(self.ecr.list_images(repositoryName="app", filter={"tagStatus": "UNTAGGED"})["imageIds"]), 1)
        details = self.ecr.describe_images(repositoryName="app", filter={"tagStatus": "TAGGED"})["imageDetails"]
        self.assertEqual(len(details), 1)
        self.assertEqual(sorted(details[0]["imageTags"]), ["latest", "v1"])
        self.assertEqual(details[0]["imageSizeInBytes"], len(b"layer") * 100 + len(json.dumps(
            {"architecture": "amd64", "os": "linux", "layer": "layer"})))
        self.assertClientError("ImageNotFoundException", self.ecr.describe_images, repositoryName="app",
                               imageIds=[{"imageTag": "nope"}])
        got = self.ecr.batch_get_image(repositoryName="app", imageIds=[{"imageTag": "v1"}, {"imageTag": "nope"}])
        self.assertEqual(got["images"][0]["imageManifest"], manifest)
        self.assertEqual(got["failures"][0]["failureCode"], "ImageNotFound")
        layer = json.loads(manifest)["layers"][0]["digest"]
        self.assertEqual(self.ecr.get_download_url_for_layer(repositoryName="app", layerDigest=layer)["layerDigest"],
                         layer)
        self.assertClientError("LayersNotFoundException", self.ecr.get_download_url_for_layer, repositoryName="app",
                               layerDigest="sha256:" + "3" * 64)
        # Deleting one of two tags keeps the image; deleting by digest removes it with its tags.
        gone = self.ecr.batch_delete_image(repositoryName="app", imageIds=[{"imageTag": "latest"}])["imageIds"]
        self.assertEqual(gone, [{"imageDigest": digest, "imageTag": "latest"}])
        gone = self.ecr.batch_delete_image(repositoryName="app", imageIds=[{"imageDigest": digest}])["imageIds"]
        self.assertEqual(gone, [{"imageDigest": digest, "imageTag": "v1"}])
        self.assertClientError("RepositoryNotEmptyException", self.ecr.delete_repository, repositoryName="app")
        self.assertEqual(self.ecr.delete_repository(repositoryName="app", force=True)["repository"]["repositoryName"],
                         "app")

    def test_layer_upload_errors(self):
        self.ecr.create_repository(repositoryName="app")
        up = self.ecr.initiate_layer_upload(repositoryName="app")
        self.assertClientError("EmptyUploadException", self.ecr.complete_layer_upload, repositoryName="app",
                               uploadId=up["uploadId"], layerDigests=["sha256:" + "4" * 64])
        self.assertClientError("UploadNotFoundException", self.ecr.upload_layer_part, repositoryName="app",
                               uploadId="0f8fad5b-d9cb-469f-a165-70867728950e", partFirstByte=0, partLastByte=0,
                               layerPartBlob=b"x")
        digest = self.upload("app", b"abc" * 10)
        up = self.ecr.initiate_layer_upload(repositoryName="app")
        self.ecr.upload_layer_part(repositoryName="app", uploadId=up["uploadId"], partFirstByte=0, partLastByte=29,
                                   layerPartBlob=b"abc" * 10)
        self.assertClientError("LayerAlreadyExistsException", self.ecr.complete_layer_upload, repositoryName="app",
                               uploadId=up["uploadId"], layerDigests=[digest])


if __name__ == "__main__":
    main()
