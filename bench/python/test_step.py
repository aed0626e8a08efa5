#!/usr/bin/env python3
"""The seed's test stage in Python/boto3 with its defects fixed: the benchmark's baseline for
test-step (see bench/README.md).

The same AWS calls and the same files as test-step: every ACTIVE account under the OU (all pages,
child OUs included, B3), tested `--concurrency` at a time; in each, AssumeRole with the build's
session name into the role of the caller's partition (B7), wait for the endpoint to be InService
(B5), check that every production variant serves the exported model package, invoke it
`--invocations` times per payload case and check the answers (B5), then one JSON report (B4) and a
JUnit report. Exit 0 passed, 1 a target failed, 2 bad input, 3 an AWS error.
"""

import argparse
import json
import math
import os
import re
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

MAX_BODY = 6 * 1024 * 1024
WAITING = {"Creating", "Updating", "SystemUpdating"}


class TargetFailed(Exception):
    """The target was tested and did not pass."""


def env_default(name, default=None):
    return os.environ.get(name) or default


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build-config", default=env_default("BUILD_CONFIG", "staging-config-export.json"))
    p.add_argument("--export-test-results", default=env_default("EXPORT_TEST_RESULTS", "test-results.json"))
    p.add_argument("--junit-report", default="test-results.xml")
    p.add_argument("--sagemaker-execution-role-name", default=env_default("SAGEMAKER_EXECUTION_ROLE_NAME"))
    p.add_argument("--organizational-unit-id", default=env_default("ORGANIZATIONAL_UNIT_ID"))
    p.add_argument("--payloads", default="test/payloads")
    p.add_argument("--wait-timeout", type=float, default=1800, help="seconds")
    p.add_argument("--invocations", type=int, default=10)
    p.add_argument("--concurrency", type=int, default=64)
    return p.parse_args()


def session_name():
    raw = env_default("CODEBUILD_BUILD_ID") or f"{os.environ.get('USER', 'unknown')}@{os.uname().nodename}"
    clean = re.sub(r"[^A-Za-z0-9+=,.@_-]", "-", raw)
    return clean if len(clean) <= 64 else f"{clean[:27]}-{clean[-36:]}"


def load_cases(payloads):
    manifest = json.loads((Path(payloads) / "manifest.json").read_text())
    cases = manifest["cases"]
    for case in cases:
        body = Path(payloads) / case["body"]
        if body.stat().st_size > MAX_BODY:
            raise ValueError(f"case {case['name']}: {body} is over 6 MB")
        case["data"] = body.read_bytes()
        case["regex"] = re.compile(case.get("expect", {}).get("body_regex", ""))
    return cases


def active_accounts(org, ou):
    """Every ACTIVE account under `ou` and its child OUs, all pages."""
    accounts, parents = [], [ou]
    while parents:
        parent = parents.pop()
        for page in org.get_paginator("list_accounts_for_parent").paginate(ParentId=parent):
            accounts += [a["Id"] for a in page["Accounts"] if a["Status"] == "ACTIVE"]
        for page in org.get_paginator("list_organizational_units_for_parent").paginate(ParentId=parent):
            parents += [child["Id"] for child in page["OrganizationalUnits"]]
    return sorted(accounts)


def pointer(document, path):
    for token in path.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        document = document[int(token)] if isinstance(document, list) else document[token]
    return document


def check_answer(case, content_type, body):
    expect = case.get("expect", {})
    wanted = expect.get("content_type")
    if wanted and (content_type if ";" in wanted else content_type.split(";")[0].strip()) != wanted:
        return f"content type {content_type}, expected {wanted}"
    if not case["regex"].search(body.decode("utf-8", "replace")):
        return f"body does not match {case['regex'].pattern}"
    if expect.get("json"):
        document = json.loads(body)
        for path, rule in expect["json"].items():
            value = pointer(document, path)
            if isinstance(rule, dict) and set(rule) <= {"min", "max"}:
                if not rule.get("min", -math.inf) <= value <= rule.get("max", math.inf):
                    return f"{path} is {value}, outside [{rule.get('min')}, {rule.get('max')}]"
            elif value != rule:
                return f"{path} is {value!r}, expected {rule!r}"
    return None


def nearest_rank(sorted_ms, p):
    return sorted_ms[max(0, math.ceil(p / 100 * len(sorted_ms)) - 1)]


