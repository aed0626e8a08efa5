//! Service Quotas' SageMaker quotas, which the emulator (moto 5.2.1) lacks (it answers
//! ListServiceQuotas for `sagemaker` with HTTP 500), answered by the fault proxy as the Service
//! Quotas API reference documents them. The requests are awsJson1.1
//! (`X-Amz-Target: ServiceQuotasV20190624.<operation>`):
//!
//! - ListServiceQuotas `{"ServiceCode", "NextToken"?, "MaxResults"?}` answers
//!   `{"Quotas": [...], "NextToken"?}`, at most `MaxResults` (1 to 100, default 100) quotas a page
//!   and a `NextToken` while more are left; a token this stand-in did not give is an
//!   `InvalidPaginationTokenException`, a `MaxResults` out of range an `IllegalArgumentException`
//!   (<https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_ListServiceQuotas.html>).
//! - GetServiceQuota `{"ServiceCode", "QuotaCode"}` answers `{"Quota": {...}}`, or a
//!   `NoSuchResourceException` for a code the account and Region do not have
//!   (<https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetServiceQuota.html>).
//!
//! Each quota carries the members of the `ServiceQuota` shape a client reads: `ServiceCode`
//! (`sagemaker`), `ServiceName`, `QuotaArn` (`arn:aws:servicequotas:<region>:<account>:sagemaker/<code>`),
//! `QuotaCode`, `QuotaName`, `Value`, `Unit` (`None`), `Adjustable` and `GlobalQuota` (`false`)
//! (<https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_ServiceQuota.html>).
//! Errors are HTTP 400 with `__type` and `message`, as every awsJson error.
//!
//! Quotas are per account (the request's, as the proxy reads it from the access key) and Region
//! (the SigV4 credential scope's). Every account and Region has the [`default_quotas`]: for each
//! of [`INSTANCE_TYPES`], one quota per use, named as AWS names SageMaker's quotas
//! (`"ml.m5.large for endpoint usage"`, `"... for training job usage"`...), all
//! [`INSTANCE_QUOTA`], and [`SERVERLESS_CONCURRENCY`], [`SERVERLESS_CONCURRENCY_QUOTA`]; more than
//! one default page, so a client that does not follow `NextToken` misses some. A test changes or
//! adds one with [`FaultProxy::set_service_quota`](crate::fault_proxy::FaultProxy::set_service_quota).
//! The names follow AWS's list of SageMaker quotas
//! (<https://docs.aws.amazon.com/general/latest/gr/sagemaker.html>); the values and the quota
//! codes are made up: a code is `L-` and 8 hex digits of a hash of the name, stable from run to
//! run, so a test can compute it with [`quota_code`]. Applied values and defaults are one here
//! (ListAWSDefaultServiceQuotas is not stood in for). Other services' quotas, and the other
//! operations, go on to the emulator.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use super::StandIn;
use crate::fault_proxy::http::{Request, Response};
use crate::fault_proxy::protocol::{answer_json, Call};

/// The service code whose quotas the stand-in holds.
pub(crate) const SERVICE_CODE: &str = "sagemaker";

/// The `ServiceName` of its quotas.
pub(crate) const SERVICE_NAME: &str = "Amazon SageMaker";

/// The instance types that have a default quota for each use in [`INSTANCE_USES`].
pub(crate) const INSTANCE_TYPES: [&str; 25] = [
    "ml.t2.medium",
    "ml.t2.large",
    "ml.t2.xlarge",
    "ml.m5.large",
    "ml.m5.xlarge",
    "ml.m5.2xlarge",
    "ml.m5.4xlarge",
    "ml.m5.12xlarge",
    "ml.m5.24xlarge",
    "ml.c5.large",
    "ml.c5.xlarge",
    "ml.c5.2xlarge",
    "ml.c5.4xlarge",
    "ml.c5.9xlarge",
    "ml.c5.18xlarge",
    "ml.r5.large",
    "ml.r5.xlarge",
    "ml.r5.2xlarge",
    "ml.g4dn.xlarge",
    "ml.g4dn.2xlarge",
    "ml.g5.xlarge",
    "ml.g5.2xlarge",
    "ml.g5.12xlarge",
    "ml.p3.2xlarge",
    "ml.inf2.xlarge",
];

/// The uses an instance quota is named after: `"<instance type> for <use>"`.
pub(crate) const INSTANCE_USES: [&str; 5] = [
    "endpoint usage",
    "training job usage",
    "spot training job usage",
    "processing job usage",
    "transform job usage",
];

/// The default value of every per-instance-type quota.
pub(crate) const INSTANCE_QUOTA: f64 = 4.0;

/// The name of the serverless endpoints' shared concurrency quota.
pub(crate) const SERVERLESS_CONCURRENCY: &str =
    "Maximum total concurrency that can be allocated across all serverless endpoints";

/// Its default value.
pub(crate) const SERVERLESS_CONCURRENCY_QUOTA: f64 = 1000.0;

