//! AWS's generic constraint errors: `1 validation error detected: Value '<v>' at '<path>' failed to satisfy
//! constraint: <c>` (several joined with "; ", at most ten listed).

use crate::edge::AwsError;

/// Table and index names: `[a-zA-Z0-9_.-]+`, 3 to 255 characters.
pub const NAME_PATTERN: &str = "[a-zA-Z0-9_.-]+";

/// Collects constraint violations of one request.
#[derive(Debug, Default)]
pub struct Constraints {
    errors: Vec<String>,
}

impl Constraints {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation; `value` is the offending value as AWS prints it (`None` prints `null`).
    pub fn fail(&mut self, value: Option<&str>, path: &str, constraint: &str) {
        let value = match value {
            Some(v) => format!("'{v}'"),
            None => "null".to_owned(),
        };
        self.errors.push(format!(
            "Value {value} at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A required member.
    pub fn not_null<T>(&mut self, path: &str, value: Option<&T>) {
        if value.is_none() {
            self.fail(None, path, "Member must not be null");
        }
    }

    /// A table or index name: required, pattern, 3 to 255 characters.
    pub fn name(&mut self, path: &str, value: Option<&str>, required: bool) {
        let Some(name) = value else {
            if required {
                self.not_null::<()>(path, None);
            }
            return;
        };
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
            || name.is_empty()
        {
            self.fail(
                Some(name),
                path,
                &format!("Member must satisfy regular expression pattern: {NAME_PATTERN}"),
            );
        }
        self.length(path, name, 3, 255);
    }

    /// A string's length bounds.
    pub fn length(&mut self, path: &str, value: &str, min: usize, max: usize) {
        let len = value.chars().count();
        if len < min {
            self.fail(
                Some(value),
                path,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.fail(
                Some(value),
                path,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// An enumerated value; `allowed` is printed in AWS's declared order.
    pub fn one_of(&mut self, path: &str, value: Option<&str>, allowed: &[&str]) {
        if let Some(value) = value
            && !allowed.contains(&value)
        {
            self.fail(
                Some(value),
                path,
                &format!("Member must satisfy enum value set: [{}]", allowed.join(", ")),
            );
        }
    }

    /// A number's lower bound.
    pub fn at_least(&mut self, path: &str, value: Option<i64>, min: i64) {
        if let Some(value) = value
            && value < min
        {
            self.fail(
                Some(&value.to_string()),
                path,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
    }

    /// A number's upper bound.
    pub fn at_most(&mut self, path: &str, value: Option<i64>, max: i64) {
        if let Some(value) = value
            && value > max
        {
            self.fail(
                Some(&value.to_string()),
                path,
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    /// A ValidationException listing the violations, if there are any.
    pub fn finish(self) -> Result<(), AwsError> {
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(AwsError::validation(format!(
                "1 validation error detected: {}",
                self.errors[0]
            ))),
            n => Err(AwsError::validation(format!(
                "{n} validation errors detected: {}",
                self.errors
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            ))),
        }
    }
}

/// AWS's enumerations, in the order AWS prints them.
pub mod enums {
    /// ReturnConsumedCapacity.
    pub const RETURN_CONSUMED_CAPACITY: &[&str] = &["INDEXES", "TOTAL", "NONE"];
    /// ReturnValues.
    pub const RETURN_VALUES: &[&str] = &["ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"];
    /// ReturnItemCollectionMetrics.
    pub const RETURN_ITEM_COLLECTION_METRICS: &[&str] = &["SIZE", "NONE"];
    /// ReturnValuesOnConditionCheckFailure.
    pub const RETURN_VALUES_ON_CONDITION_CHECK_FAILURE: &[&str] = &["ALL_OLD", "NONE"];
    /// ConditionalOperator.
    pub const CONDITIONAL_OPERATOR: &[&str] = &["AND", "OR"];
    /// KeyType.
    pub const KEY_TYPE: &[&str] = &["HASH", "RANGE"];
    /// ScalarAttributeType.
    pub const SCALAR_ATTRIBUTE_TYPE: &[&str] = &["B", "N", "S"];
    /// BillingMode.
    pub const BILLING_MODE: &[&str] = &["PROVISIONED", "PAY_PER_REQUEST"];
    /// StreamViewType.
    pub const STREAM_VIEW_TYPE: &[&str] = &["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"];
    /// ProjectionType.
    pub const PROJECTION_TYPE: &[&str] = &["ALL", "KEYS_ONLY", "INCLUDE"];
    /// TableClass.
    pub const TABLE_CLASS: &[&str] = &["STANDARD", "STANDARD_INFREQUENT_ACCESS"];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_violation_is_singular() {
        let mut c = Constraints::new();
        c.name("tableName", None, true);
        assert_eq!(
            c.finish().unwrap_err().message(),
            Some(
                "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"
            )
        );
    }

    #[test]
    fn short_name_with_bad_characters_gives_two_violations() {
        let mut c = Constraints::new();
        c.name("tableName", Some("a;"), true);
        let err = c.finish().unwrap_err();
        assert_eq!(
            err.message(),
            Some(
                "2 validation errors detected: Value 'a;' at 'tableName' failed to satisfy constraint: Member must \
                 satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'tableName' failed to satisfy \
                 constraint: Member must have length greater than or equal to 3"
            )
        );
    }
}
