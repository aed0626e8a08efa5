#!/usr/bin/env python3
"""The seed's build stage in Python/boto3 with its defects fixed: the benchmark's baseline for
build-step (see bench/README.md).

The same AWS calls and the same files as build-step: ListModelPackages for the group's Approved
packages sorted by CreationTime *descending*, following NextToken only past empty pages (B1, B2);
DescribeModelPackage on the newest one; the endpoint template rendered with the package's
metadata (every value quoted by a serializer); each stage config checked against the template's
declared Parameters; and template-export.yml plus the two StackSet parameter files. Settings come
from the flags or the env vars CodeBuild sets (an empty env var counts as unset, B10).
"""

import argparse
import json
import logging
import os
import re
import sys
from pathlib import Path

import boto3
import jinja2
import yaml

REPO = Path(__file__).resolve().parents[2]
PAGE_SIZE = 10
DERIVED = ("SageMakerProjectName", "SageMakerProjectId", "ModelPackageName", "RoleName", "ArtifactBucket")

log = logging.getLogger("build_step")


def env_default(name, default=None):
    return os.environ.get(name) or default


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-package-group-name", default=env_default("SOURCE_MODEL_PACKAGE_GROUP_NAME"))
    p.add_argument("--sagemaker-project-name", default=env_default("SAGEMAKER_PROJECT_NAME"))
    p.add_argument("--sagemaker-project-id", default=env_default("SAGEMAKER_PROJECT_ID"))
    p.add_argument("--artifact-bucket", default=env_default("ARTIFACT_BUCKET"))
    p.add_argument("--sagemaker-execution-role-staging-name", default=env_default("SAGEMAKER_EXECUTION_ROLE_STAGING_NAME"))
    p.add_argument("--sagemaker-execution-role-prod-name", default=env_default("SAGEMAKER_EXECUTION_ROLE_PROD_NAME"))
    p.add_argument("--import-staging-config", default="staging-config.json")
    p.add_argument("--import-prod-config", default="prod-config.json")
    p.add_argument("--export-template", default=env_default("EXPORT_TEMPLATE_NAME", "template-export.yml"))
    p.add_argument("--export-prod-template", default=env_default("EXPORT_TEMPLATE_PROD_NAME", "prod-template-export.yml"))
    p.add_argument("--export-staging-config", default=env_default("EXPORT_TEMPLATE_STAGING_CONFIG", "staging-config-export.json"))
    p.add_argument("--export-prod-config", default=env_default("EXPORT_TEMPLATE_PROD_CONFIG", "prod-config-export.json"))
    p.add_argument("--template", default=str(REPO / "templates" / "endpoint.yml.j2"))
    p.add_argument("--log-level", default=env_default("LOGLEVEL", "INFO"))
    args = p.parse_args()
    for flag in ("model_package_group_name", "sagemaker_project_name", "sagemaker_project_id",
                 "sagemaker_execution_role_staging_name", "sagemaker_execution_role_prod_name"):
        if not getattr(args, flag):
            p.error(f"--{flag.replace('_', '-')} (or its env var) is required")
    return args