/// The most quotas a ListServiceQuotas page holds, and the default `MaxResults`.
pub(crate) const MAX_RESULTS: usize = 100;

/// The operations the stand-in answers (for [`SERVICE_CODE`] only).
pub(crate) const STOOD_IN: [&str; 2] = ["ListServiceQuotas", "GetServiceQuota"];

/// Every account's and Region's quotas before a test sets one: (name, value), in the order they
/// are listed.
pub(crate) fn default_quotas() -> Vec<(String, f64)> {
    let instances = INSTANCE_USES.iter().flat_map(|usage| {
        let named = move |instance: &&str| (format!("{instance} for {usage}"), INSTANCE_QUOTA);
        INSTANCE_TYPES.iter().map(named)
    });
    let serverless = (
        SERVERLESS_CONCURRENCY.to_owned(),
        SERVERLESS_CONCURRENCY_QUOTA,
    );
    instances.chain([serverless]).collect()
}

/// The quota code the stand-in gives `quota_name`: `L-` and the 32-bit FNV-1a hash of the name in
/// 8 uppercase hex digits.
pub(crate) fn quota_code(quota_name: &str) -> String {
    let hash = quota_name.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    format!("L-{hash:08X}")
}

/// The values tests set, over the defaults.
#[derive(Debug, Default)]
pub(crate) struct QuotaStandIn {
    /// (account, Region) -> quota name -> value.
    set: HashMap<(String, String), BTreeMap<String, f64>>,
}

fn error(code: &str, message: &str) -> (u16, Value) {
    (400, json!({"__type": code, "message": message}))
}

impl QuotaStandIn {
    /// Sets `quota_name` to `value` in `account` and `region` (a name that is not a default is
    /// added after the defaults).
    pub(crate) fn set(&mut self, account: &str, region: &str, quota_name: &str, value: f64) {
        let key = (account.to_owned(), region.to_owned());
        let quotas = self.set.entry(key).or_default();
        quotas.insert(quota_name.to_owned(), value);
    }

    /// The quotas of `account` in `region`: the defaults with the values set, then the names set
    /// that are no default, by name.
    fn quotas(&self, account: &str, region: &str) -> Vec<(String, f64)> {
        let key = (account.to_owned(), region.to_owned());
        let set = self.set.get(&key).cloned().unwrap_or_default();
        let mut quotas = default_quotas();
        for (name, value) in &mut quotas {
            if let Some(set) = set.get(name) {
                *value = *set;
            }
        }
        let added: Vec<_> = set
            .into_iter()
            .filter(|(name, _)| !quotas.iter().any(|(default, _)| default == name))
            .collect();
        quotas.extend(added);
        quotas
    }

    /// The answer to `operation` with awsJson `body`, asked in `account` and `region`; `None`
    /// when it is not one the stand-in answers.
    fn answer(
        &self,
        operation: &str,
        account: &str,
        region: &str,
        body: &Value,
    ) -> Option<(u16, Value)> {
        if !STOOD_IN.contains(&operation) || body["ServiceCode"] != SERVICE_CODE {
            return None;
        }
        let quota = |(name, value): &(String, f64)| {
            let code = quota_code(name);
            json!({
                "ServiceCode": SERVICE_CODE,
                "ServiceName": SERVICE_NAME,
                "QuotaArn": format!("arn:aws:servicequotas:{region}:{account}:{SERVICE_CODE}/{code}"),
                "QuotaCode": code,
                "QuotaName": name,
                "Value": value,
                "Unit": "None",
                "Adjustable": true,
                "GlobalQuota": false,
            })
        };
        let quotas = self.quotas(account, region);
        if operation == "GetServiceQuota" {
            let code = body["QuotaCode"].as_str().unwrap_or_default();
            let found = quotas.iter().find(|(name, _)| quota_code(name) == code);
            return Some(match found {
                Some(found) => (200, json!({"Quota": quota(found)})),
                None => error(
                    "NoSuchResourceException",
                    &format!("The request failed because the specified quota {code} does not exist for {SERVICE_CODE} in {region}."),
                ),
            });
        }
        let max = match &body["MaxResults"] {
            Value::Null => MAX_RESULTS,
            max => match max.as_u64().and_then(|m| usize::try_from(m).ok()) {
                Some(max @ 1..=MAX_RESULTS) => max,
                _ => {
                    return Some(error(
                        "IllegalArgumentException",
                        &format!("MaxResults must be between 1 and {MAX_RESULTS}, not {max}"),
                    ))
                }
            },
        };
        let start = match &body["NextToken"] {
            Value::Null => 0,
            token => match page_start(token.as_str().unwrap_or_default(), quotas.len()) {
                Some(start) => start,
                None => {
                    return Some(error(
                        "InvalidPaginationTokenException",
                        &format!("Invalid pagination token {token}"),
                    ))
                }
            },
        };
        let end = quotas.len().min(start + max);
        let mut answer =
            json!({"Quotas": quotas[start..end].iter().map(quota).collect::<Vec<_>>()});
        if end < quotas.len() {
            answer["NextToken"] = json!(format!("{PAGE_TOKEN}{end}"));
        }
        Some((200, answer))
    }
}

