//! What build-step writes, computed from its checked inputs and a model package: each stage's
//! rendered template and StackSet parameter list, the list validated against the parameters its
//! template declares. The two templates are the same text unless exactly one stage puts its model
//! in a VPC ([`StageContext`]). build-step plans twice: first with a placeholder package, before
//! any AWS call, so that every bad input fails in a second; then with the package it chose.

use thiserror::Error;

use crate::hosting::{self, StageValues};
use crate::model_package::ModelPackage;
use crate::stack_params::ParameterList;
use crate::stage_config::{check_distinct_stages, plan_stage, Derived, StageConfigError};
use crate::stage_config::{StageInput, StagePlan};
use crate::template::{
    DeclaredParameter, PackageContext, ProjectContext, RenderContext, StageContext, Template,
    TemplateError,
};

/// The two stages the pipeline deploys, in deployment order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Staging,
    Prod,
}

impl Stage {
    pub const ALL: [Stage; 2] = [Stage::Staging, Stage::Prod];

    /// How messages and the summary name the stage.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Staging => "staging",
            Stage::Prod => "prod",
        }
    }
}

/// Everything a plan needs besides the template and the package.
#[derive(Debug, Clone)]
pub struct BuildInputs<'a> {
    pub project: ProjectContext<'a>,
    pub artifact_bucket: Option<&'a str>,
    /// What the template's metadata names as its generator (`build-step 0.1.0`).
    pub generator: &'a str,
    pub staging: StageInput<'a>,
    pub prod: StageInput<'a>,
}

impl<'a> BuildInputs<'a> {
    pub fn stage(&self, stage: Stage) -> &StageInput<'a> {
        match stage {
            Stage::Staging => &self.staging,
            Stage::Prod => &self.prod,
        }
    }
}

/// A template rendered for one stage, and the parameters it declares.
#[derive(Debug, Clone)]
pub struct RenderedTemplate {
    pub text: String,
    pub declared: Vec<DeclaredParameter>,
}

/// Both stages' rendered templates and plans.
#[derive(Debug, Clone)]
pub struct Plan {
    pub staging_template: RenderedTemplate,
    pub prod_template: RenderedTemplate,
    pub staging: StagePlan,
    pub prod: StagePlan,
}

/// The parameters a stage's StackSet last deployed (DescribeStackSet's `Parameters`), and what
/// its template declared, when that template could be read.
#[derive(Debug, Clone)]
pub struct DeployedStage {
    pub stage: Stage,
    pub parameters: ParameterList,
    pub declared: Option<Vec<DeclaredParameter>>,
}

/// The name the project template gives the stage's StackSet (its two CloudFormationStackSet
/// actions' `StackSetName`).
pub fn stack_set_name(project: &ProjectContext<'_>, stage: Stage) -> String {
    format!(
        "sagemaker-{}-{}-deploy-{}",
        project.name,
        project.id,
        stage.name()
    )
}

impl Plan {
    pub fn stage(&self, stage: Stage) -> &StagePlan {
        match stage {
            Stage::Staging => &self.staging,
            Stage::Prod => &self.prod,
        }
    }

    pub fn template(&self, stage: Stage) -> &RenderedTemplate {
        match stage {
            Stage::Staging => &self.staging_template,
            Stage::Prod => &self.prod_template,
        }
    }

    /// A warning for each stage whose StackSet update SageMaker would refuse, given what the
    /// StackSet last deployed (see [`hosting::autoscaled_type_change`]).
    pub fn update_warnings(&self, deployed: &[DeployedStage]) -> Vec<String> {
        deployed
            .iter()
            .filter_map(|d| {
                // A value the StackSet left to a default has the deployed template's default.
                let declared = &self.template(d.stage).declared;
                let before = StageValues {
                    set: &d.parameters,
                    declared: d.declared.as_deref().unwrap_or(declared),
                };
                let after = StageValues {
                    set: &self.stage(d.stage).parameters,
                    declared,
                };
                let problem = hosting::autoscaled_type_change(&before, &after)?;
                Some(format!("{}: {problem}", d.stage.name()))
            })
            .collect()
    }

    /// A warning for each stage whose instance type the package does not list among its
    /// supported real-time instance types (a package that lists none is not checked).
    pub fn instance_type_warnings(&self, package: &ModelPackage) -> Vec<String> {
        let supported = &package.realtime_instance_types;
        Stage::ALL
            .into_iter()
            .filter_map(|stage| {
                let instance_type = self.stage(stage).instance_type.as_deref()?;
                (!supported.is_empty() && !supported.iter().any(|t| t == instance_type)).then(|| {
                    format!(
                        "{}: EndpointInstanceType {instance_type} is not among the package's supported real-time instance types ({}); the endpoint may fail to start",
                        stage.name(),
                        supported.join(", ")
                    )
                })
            })
            .collect()
    }
}

/// Why no plan could be made: the template or a stage config is unusable.
#[derive(Debug, Error)]
pub enum PlanError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    StageConfig(#[from] StageConfigError),
}

/// Renders `template` for `package` and each stage, and plans each stage against the parameters
/// its template declares.
pub fn plan(
    template: &Template,
    inputs: &BuildInputs<'_>,
    package: &ModelPackage,
) -> Result<Plan, PlanError> {
    let render = |stage: &StageInput<'_>| -> Result<RenderedTemplate, TemplateError> {
        let context = RenderContext {
            package: PackageContext::new(package),
            project: ProjectContext {
                name: inputs.project.name,
                id: inputs.project.id,
            },
            generator: inputs.generator.to_owned(),
            stage: StageContext {
                in_vpc: hosting::names_a_vpc(stage.config),
            },
        };
        let text = template.render(&context)?;
        let declared = template.declared_parameters(&text)?;
        Ok(RenderedTemplate { text, declared })
    };
    let staging_template = render(&inputs.staging)?;
    let prod_template = render(&inputs.prod)?;
    let derived = Derived {
        project_name: inputs.project.name,
        project_id: inputs.project.id,
        model_package_arn: &package.arn,
        artifact_bucket: inputs.artifact_bucket,
    };
    let staging = plan_stage(&staging_template.declared, &inputs.staging, &derived)?;
    let prod = plan_stage(&prod_template.declared, &inputs.prod, &derived)?;
    check_distinct_stages(&[&staging, &prod])?;
    Ok(Plan {
        staging_template,
        prod_template,
        staging,
        prod,
    })
}
