//! `cargo xtask publish` against the emulator, run as the platform team runs it: the real xtask
//! binary, the emulator reached through `AWS_ENDPOINT_URL` as the binaries reach it. The dry run
//! calls nothing; a run uploads the zip and the edited product template under the version's keys
//! and, for S3 project templates, tags the object, sets Studio's CORS rule and tags the domain; a
//! second run finds the CORS rule and the domain tag already there.

use std::process::{Command, Output};

use test_support::fault_proxy::FaultProxy;
use test_support::moto;
use test_support::seed::{sdk_config, REGION};
use xtask::seed_zip::hex_sha256;

use crate::seed_zip;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn publish(args: &[&str]) -> Output {
    publish_with(moto().env(), args)
}

fn publish_with(env: Vec<(String, String)>, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .envs(env)
        .arg("publish")
        .args(args)
        .output()
        .expect("xtask runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn s3() -> aws_sdk_s3::Client {
    let config = sdk_config(moto(), REGION).await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

async fn object(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetObject {key}: {e:?}"));
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

/// A Studio domain; the emulator takes tags on a domain only when it was created with one.
async fn studio_domain() -> String {
    let sagemaker = aws_sdk_sagemaker::Client::new(&sdk_config(moto(), REGION).await);
    let created = sagemaker
        .create_domain()
        .domain_name("platform-studio")
        .auth_mode(aws_sdk_sagemaker::types::AuthMode::Iam)
        .default_user_settings(
            aws_sdk_sagemaker::types::UserSettings::builder()
                .execution_role("arn:aws:iam::123456789012:role/studio")
                .build(),
        )
        .subnet_ids("subnet-0123456789abcdef0")
        .vpc_id("vpc-0123456789abcdef0")
        .tags(
            aws_sdk_sagemaker::types::Tag::builder()
                .key("team")
                .value("ml-platform")
                .build(),
        )
        .send();
    Box::pin(created)
        .await
        .expect("CreateDomain")
        .domain_arn()
        .and_then(|arn| arn.rsplit('/').next())
        .expect("a domain ARN")
        .to_owned()
}

#[tokio::test]
async fn publish_uploads_the_seed_and_template_and_makes_it_a_studio_template_once() {
    let bucket = "platform-seeds-publish";
    let s3 = s3().await;
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("CreateBucket");
    let domain = Box::pin(studio_domain()).await;
    let zip = seed_zip().display().to_string();
    let zip_name = seed_zip()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let args = [
        "--bucket",
        bucket,
        "--prefix",
        "/products/",
        "--s3-template",
        "--domain-id",
        &domain,
        "--zip",
        &zip,
    ];

    let dry = publish(&[&args[..], &["--dry-run"]].concat());
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let plan = text(&dry.stdout);
    let seed_key = format!("products/{VERSION}/{zip_name}");
    let template_key = format!("products/{VERSION}/sagemaker-project.yml");
    for call in [
        format!("s3:PutObject {seed_key} ("),
        format!("s3:PutObject {template_key} ("),
        format!("s3:PutObjectTagging {template_key} sagemaker:studio-visibility=true"),
        "s3:GetBucketCors, then s3:PutBucketCors".to_owned(),
        format!("sagemaker:DescribeDomain {domain}, sagemaker:ListTags, then sagemaker:AddTags sagemaker:projectS3TemplatesLocation=s3://{bucket}/products/{VERSION}/"),
    ] {
        assert!(plan.contains(&call), "the plan lacks {call:?}:\n{plan}");
    }
    let listed = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0), "a dry run uploads nothing");

    let run = publish(&args);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let out = text(&run.stdout);
    assert!(
        out.contains(&format!("SeedBucket={bucket} SeedKey={seed_key}")),
        "{out}"
    );
    assert!(out.contains("added a CORS rule on"), "{out}");
    assert!(out.contains(&format!("tagged domain {domain} sagemaker:projectS3TemplatesLocation=s3://{bucket}/products/{VERSION}/")), "{out}");
    assert!(
        out.contains(&format!(
            "Studio users of domain {domain} see the project template"
        )),
        "{out}"
    );
    assert_eq!(
        object(&s3, bucket, &seed_key).await,
        std::fs::read(seed_zip()).unwrap()
    );
    let template: serde_yaml::Value =
        serde_yaml::from_slice(&object(&s3, bucket, &template_key).await).unwrap();
    assert_eq!(
        template["Parameters"]["SeedBucket"]["Default"].as_str(),
        Some(bucket)
    );
    assert_eq!(
        template["Parameters"]["SeedKey"]["Default"].as_str(),
        Some(seed_key.as_str())
    );
    let tags = s3
        .get_object_tagging()
        .bucket(bucket)
        .key(&template_key)
        .send()
        .await
        .unwrap();
    let tags: Vec<(&str, &str)> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(tags, [("sagemaker:studio-visibility", "true")]);
    let cors = s3.get_bucket_cors().bucket(bucket).send().await.unwrap();
    assert_eq!(cors.cors_rules().len(), 1);
    assert_eq!(
        cors.cors_rules()[0].allowed_origins(),
        ["https://*.sagemaker.aws"]
    );

    let again = publish(&args);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let out = text(&again.stdout);
    assert!(out.contains("found a CORS rule on"), "{out}");
    assert!(out.contains(&format!("found sagemaker:projectS3TemplatesLocation=s3://{bucket}/products/{VERSION}/ on domain {domain}")), "{out}");
    assert!(
        out.contains(&format!("found s3://{bucket}/{seed_key} (the same ")),
        "{out}"
    );
    let cors = s3.get_bucket_cors().bucket(bucket).send().await.unwrap();
    assert_eq!(cors.cors_rules().len(), 1, "the second run adds no rule");

    // Other bytes under a published version's keys are refused, and nothing is overwritten.
    let other = tempfile::tempdir().unwrap();
    let changed = other.path().join(&zip_name);
    let mut bytes = std::fs::read(seed_zip()).unwrap();
    bytes.extend_from_slice(b"changed");
    std::fs::write(&changed, &bytes).unwrap();
    let changed = changed.display().to_string();
    let mut refused_args = args.to_vec();
    *refused_args.last_mut().unwrap() = &changed;
    let refused = publish(&refused_args);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stdout));
    assert!(
        text(&refused.stderr).contains(&format!(
            "s3://{bucket}/{seed_key} already holds other bytes than this build's"
        )),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(
        object(&s3, bucket, &seed_key).await,
        std::fs::read(seed_zip()).unwrap()
    );
}

