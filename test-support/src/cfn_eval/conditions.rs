//! The Conditions section: a condition's value, evaluated once, when first needed (`Fn::Equals`,
//! `Fn::Not`, `Fn::And`, `Fn::Or` and `Condition`), with a condition that depends on itself
//! reported as a cycle.

use serde_yaml::Value as Yaml;

use super::error::{malformed, CfnError, Result};
use super::evaluator::Evaluator;
use super::values::{exactly, intrinsic, literal_text, loosely_equal};

impl Evaluator<'_> {
    pub(super) fn condition(&mut self, name: &str, path: &str) -> Result<bool> {
        if let Some(&value) = self.condition_values.get(name) {
            return Ok(value);
        }
        let Some(node) = self.conditions.and_then(|c| c.get(name)) else {
            return Err(CfnError::UnknownCondition {
                path: path.to_owned(),
                name: name.to_owned(),
            });
        };
        self.enter(format!("Condition {name}"), path)?;
        self.condition_depth += 1;
        let value = self.condition_expression(node, &format!("Conditions.{name}"));
        self.condition_depth -= 1;
        self.in_progress.pop();
        let value = value?;
        self.condition_values.insert(name.to_owned(), value);
        Ok(value)
    }

    fn condition_expression(&mut self, node: &Yaml, path: &str) -> Result<bool> {
        let Some((function, argument)) = intrinsic(node, true) else {
            return Err(malformed(
                path,
                "expected Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition",
            ));
        };
        let path = &format!("{path}.{function}");
        match function.as_str() {
            "Condition" => self.condition(literal_text(argument, path)?, path),
            "Fn::Equals" => {
                let [a, b] = self.arguments(argument, path)?;
                Ok(loosely_equal(&a, &b))
            }
            "Fn::Not" => {
                let [inner] = exactly::<1>(argument, path)?;
                Ok(!self.condition_expression(inner, path)?)
            }
            "Fn::And" | "Fn::Or" => {
                let items = argument
                    .as_sequence()
                    .filter(|items| (2..=10).contains(&items.len()));
                let items =
                    items.ok_or_else(|| malformed(path, "expects a list of 2 to 10 conditions"))?;
                let mut values = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    values.push(self.condition_expression(item, &format!("{path}[{index}]"))?);
                }
                let and = function == "Fn::And";
                Ok(if and {
                    values.iter().all(|v| *v)
                } else {
                    values.iter().any(|v| *v)
                })
            }
            _ => Err(malformed(path, "not a condition function")),
        }
    }
}
