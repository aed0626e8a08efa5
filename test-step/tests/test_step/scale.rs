//! Reports that fit CodeBuild at scale: 200 staging accounts with three payload cases each are 600
//! test cases, more than the 500 CodeBuild keeps in one report, so the JUnit report comes as two
//! files, each picked up by its own report group of the shipped test buildspec, and together they
//! hold every case once.
//!
//! The 200 endpoints exist in the emulator (the describe calls and the model check are real), but
//! the fault proxy answers InvokeEndpoint itself: 1,200 invocations one at a time through moto's
//! runtime would only measure moto.

use std::collections::BTreeSet;

use test_support::codebuild::Buildspec;
use test_support::endpoints::STAND_IN_ANSWER;
use test_support::fault_proxy::FaultProxy;
use test_support::moto;
use test_support::seed::Organization;

use crate::{junit, Workspace, REGION};

const TARGETS: usize = 200;

#[tokio::test]
async fn six_hundred_cases_reach_codebuild_in_two_reports() {
    let ws = Workspace::new("scale-junit");
    let org = Organization::get(moto()).await;
    let ou = org.create_ou(&org.root_id, "scale-junit").await;
    let mut seeding = tokio::task::JoinSet::new();
    for n in 0..TARGETS {
        let (org, ou) = (org.clone(), ou.clone());
        let (endpoint, package) = (ws.endpoint(), ws.package.clone());
        seeding.spawn(async move {
            let account = org.create_account(&ou, &format!("scale-junit-{n}")).await;
            test_support::endpoints::deploy_endpoint(moto(), &account, REGION, &endpoint, &package)
                .await;
        });
        if seeding.len() >= 8 {
            seeding.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(done) = seeding.join_next().await {
        done.unwrap();
    }
    // A third case, so that each target has three.
    let manifest = std::fs::read_to_string(ws.file("test/payloads/manifest.json")).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let mut third = manifest["cases"][0].clone();
    third["name"] = "one-row-again".into();
    manifest["cases"].as_array_mut().unwrap().push(third);
    ws.write("test/payloads/manifest.json", manifest.to_string());
    let proxy = FaultProxy::start(moto());
    proxy.stand_in_for_endpoints(STAND_IN_ANSWER);

    let out = ws
        .test_step()
        .env("AWS_ENDPOINT_URL", proxy.url())
        .env("ORGANIZATIONAL_UNIT_ID", &ou)
        .args(["--invocations", "1"])
        .run();
    out.code(0);

    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../test/buildspec.yml");
    let buildspec = Buildspec::read(&shipped).unwrap();
    let reported: Vec<&str> = buildspec
        .reports()
        .values()
        .flat_map(|spec| spec.files.iter().map(String::as_str))
        .collect();
    let mut cases = BTreeSet::new();
    let mut files = Vec::new();
    for name in ["test-results.xml", "test-results-2.xml"] {
        assert!(
            reported.contains(&name),
            "no report group of the buildspec takes {name}"
        );
        let xml = std::fs::read_to_string(ws.file(name)).unwrap();
        let root = junit::parse(&xml).unwrap();
        let mut found = Vec::new();
        root.descendants("testcase", &mut found);
        assert!(found.len() <= 500, "{name} holds {} cases", found.len());
        assert_eq!(root.attr("tests"), found.len().to_string());
        for case in found {
            assert!(
                cases.insert((
                    case.attr("classname").to_owned(),
                    case.attr("name").to_owned()
                )),
                "a case is in two files"
            );
        }
        files.push(name);
    }
    assert_eq!(cases.len(), TARGETS * 3, "every case in one of {files:?}");
    assert!(!ws.file("test-results-3.xml").exists());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.file("test-results.json")).unwrap())
            .unwrap();
    assert_eq!(report["summary"]["passed"], TARGETS);
    assert_eq!(proxy.count("InvokeEndpoint"), TARGETS * 3);
}