/// What a NextToken starts with; the index of the page's first quota follows.
const PAGE_TOKEN: &str = "fault-proxy-quotas-";

/// The first quota of the page `token` asks for, when it is a token this stand-in gave.
fn page_start(token: &str, len: usize) -> Option<usize> {
    let start = token.strip_prefix(PAGE_TOKEN)?.parse().ok()?;
    (1..len).contains(&start).then_some(start)
}

/// Service Quotas' awsJson calls (`ServiceQuotasV20190624.<operation>`): ListServiceQuotas and
/// GetServiceQuota for SageMaker answered.
impl StandIn for QuotaStandIn {
    fn answer(&mut self, call: &Call, request: &Request, account: &str) -> Option<Response> {
        let service = call.json_service().unwrap_or_default();
        if !service.starts_with("ServiceQuotas") {
            return None;
        }
        let (_, region) = request.credential_scope();
        answer_json(request, |body| {
            QuotaStandIn::answer(self, &call.operation, account, &region, body)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_span_two_pages_and_their_codes_are_distinct_and_stable() {
        let defaults = default_quotas();
        assert!(defaults.len() > MAX_RESULTS, "{}", defaults.len());
        let names = ["ml.m5.large", "ml.m5.xlarge", "ml.c5.large", "ml.g5.xlarge"];
        for name in names {
            let endpoint = format!("{name} for endpoint usage");
            assert!(defaults.contains(&(endpoint, 4.0)), "{name}");
        }
        assert!(defaults.contains(&(SERVERLESS_CONCURRENCY.to_owned(), 1000.0)));
        let mut codes: Vec<String> = defaults.iter().map(|(n, _)| quota_code(n)).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), defaults.len());
        // FNV-1a of the empty name is the offset basis: the hash is the documented one.
        assert_eq!(quota_code(""), "L-811C9DC5");
        assert_eq!(quota_code("a"), "L-E40C292C");
    }

    #[test]
    fn a_set_value_replaces_the_default_in_its_account_and_region_only() {
        let mut stand_in = QuotaStandIn::default();
        let name = "ml.m5.large for endpoint usage";
        stand_in.set("111111111111", "eu-west-1", name, 0.0);
        stand_in.set("111111111111", "eu-west-1", "A new quota", 7.0);
        let value = |account, region, name: &str| {
            let quotas = stand_in.quotas(account, region);
            quotas.into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
        };
        assert_eq!(value("111111111111", "eu-west-1", name), Some(0.0));
        assert_eq!(value("111111111111", "us-east-1", name), Some(4.0));
        assert_eq!(value("222222222222", "eu-west-1", name), Some(4.0));
        assert_eq!(value("111111111111", "eu-west-1", "A new quota"), Some(7.0));
        let all = stand_in.quotas("111111111111", "eu-west-1");
        assert_eq!(all.len(), default_quotas().len() + 1);
        assert_eq!(all.last().unwrap().0, "A new quota");
    }

    #[test]
    fn bad_page_sizes_and_tokens_and_unknown_codes_are_the_modeled_errors() {
        let stand_in = QuotaStandIn::default();
        let ask = |operation, body: Value| {
            stand_in
                .answer(operation, "111111111111", "us-east-1", &body)
                .unwrap()
        };
        let list = "ListServiceQuotas";
        for max in [json!(0), json!(101), json!("x")] {
            let (status, body) = ask(list, json!({"ServiceCode": "sagemaker", "MaxResults": max}));
            assert_eq!(
                (status, &body["__type"]),
                (400, &json!("IllegalArgumentException"))
            );
        }
        for token in ["x", "fault-proxy-quotas-0", "fault-proxy-quotas-100000"] {
            let (status, body) = ask(
                list,
                json!({"ServiceCode": "sagemaker", "NextToken": token}),
            );
            assert_eq!(
                (status, &body["__type"]),
                (400, &json!("InvalidPaginationTokenException"))
            );
        }
        let get = json!({"ServiceCode": "sagemaker", "QuotaCode": "L-00000000"});
        let (status, body) = ask("GetServiceQuota", get);
        assert_eq!(
            (status, &body["__type"]),
            (400, &json!("NoSuchResourceException"))
        );
        let other = json!({"ServiceCode": "vpc"});
        assert_eq!(stand_in.answer(list, "1", "us-east-1", &other), None);
        let sagemaker = json!({"ServiceCode": "sagemaker"});
        let defaults = "ListAWSDefaultServiceQuotas";
        assert_eq!(
            stand_in.answer(defaults, "1", "us-east-1", &sagemaker),
            None
        );
    }
}