#[test]
fn bad_input_exits_2_and_a_failed_call_exits_3_naming_it() {
    let zip = seed_zip().display().to_string();
    let bad = publish(&["--bucket", "Not_A_Bucket", "--zip", &zip]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).starts_with(
        "xtask publish: error: --bucket \"Not_A_Bucket\" is not a bucket publish can use"
    ));
    for (flag, value, message) in [
        (
            "--bucket",
            "seeds.example.com",
            "no dots: the template's https://<bucket>.s3.amazonaws.com URL",
        ),
        ("--prefix", "products/../other", "is not a plain key prefix"),
        ("--prefix", "products/a b", "is not a plain key prefix"),
    ] {
        let mut args = vec!["--bucket", "b-seeds", "--zip", &zip];
        if flag == "--bucket" {
            args[1] = value;
        } else {
            args.extend([flag, value]);
        }
        let out = publish(&args);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        assert!(text(&out.stderr).contains(message), "{}", text(&out.stderr));
    }
    let elsewhere = publish(&["--bucket", "b-seeds", "--zip", "/tmp/some-other.zip"]);
    assert_eq!(elsewhere.status.code(), Some(2));
    assert!(
        text(&elsewhere.stderr).contains("is not this version's seed zip (sagemaker-deploy-seed-")
    );
    let domain_alone = publish(&["--bucket", "b-seeds", "--domain-id", "d-1", "--zip", &zip]);
    assert_eq!(
        domain_alone.status.code(),
        Some(2),
        "--domain-id needs --s3-template"
    );

    let missing = publish(&["--bucket", "no-such-bucket-here", "--zip", &zip]);
    assert_eq!(missing.status.code(), Some(3), "{}", text(&missing.stderr));
    let stderr = text(&missing.stderr);
    assert!(
        stderr.starts_with("xtask publish: error: AWS call s3:PutObject failed with NoSuchBucket"),
        "{stderr}"
    );
}

