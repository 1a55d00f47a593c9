//! Request members a service's request type does not name.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The members of a request body that its type does not name: AWS members dynastream does not implement (such as
/// Lambda's `VpcConfig`), kept (`#[serde(flatten)]`) so that a request asking for one is refused by name rather
/// than half-done in silence.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct OtherMembers(BTreeMap<String, serde_json::Value>);

impl OtherMembers {
    /// Why `operation` cannot be done as asked, naming the members that ask for something; an empty value (null,
    /// false, "", [], or an object of empty values, as tools send to clear a setting, e.g. `VpcConfig: {SubnetIds:
    /// [], SecurityGroupIds: [], Ipv6AllowedForDualStack: false}`) asks for nothing.
    pub fn refusal(&self, operation: &str) -> Option<String> {
        let asked: Vec<&str> = self
            .0
            .iter()
            .filter(|(_, value)| !is_empty(value))
            .map(|(name, _)| name.as_str())
            .collect();
        (!asked.is_empty()).then(|| {
            format!(
                "dynastream does not implement {} in {operation}",
                asked.join(", ")
            )
        })
    }
}

fn is_empty(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null | serde_json::Value::Bool(false) => true,
        serde_json::Value::String(s) => s.is_empty(),
        serde_json::Value::Array(items) => items.is_empty(),
        serde_json::Value::Object(members) => members.values().all(is_empty),
        serde_json::Value::Bool(true) | serde_json::Value::Number(_) => false,
    }
}