def run_case(runtime, endpoint, case, invocations):
    result = {"name": case["name"], "body_file": case["body"], "status": "passed", "invocations": 0,
              "succeeded": 0, "latency_ms": None, "response_content_type": None, "response_bytes": None,
              "failures": []}
    started, latencies = time.monotonic(), []
    for n in range(1, invocations + 1):
        result["invocations"] = n
        kwargs = {"EndpointName": endpoint, "Body": case["data"]}
        for field, key in (("content_type", "ContentType"), ("accept", "Accept")):
            if field in case:
                kwargs[key] = case[field]
        call_started = time.monotonic()
        try:
            answer = runtime.invoke_endpoint(**kwargs)
            body = answer["Body"].read()
        except ClientError as err:
            result["failures"].append(f"invocation {n} of {invocations}: {err}")
            break
        latencies.append((time.monotonic() - call_started) * 1000)
        result["response_content_type"], result["response_bytes"] = answer.get("ContentType"), len(body)
        problem = check_answer(case, answer.get("ContentType", ""), body)
        if problem:
            result["failures"].append(f"invocation {n} of {invocations}: {problem}")
            break
        result["succeeded"] += 1
    if result["failures"]:
        result["status"] = "failed"
    if latencies:
        latencies.sort()
        result["latency_ms"] = {"count": len(latencies), "p50": nearest_rank(latencies, 50),
                                "p90": nearest_rank(latencies, 90), "p99": nearest_rank(latencies, 99),
                                "max": latencies[-1]}
    result["duration_seconds"] = time.monotonic() - started
    return result


def test_target(account, ctx):
    started = time.monotonic()
    role_arn = f"arn:{ctx['partition']}:iam::{account}:role/{ctx['role']}"
    target = {"account_id": account, "region": ctx["region"], "endpoint_name": ctx["endpoint"],
              "status": "error", "role_arn": role_arn, "endpoint_status": None, "wait_seconds": 0,
              "polls": 0, "model_check": None, "cases": [], "error": None}
    try:
        creds = ctx["sts"].assume_role(RoleArn=role_arn, RoleSessionName=ctx["session"])["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"], region_name=ctx["region"])
        sm, runtime = session.client("sagemaker"), session.client("sagemaker-runtime")
        target["status"] = "failed"
        wait_started, delay = time.monotonic(), 5
        while True:
            target["polls"] += 1
            try:
                described = sm.describe_endpoint(EndpointName=ctx["endpoint"])
            except ClientError as err:
                if err.response["Error"]["Code"] == "ValidationException":
                    raise TargetFailed(f"endpoint {ctx['endpoint']} in account {account} does not exist") from err
                raise
            target["endpoint_status"] = described["EndpointStatus"]
            if described["EndpointStatus"] not in WAITING:
                break
            if time.monotonic() - wait_started > ctx["wait_timeout"]:
                raise TargetFailed(f"endpoint still {described['EndpointStatus']} at the wait timeout")
            time.sleep(delay)
            delay = min(delay * 2, 30)
        target["wait_seconds"] = time.monotonic() - wait_started
        if described["EndpointStatus"] != "InService":
            raise TargetFailed(f"endpoint is {described['EndpointStatus']}: {described.get('FailureReason')}")

        config = sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
        variants = []
        for variant in config["ProductionVariants"]:
            model = sm.describe_model(ModelName=variant["ModelName"])
            containers = model.get("Containers") or [model.get("PrimaryContainer", {})]
            variants.append({"variant_name": variant["VariantName"], "model_name": variant["ModelName"],
                             "model_package_names": [c["ModelPackageName"] for c in containers if "ModelPackageName" in c]})
        stale = [v for v in variants if ctx["package"] not in v["model_package_names"]]
        target["model_check"] = {"status": "failed" if stale else "passed",
                                 "expected_model_package": ctx["package"],
                                 "endpoint_config_name": described["EndpointConfigName"], "variants": variants}
        if stale:
            raise TargetFailed(f"variant {stale[0]['variant_name']} does not serve {ctx['package']}")

        target["cases"] = [run_case(runtime, ctx["endpoint"], case, ctx["invocations"]) for case in ctx["cases"]]
        failed = sum(case["status"] != "passed" for case in target["cases"])
        if failed:
            raise TargetFailed(f"{failed} of {len(target['cases'])} payload cases failed")
        target["status"] = "passed"
    except TargetFailed as err:
        target["error"] = str(err)
    except (ClientError, BotoCoreError) as err:
        target["status"], target["error"] = "error", str(err)
    tested = {case["name"] for case in target["cases"]}
    target["cases"] += [{"name": c["name"], "body_file": c["body"], "status": "not_run", "invocations": 0,
                         "succeeded": 0, "duration_seconds": 0, "latency_ms": None,
                         "response_content_type": None, "response_bytes": None, "failures": []}
                        for c in ctx["cases"] if c["name"] not in tested]
    target["duration_seconds"] = time.monotonic() - started
    return target