/// The Service Catalog path: portfolios and products through the emulator, the calls it lacks
/// answered by the fault proxy's stand-in (`test_support::catalog_stand_in`, built from the Service
/// Catalog API reference). The first run creates everything and says so; the second finds
/// everything and writes nothing.
#[tokio::test]
async fn service_catalog_publishing_creates_once_and_a_second_run_writes_nothing() {
    let bucket = "platform-seeds-catalog";
    s3().await
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("CreateBucket");
    let proxy = FaultProxy::start(moto());
    proxy.stand_in_for_service_catalog();
    let zip = seed_zip().display().to_string();
    let launch = "arn:aws:iam::123456789012:role/service-role/AmazonSageMakerServiceCatalogProductsLaunchRole";
    let studio = "arn:aws:iam::123456789012:role/studio-execution";
    let args = [
        "--bucket",
        bucket,
        "--service-catalog",
        "--portfolio",
        "Publish test portfolio",
        "--product",
        "publish-test-product",
        "--launch-role-arn",
        launch,
        "--principal-arn",
        studio,
        "--zip",
        &zip,
    ];

    let dry = publish_with(proxy.env(), &[&args[..], &["--dry-run"]].concat());
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    assert!(text(&dry.stdout).contains("servicecatalog:ListProvisioningArtifacts, then servicecatalog:CreateProvisioningArtifact v"));
    assert_eq!(proxy.count("ListPortfolios"), 0, "a dry run calls nothing");

    let first = publish_with(proxy.env(), &args);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let out = text(&first.stdout);
    for line in [
        "created portfolio Publish test portfolio (".to_owned(),
        "created product publish-test-product (".to_owned(),
        format!(") with artifact v{VERSION}"),
        format!("found artifact v{VERSION} of publish-test-product"),
        "added product publish-test-product to portfolio Publish test portfolio".to_owned(),
        format!("created the launch constraint of publish-test-product ({launch})"),
        format!("added principal {studio} to portfolio Publish test portfolio"),
    ] {
        assert!(out.contains(&line), "the first run lacks {line:?}:\n{out}");
    }
    let writes = proxy.catalog_writes();
    assert_eq!(writes.len(), 5, "{writes:?}");
    assert_eq!(writes[0], "CreatePortfolio Publish test portfolio");
    assert_eq!(writes[1], "CreateProduct publish-test-product");
    assert!(writes[2].starts_with("AssociateProductWithPortfolio "));
    assert_eq!(writes[3], "CreateConstraint LAUNCH");
    assert_eq!(
        writes[4],
        format!("AssociatePrincipalWithPortfolio {studio}")
    );

    let second = publish_with(proxy.env(), &args);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    let out = text(&second.stdout);
    for line in [
        "found portfolio Publish test portfolio (".to_owned(),
        "found product publish-test-product (".to_owned(),
        format!("found artifact v{VERSION} of publish-test-product"),
        "found product publish-test-product in portfolio Publish test portfolio".to_owned(),
        "found the launch constraint of publish-test-product".to_owned(),
        format!("found principal {studio} in portfolio Publish test portfolio"),
    ] {
        assert!(out.contains(&line), "the second run lacks {line:?}:\n{out}");
    }
    assert_eq!(
        proxy.catalog_writes(),
        writes,
        "the second run wrote nothing to the catalog"
    );

    let missing_role = publish(&[
        "--bucket",
        bucket,
        "--service-catalog",
        "--principal-arn",
        studio,
        "--zip",
        &zip,
    ]);
    assert_eq!(
        missing_role.status.code(),
        Some(2),
        "--service-catalog needs --launch-role-arn"
    );
}