def newest_approved(sm, group):
    """The newest Approved package: one call unless the first pages come back empty."""
    kwargs = dict(ModelPackageGroupName=group, ModelApprovalStatus="Approved",
                  SortBy="CreationTime", SortOrder="Descending", MaxResults=PAGE_SIZE)
    while True:
        page = sm.list_model_packages(**kwargs)
        if page["ModelPackageSummaryList"]:
            return page["ModelPackageSummaryList"][0]["ModelPackageArn"]
        if "NextToken" not in page:
            sys.exit(f"build_step: no Approved model package in group {group}")
        kwargs["NextToken"] = page["NextToken"]


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub, ...) as plain nodes."""


CfnLoader.add_multi_constructor("!", lambda loader, _tag, node: (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
    else loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode)
    else loader.construct_mapping(node)))


def render_template(path, package, project_name, project_id, in_vpc):
    env = jinja2.Environment(finalize=lambda value: json.dumps(str(value)), keep_trailing_newline=True)
    template = env.from_string(Path(path).read_text())
    return template.render(
        package={"arn": package["ModelPackageArn"], "group": package["ModelPackageGroupName"],
                 "version": package.get("ModelPackageVersion"),
                 "approval_status": package["ModelApprovalStatus"]},
        project={"name": project_name, "id": project_id},
        generator="build_step.py",
        stage={"in_vpc": in_vpc},
    )


def check_value(key, decl, value):
    if "AllowedValues" in decl and value not in [str(v) for v in decl["AllowedValues"]]:
        raise ValueError(f"{key}={value!r} is not one of {decl['AllowedValues']}")
    if "AllowedPattern" in decl and not re.fullmatch(decl["AllowedPattern"], value):
        raise ValueError(f"{key}={value!r} does not match {decl['AllowedPattern']}")
    if not decl.get("MinLength", 0) <= len(value) <= decl.get("MaxLength", len(value)):
        raise ValueError(f"{key}={value!r} has the wrong length")
    if decl.get("Type") == "Number":
        number = float(value)
        if not decl.get("MinValue", number) <= number <= decl.get("MaxValue", number):
            raise ValueError(f"{key}={value!r} is out of range")


def stage_parameters(path, declared, derived):
    entries = json.loads(Path(path).read_text())
    params = {e["ParameterKey"]: str(e["ParameterValue"]) for e in entries}
    if "StageName" not in params:
        raise ValueError(f"{path}: StageName is required")
    for key, value in params.items():
        if key in DERIVED:
            raise ValueError(f"{path}: {key} is set by the build step")
        if key not in declared:
            raise ValueError(f"{path}: unknown parameter {key}; known: {', '.join(sorted(declared))}")
        check_value(key, declared[key], value)
    params.update({k: v for k, v in derived.items() if v})
    for key, value in derived.items():
        if value:
            check_value(key, declared[key], value)
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()]


def write_all(outputs):
    """Writes every output to a temp file first and renames them only when all are written."""
    temps = []
    for path, text in outputs:
        temp = f"{path}.tmp"
        Path(temp).write_text(text)
        temps.append((temp, path))
    for temp, path in temps:
        os.replace(temp, path)


def main():
    args = parse_args()
    logging.basicConfig(format="%(levelname)s %(message)s")
    log.setLevel(args.log_level.upper())
    sm = boto3.client("sagemaker")
    arn = newest_approved(sm, args.model_package_group_name)
    package = sm.describe_model_package(ModelPackageName=arn)
    log.info("chose model package %s", arn)

    outputs = []
    supported = package.get("InferenceSpecification", {}).get("SupportedRealtimeInferenceInstanceTypes", [])
    stages = []
    for config, role, template_export, export in (
        (args.import_staging_config, args.sagemaker_execution_role_staging_name, args.export_template, args.export_staging_config),
        (args.import_prod_config, args.sagemaker_execution_role_prod_name, args.export_prod_template, args.export_prod_config),
    ):
        # Each stage's own template: the network parameters only where the stage is in a VPC.
        keys = {e["ParameterKey"] for e in json.loads(Path(config).read_text())}
        in_vpc = bool(keys & {"VpcSubnetIdsParameter", "VpcSecurityGroupIdsParameter"})
        rendered = render_template(args.template, package, args.sagemaker_project_name, args.sagemaker_project_id, in_vpc)
        declared = yaml.load(rendered, Loader=CfnLoader)["Parameters"]
        outputs.append((template_export, rendered))
        derived = {"SageMakerProjectName": args.sagemaker_project_name,
                   "SageMakerProjectId": args.sagemaker_project_id,
                   "ModelPackageName": arn, "RoleName": role, "ArtifactBucket": args.artifact_bucket}
        params = stage_parameters(config, declared, derived)
        values = {p["ParameterKey"]: p["ParameterValue"] for p in params}
        stages.append(values["StageName"])
        instance_type = values.get("EndpointInstanceType")
        if supported and instance_type and instance_type not in supported:
            log.warning("%s: %s is not among the package's instance types %s", config, instance_type, supported)
        outputs.append((export, json.dumps(params, indent=2) + "\n"))
    if stages[0] == stages[1]:
        sys.exit(f"build_step: both stages are named {stages[0]}")
    write_all(outputs)
    print(f"model package: {arn}")
    for path, text in outputs:
        print(f"wrote {path} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
