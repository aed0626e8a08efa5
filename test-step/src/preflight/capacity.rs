//! `capacity`: the quota of the endpoint's instance type (or of serverless concurrency) in the
//! target, minus what the account's endpoints already use, covers what the stage asks for.

use deploy_core::capacity::Demand;
use deploy_core::fleet::Check;
use deploy_shell::pages::{all_pages, first_item};
use deploy_shell::AwsCallError;

use super::{TargetRun, CAPACITY};

impl TargetRun<'_> {
    pub(super) async fn capacity(&mut self) -> Check {
        let demand = match &self.preflight.demand {
            Ok(demand) => demand.clone(),
            Err(why) => return Check::skipped(CAPACITY, why.clone()),
        };
        let config = match self.session.config().await {
            Ok(config) => config,
            Err(cause) => return Check::error(CAPACITY, cause.to_string()),
        };
        let quotas = aws_sdk_servicequotas::Client::new(&config);
        let found = first_item("servicequotas:ListServiceQuotas", |token| {
            let request = quotas
                .list_service_quotas()
                .service_code("sagemaker")
                .max_results(100)
                .set_next_token(token);
            let demand = &demand;
            async move {
                let page = request
                    .send()
                    .await
                    .map_err(|e| AwsCallError::new("servicequotas:ListServiceQuotas", e))?;
                let matching = page
                    .quotas()
                    .iter()
                    .filter(|q| q.quota_name().is_some_and(|n| demand.quota_matches(n)))
                    .filter_map(aws_sdk_servicequotas::types::ServiceQuota::value)
                    .collect();
                Ok((matching, page.next_token().map(str::to_owned)))
            }
        })
        .await;
        let quota = match found {
            Ok(Some(quota)) => quota,
            Ok(None) => {
                return Check::skipped(
                    CAPACITY,
                    format!(
                        "Service Quotas lists no quota {} for service sagemaker in {}",
                        demand.quota_label(),
                        self.place
                    ),
                )
            }
            Err(err) => return self.not_run(CAPACITY, &err),
        };
        match self.in_use(&demand).await {
            Ok(in_use) => match demand.judge(quota, in_use, self.place) {
                Ok(figures) => Check::passed(CAPACITY, figures),
                Err(gap) => Check::failed(CAPACITY, gap),
            },
            Err(err) => self.not_run(CAPACITY, &err),
        }
    }

    /// What the account's endpoints in the Region use of the demand's quota now: instances of
    /// its type, or serverless concurrency.
    async fn in_use(&mut self, demand: &Demand) -> Result<i64, AwsCallError> {
        let sagemaker = match self.session.sagemaker().await {
            Ok(client) => client,
            Err(cause) => {
                return Err(AwsCallError::incomplete(
                    "sts:AssumeRole",
                    &cause.to_string(),
                ))
            }
        };
        let names = all_pages("sagemaker:ListEndpoints", |token| {
            let request = sagemaker
                .list_endpoints()
                .max_results(100)
                .set_next_token(token);
            async move {
                let page = request
                    .send()
                    .await
                    .map_err(|e| AwsCallError::new("sagemaker:ListEndpoints", e))?;
                let names = page
                    .endpoints()
                    .iter()
                    .filter_map(|e| e.endpoint_name().map(str::to_owned))
                    .collect();
                Ok((names, page.next_token().map(str::to_owned)))
            }
        })
        .await?;
        let mut in_use = 0i64;
        for name in names {
            let endpoint = sagemaker
                .describe_endpoint()
                .endpoint_name(&name)
                .send()
                .await
                .map_err(|e| AwsCallError::new("sagemaker:DescribeEndpoint", e))?;
            match demand {
                Demand::Serverless { .. } => {
                    in_use += endpoint
                        .production_variants()
                        .iter()
                        .filter_map(|v| v.current_serverless_config()?.max_concurrency())
                        .map(i64::from)
                        .sum::<i64>();
                }
                Demand::Instances { instance_type, .. } => {
                    let Some(config) = endpoint.endpoint_config_name() else {
                        continue;
                    };
                    let described = sagemaker
                        .describe_endpoint_config()
                        .endpoint_config_name(config)
                        .send()
                        .await
                        .map_err(|e| AwsCallError::new("sagemaker:DescribeEndpointConfig", e))?;
                    for variant in described.production_variants() {
                        if variant
                            .instance_type()
                            .map(aws_sdk_sagemaker::types::ProductionVariantInstanceType::as_str)
                            != Some(instance_type.as_str())
                        {
                            continue;
                        }
                        let current = endpoint
                            .production_variants()
                            .iter()
                            .find(|v| v.variant_name() == variant.variant_name())
                            .and_then(aws_sdk_sagemaker::types::ProductionVariantSummary::current_instance_count);
                        in_use +=
                            i64::from(current.or(variant.initial_instance_count()).unwrap_or(0));
                    }
                }
            }
        }
        Ok(in_use)
    }
}