/// A product published before, at another version and without the Studio tag: the run finds it,
/// tags it and adds this version's artifact beside the old one.
#[tokio::test]
async fn a_new_version_adds_its_artifact_to_the_product_found_by_name() {
    let bucket = "platform-seeds-next-version";
    s3().await
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("CreateBucket");
    let proxy = FaultProxy::start(moto());
    proxy.stand_in_for_service_catalog();
    let mut config = sdk_config(moto(), REGION).await.into_builder();
    config.set_endpoint_url(Some(proxy.url()));
    let catalog = aws_sdk_servicecatalog::Client::new(&config.build());
    let created = catalog
        .create_product()
        .name("next-version-product")
        .owner("ML platform")
        .product_type(aws_sdk_servicecatalog::types::ProductType::CloudFormationTemplate)
        .provisioning_artifact_parameters(
            aws_sdk_servicecatalog::types::ProvisioningArtifactProperties::builder()
                .name("v0.0.1")
                .info(
                    "LoadTemplateFromURL",
                    "https://example.s3.amazonaws.com/old.yml",
                )
                .build(),
        )
        .idempotency_token("next-version-product-old")
        .send();
    Box::pin(created).await.expect("CreateProduct");
    let zip = seed_zip().display().to_string();
    let run = publish_with(
        proxy.env(),
        &[
            "--bucket",
            bucket,
            "--service-catalog",
            "--portfolio",
            "Next version portfolio",
            "--product",
            "next-version-product",
            "--launch-role-arn",
            "arn:aws:iam::123456789012:role/launch",
            "--principal-arn",
            "arn:aws:iam::123456789012:role/studio",
            "--zip",
            &zip,
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let out = text(&run.stdout);
    assert!(
        out.contains("and tagged it sagemaker:studio-visibility=true"),
        "{out}"
    );
    assert!(
        out.contains(&format!("created artifact v{VERSION} of next-version-product from https://{bucket}.s3.amazonaws.com/sagemaker-deploy-steps/{VERSION}/sagemaker-project.yml")),
        "{out}"
    );
    let writes = proxy.catalog_writes();
    assert!(
        writes.contains(&format!("CreateProvisioningArtifact v{VERSION}")),
        "{writes:?}"
    );
    let products = writes
        .iter()
        .filter(|w| w.starts_with("CreateProduct "))
        .count();
    assert_eq!(
        products, 1,
        "the product was found, not created again: {writes:?}"
    );
}

/// An object planted under this version's zip key before the first run, carrying the `sha256`
/// metadata of this build's zip (the zip is reproducible, so its hash is known in advance) but
/// other bytes of the same length: the run reads the bytes back, refuses with exit 2, and uploads
/// nothing after it.
#[tokio::test]
async fn an_object_claiming_this_builds_sha256_but_holding_other_bytes_is_refused() {
    let bucket = "platform-seeds-planted";
    let s3 = s3().await;
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("CreateBucket");
    let zip = seed_zip().display().to_string();
    let zip_name = seed_zip()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let seed_key = format!("sagemaker-deploy-steps/{VERSION}/{zip_name}");
    let built = std::fs::read(seed_zip()).unwrap();
    let mut planted = built.clone();
    let middle = planted.len() / 2;
    planted[middle] ^= 0xff;
    s3.put_object()
        .bucket(bucket)
        .key(&seed_key)
        .metadata("sha256", hex_sha256(&built))
        .body(aws_sdk_s3::primitives::ByteStream::from(planted.clone()))
        .send()
        .await
        .expect("PutObject");

    let run = publish(&["--bucket", bucket, "--zip", &zip]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{}{stderr}", text(&run.stdout));
    for part in [
        format!("s3://{bucket}/{seed_key} already holds other bytes than this build's"),
        format!(
            "this build: {} bytes, sha256 {}",
            built.len(),
            hex_sha256(&built)
        ),
        format!("sha256 {}", hex_sha256(&planted)),
        "although its sha256 metadata claims this build's hash".to_owned(),
        format!("delete the objects under s3://{bucket}/sagemaker-deploy-steps/{VERSION}/"),
    ] {
        assert!(
            stderr.contains(&part),
            "the refusal lacks {part:?}:\n{stderr}"
        );
    }
    assert_eq!(
        object(&s3, bucket, &seed_key).await,
        planted,
        "the planted object is left as it was"
    );
    let listed = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(
        keys,
        [seed_key.as_str()],
        "nothing was uploaded after the refusal"
    );
}

/// Service Catalog through the proxy's stand-in, with `--service-catalog` and the given launch
/// role; the bucket must exist.
fn publish_to_catalog(
    proxy: &FaultProxy,
    bucket: &str,
    portfolio: &str,
    product: &str,
    launch_role: &str,
) -> Output {
    let zip = seed_zip().display().to_string();
    publish_with(
        proxy.env(),
        &[
            "--bucket",
            bucket,
            "--service-catalog",
            "--portfolio",
            portfolio,
            "--product",
            product,
            "--launch-role-arn",
            launch_role,
            "--principal-arn",
            "arn:aws:iam::123456789012:role/studio",
            "--zip",
            &zip,
        ],
    )
}

/// A product that already has an artifact named for this version, registered with another
/// template URL: the run refuses with exit 2, naming the product, the artifact and both URLs,
/// and writes nothing to the catalog (not even the portfolio it would have created).
#[tokio::test]
async fn an_artifact_of_this_version_with_another_template_url_is_refused() {
    let bucket = "platform-seeds-artifact-url";
    s3().await
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("CreateBucket");
    let proxy = FaultProxy::start(moto());
    proxy.stand_in_for_service_catalog();
    let mut config = sdk_config(moto(), REGION).await.into_builder();
    config.set_endpoint_url(Some(proxy.url()));
    let catalog = aws_sdk_servicecatalog::Client::new(&config.build());
    let elsewhere = "https://someone-elses-bucket.s3.amazonaws.com/sagemaker-project.yml";
    let created = catalog
        .create_product()
        .name("artifact-url-product")
        .owner("ML platform")
        .product_type(aws_sdk_servicecatalog::types::ProductType::CloudFormationTemplate)
        .provisioning_artifact_parameters(
            aws_sdk_servicecatalog::types::ProvisioningArtifactProperties::builder()
                .name(format!("v{VERSION}"))
                .info("LoadTemplateFromURL", elsewhere)
                .build(),
        )
        .idempotency_token("artifact-url-product-planted")
        .send();
    Box::pin(created).await.expect("CreateProduct");
    let before = proxy.catalog_writes();

    let run = publish_to_catalog(
        &proxy,
        bucket,
        "Artifact URL portfolio",
        "artifact-url-product",
        "arn:aws:iam::123456789012:role/launch",
    );
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{}{stderr}", text(&run.stdout));
    let expected = format!(
        "Service Catalog product artifact-url-product already has an artifact v{VERSION} (pa-v{VERSION}) registered with the template URL {elsewhere}, while this run registers the template URL https://{bucket}.s3.amazonaws.com/sagemaker-deploy-steps/{VERSION}/sagemaker-project.yml"
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert_eq!(
        proxy.catalog_writes(),
        before,
        "the refused run wrote nothing to the catalog"
    );
    assert_eq!(proxy.count("CreatePortfolio"), 0);
}

/// A product whose launch constraint names another role than this run's: after a first run with
/// one role, a run naming another is refused with exit 2, naming the constraint and both roles,
/// and writes nothing.
#[tokio::test]
async fn a_launch_constraint_with_another_role_is_refused() {
    let bucket = "platform-seeds-launch-role";
    s3().await
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("CreateBucket");
    let proxy = FaultProxy::start(moto());
    proxy.stand_in_for_service_catalog();
    let portfolio = "Launch role portfolio";
    let product = "launch-role-product";
    let first_role = "arn:aws:iam::123456789012:role/launch-first";
    let other_role = "arn:aws:iam::123456789012:role/launch-other";

    let first = publish_to_catalog(&proxy, bucket, portfolio, product, first_role);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let writes = proxy.catalog_writes();
    assert!(
        writes.contains(&"CreateConstraint LAUNCH".to_owned()),
        "{writes:?}"
    );

    let other = publish_to_catalog(&proxy, bucket, portfolio, product, other_role);
    let stderr = text(&other.stderr);
    assert_eq!(
        other.status.code(),
        Some(2),
        "{}{stderr}",
        text(&other.stdout)
    );
    let expected = format!(
        "Service Catalog product {product} already has a launch constraint (cons-1) in portfolio {portfolio} that launches with the role {first_role}, not with the role {other_role} this run names (--launch-role-arn)"
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(
        stderr.contains("aws servicecatalog delete-constraint --id cons-1"),
        "{stderr}"
    );
    assert_eq!(
        proxy.catalog_writes(),
        writes,
        "the refused run wrote nothing to the catalog"
    );

    let same = publish_to_catalog(&proxy, bucket, portfolio, product, first_role);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same.stderr));
    assert!(
        text(&same.stdout).contains(&format!("found the launch constraint of {product}")),
        "{}",
        text(&same.stdout)
    );
    assert_eq!(
        proxy.catalog_writes(),
        writes,
        "the same role writes nothing"
    );
}