def junit(report):
    suites = ET.Element("testsuites", tests="0", failures="0", errors="0")
    for target in report["targets"]:
        name = f"{target['endpoint_name']} {target['account_id']} {target['region']}"
        suite = ET.SubElement(suites, "testsuite", name=name, tests=str(len(target["cases"])))
        for case in target["cases"]:
            element = ET.SubElement(suite, "testcase", name=case["name"],
                                    classname=name.replace(" ", "."), time=f"{case['duration_seconds']:.3f}")
            if case["status"] == "failed":
                ET.SubElement(element, "failure", message="; ".join(case["failures"]))
            elif case["status"] == "not_run":
                kind = "error" if target["status"] == "error" else "failure"
                ET.SubElement(element, kind, message=f"not run: {target['error']}")
    for kind in ("tests", "failures", "errors"):
        tag = {"tests": "testcase", "failures": "failure", "errors": "error"}[kind]
        suites.set(kind, str(len(suites.findall(f".//{tag}"))))
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def write_atomically(path, text):
    temp = f"{path}.tmp"
    Path(temp).write_text(text)
    os.replace(temp, path)


def main():
    args = parse_args()
    started_at, started = datetime.now(timezone.utc).isoformat(), time.monotonic()
    params = {p["ParameterKey"]: p["ParameterValue"] for p in json.loads(Path(args.build_config).read_text())}
    endpoint = f"{params['SageMakerProjectName']}-{params['StageName']}"
    role = args.sagemaker_execution_role_name or params["RoleName"]
    try:
        cases = load_cases(args.payloads)
    except (OSError, ValueError, KeyError, re.error) as err:
        sys.exit(f"test_step: bad payloads: {err}")

    sts = boto3.client("sts")
    region = sts.meta.region_name
    partition = sts.get_caller_identity()["Arn"].split(":")[1]
    accounts = active_accounts(boto3.client("organizations"), args.organizational_unit_id)
    if not accounts:
        sys.exit(f"test_step: no ACTIVE accounts under {args.organizational_unit_id}")
    ctx = {"sts": sts, "partition": partition, "role": role, "session": session_name(), "region": region,
           "endpoint": endpoint, "package": params["ModelPackageName"], "cases": cases,
           "invocations": args.invocations, "wait_timeout": args.wait_timeout}
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        targets = list(pool.map(lambda account: test_target(account, ctx), accounts))

    statuses = [t["status"] for t in targets]
    exit_code = 1 if "failed" in statuses else 3 if "error" in statuses else 0
    report = {
        "schema_version": 1, "tool": "test_step.py", "status": "passed" if exit_code == 0 else "failed",
        "exit_code": exit_code, "started_at": started_at, "build_config": args.build_config,
        "stage": params["StageName"], "project_name": params["SageMakerProjectName"], "endpoint_name": endpoint,
        "model_package_name": params["ModelPackageName"], "role_name": role, "session_name": ctx["session"],
        "organizational_unit_id": args.organizational_unit_id, "regions": [region], "payloads": args.payloads,
        "invocations_per_case": args.invocations,
        "summary": {"targets": len(targets), "passed": statuses.count("passed"),
                    "failed": statuses.count("failed"), "errors": statuses.count("error")},
        "targets": targets, "error": None,
        "duration_seconds": time.monotonic() - started,
    }
    write_atomically(args.export_test_results, json.dumps(report, indent=2))
    write_atomically(args.junit_report, junit(report))
    for target in targets:
        print(f"{target['status'].upper()} {target['account_id']} {region}"
              + (f": {target['error']}" if target["error"] else ""))
    summary = report["summary"]
    print(f"Result: {report['status'].upper()} ({summary['targets']} targets: {summary['passed']} passed, "
          f"{summary['failed']} failed, {summary['errors']} errors)")
    sys.exit(exit_code)


if __name__ == "__main__":
    main()
