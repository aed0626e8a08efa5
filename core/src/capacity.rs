//! Whether a stage's endpoint fits in an account's SageMaker quotas, judged before the deploy:
//! a prod wave that stops on an instance quota leaves the StackSet half applied. Service Quotas
//! names a SageMaker endpoint instance quota `<instance type> for endpoint usage`, and one quota
//! caps the concurrency shared by every serverless endpoint of the account and Region
//! (<https://docs.aws.amazon.com/general/latest/gr/sagemaker.html#limits_sagemaker>). What is in
//! use is what the account's endpoints run now, this project's included: SageMaker provisions an
//! updated endpoint's new fleet before it retires the old one
//! (<https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green.html>), so
//! the stage's instances must fit beside the ones it replaces.

/// What the stage asks for, from its build config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Demand {
    Instances { instance_type: String, count: i64 },
    Serverless { max_concurrency: i64 },
}

impl Demand {
    /// Whether `quota_name` (a Service Quotas QuotaName of service `sagemaker`) is the quota
    /// this demand draws on.
    pub fn quota_matches(&self, quota_name: &str) -> bool {
        let name = quota_name.trim().to_ascii_lowercase();
        match self {
            Demand::Instances { instance_type, .. } => {
                name == format!("{} for endpoint usage", instance_type.to_ascii_lowercase())
            }
            Demand::Serverless { .. } => {
                name.contains("serverless") && name.contains("total concurrency")
            }
        }
    }

    /// What the quota is called in messages.
    pub fn quota_label(&self) -> String {
        match self {
            Demand::Instances { instance_type, .. } => {
                format!("\"{instance_type} for endpoint usage\"")
            }
            Demand::Serverless { .. } => "the total serverless concurrency".to_owned(),
        }
    }

    fn asked(&self) -> i64 {
        match self {
            Demand::Instances { count, .. } => *count,
            Demand::Serverless { max_concurrency } => *max_concurrency,
        }
    }

    fn unit(&self) -> &'static str {
        match self {
            Demand::Instances { .. } => "instance(s)",
            Demand::Serverless { .. } => "concurrent invocation(s)",
        }
    }

    /// The verdict: `Ok` with the figures when `quota` minus `in_use` covers the demand, `Err`
    /// naming the gap and the fix otherwise. `where_` names the account and Region.
    pub fn judge(&self, quota: f64, in_use: i64, where_: &str) -> Result<String, String> {
        let asked = self.asked();
        let unit = self.unit();
        let label = self.quota_label();
        let free = (quota.floor() as i64).saturating_sub(in_use);
        let figures =
            format!("quota {label} is {quota} in {where_}, {in_use} in use, {asked} {unit} asked");
        if free >= asked {
            Ok(figures)
        } else {
            Err(format!(
                "{figures}: {} short; ask for a quota increase in Service Quotas (service sagemaker) or free capacity before the deploy",
                asked - free.max(0)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instance_quota_is_found_by_its_name_and_judged_with_what_is_in_use() {
        let demand = Demand::Instances {
            instance_type: "ml.m5.large".into(),
            count: 2,
        };
        assert!(demand.quota_matches("ml.m5.large for endpoint usage"));
        assert!(!demand.quota_matches("ml.m5.large for training job usage"));
        assert!(!demand.quota_matches("ml.m5.xlarge for endpoint usage"));
        assert_eq!(
            demand.judge(4.0, 2, "account 1 region r"),
            Ok("quota \"ml.m5.large for endpoint usage\" is 4 in account 1 region r, 2 in use, 2 instance(s) asked".into())
        );
        assert_eq!(
            demand.judge(4.0, 3, "account 1 region r").unwrap_err(),
            "quota \"ml.m5.large for endpoint usage\" is 4 in account 1 region r, 3 in use, 2 instance(s) asked: 1 short; ask for a quota increase in Service Quotas (service sagemaker) or free capacity before the deploy"
        );
        assert!(demand.judge(0.0, 5, "a").unwrap_err().contains(": 2 short"));
    }

    #[test]
    fn the_serverless_quota_is_the_total_concurrency_one() {
        let demand = Demand::Serverless {
            max_concurrency: 20,
        };
        assert!(demand.quota_matches(
            "Maximum total concurrency that can be allocated across all serverless endpoints"
        ));
        assert!(!demand.quota_matches("Maximum number of serverless endpoints"));
        assert!(demand.judge(1000.0, 980, "a").is_ok());
        assert!(demand.judge(1000.0, 981, "a").is_err());
    }
}
