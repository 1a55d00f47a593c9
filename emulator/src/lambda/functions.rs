//! Functions as stored: configuration and code of `$LATEST` and of each published version, reserved
//! concurrency, per account and region; and the resolution of the many ways a caller names a function.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use bytes::Bytes;
use parking_lot::RwLock;

use super::{error::LambdaError, wire::FunctionConfiguration};

/// The version name of the unpublished, editable function.
pub const LATEST: &str = "$LATEST";

/// A function's deployment package.
#[derive(Debug)]
pub struct Code {
    /// The zip archive as uploaded.
    pub zip: Bytes,
    /// Base64 of the SHA-256 of the zip (`CodeSha256`).
    pub sha256: String,
    /// Length of the zip (`CodeSize`).
    pub size: u64,
}

impl Code {
    /// Code from zip bytes, with AWS's `CodeSha256` and `CodeSize`.
    pub fn from_zip(zip: Bytes) -> Self {
        use base64::Engine;
        use sha2::{Digest, Sha256};
        let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&zip));
        Self { size: zip.len() as u64, sha256, zip }
    }
}

/// `$LATEST` or a published version: what an invocation runs.
#[derive(Clone, Debug)]
pub struct Deployment {
    /// Its configuration (`Version` says which one it is).
    pub config: FunctionConfiguration,
    /// Its code.
    pub code: Arc<Code>,
}

/// Everything about a function that changes.
#[derive(Debug)]
pub struct FunctionState {
    /// The editable function.
    pub latest: Deployment,
    /// Published versions by number.
    pub versions: BTreeMap<u64, Deployment>,
    /// The number the next PublishVersion takes.
    pub next_version: u64,
    /// PutFunctionConcurrency's setting.
    pub reserved_concurrency: Option<u32>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// A Lambda function.
#[derive(Debug)]
pub struct Function {
    /// Function name.
    pub name: String,
    /// Unqualified ARN `arn:aws:lambda:<region>:<account>:function:<name>`.
    pub arn: String,
    /// Account and region it lives in.
    pub account: String,
    /// Region it lives in.
    pub region: String,
    state: RwLock<FunctionState>,
}

impl Function {
    /// A new function.
    pub fn new(account: &str, region: &str, name: &str, state: FunctionState) -> Self {
        Self {
            name: name.to_owned(),
            arn: function_arn(region, account, name),
            account: account.to_owned(),
            region: region.to_owned(),
            state: RwLock::new(state),
        }
    }

    /// Reads the function's state.
    pub fn read<R>(&self, f: impl FnOnce(&FunctionState) -> R) -> R {
        f(&self.state.read())
    }

    /// Changes the function's state.
    pub fn write<R>(&self, f: impl FnOnce(&mut FunctionState) -> R) -> R {
        f(&mut self.state.write())
    }

    /// The deployment a qualifier names: `$LATEST` (or none) or a version number.
    pub fn deployment(&self, qualifier: Option<&str>) -> Option<Deployment> {
        let state = self.state.read();
        match qualifier {
            None | Some(LATEST) => Some(state.latest.clone()),
            Some(version) => version.parse::<u64>().ok().and_then(|n| state.versions.get(&n).cloned()),
        }
    }
}

/// `arn:aws:lambda:<region>:<account>:function:<name>`.
pub fn function_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}")
}

/// The functions of one account and region.
#[derive(Debug, Default)]
pub struct RegionFunctions {
    functions: RwLock<BTreeMap<String, Arc<Function>>>,
}

impl RegionFunctions {
    /// The function called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Function>> {
        self.functions.read().get(name).cloned()
    }

    /// Adds a function unless one of that name exists; returns whether it was added.
    pub fn insert(&self, function: Arc<Function>) -> bool {
        let mut functions = self.functions.write();
        if functions.contains_key(&function.name) {
            return false;
        }
        functions.insert(function.name.clone(), function);
        true
    }

    /// Removes the function called `name`.
    pub fn remove(&self, name: &str) -> Option<Arc<Function>> {
        self.functions.write().remove(name)
    }

    /// All functions, in name order.
    pub fn list(&self) -> Vec<Arc<Function>> {
        self.functions.read().values().cloned().collect()
    }
}

/// All functions of the emulator, per account and region.
#[derive(Debug, Default)]
pub struct FunctionStore {
    regions: RwLock<HashMap<(String, String), Arc<RegionFunctions>>>,
}

impl FunctionStore {
    /// The functions of `account` in `region`.
    pub fn region(&self, account: &str, region: &str) -> Arc<RegionFunctions> {
        let key = (account.to_owned(), region.to_owned());
        if let Some(found) = self.regions.read().get(&key) {
            return found.clone();
        }
        self.regions.write().entry(key).or_default().clone()
    }
}

/// A function reference as callers write it: a name, `name:qualifier`, a partial ARN
/// (`<account>:function:<name>[:qualifier]`) or a full ARN, split into (account if given, name, qualifier).
pub fn parse_function_name(reference: &str) -> Result<(Option<&str>, &str, Option<&str>), LambdaError> {
    let parts: Vec<&str> = reference.split(':').collect();
    let (account, name, qualifier) = match parts.as_slice() {
        [name] => (None, *name, None),
        [name, qualifier] => (None, *name, Some(*qualifier)),
        [account, "function", name] => (Some(*account), *name, None),
        [account, "function", name, qualifier] => (Some(*account), *name, Some(*qualifier)),
        ["arn", _, "lambda", _, account, "function", name] => (Some(*account), *name, None),
        ["arn", _, "lambda", _, account, "function", name, qualifier] => (Some(*account), *name, Some(*qualifier)),
        _ => {
            return Err(LambdaError::validation(format!(
                "1 validation error detected: Value '{reference}' at 'functionName' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
            )));
        }
    };
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return Err(LambdaError::validation(format!(
            "1 validation error detected: Value '{reference}' at 'functionName' failed to satisfy constraint: Member \
             must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
        )));
    }
    Ok((account, name, qualifier))
}

/// `LastModified` in AWS's format: `2026-11-24T12:00:00.000+0000`.
pub fn last_modified_now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_references_parse_in_every_form() {
        assert_eq!(parse_function_name("f").unwrap(), (None, "f", None));
        assert_eq!(parse_function_name("f:1").unwrap(), (None, "f", Some("1")));
        assert_eq!(parse_function_name("000000000000:function:f").unwrap(), (Some("000000000000"), "f", None));
        assert_eq!(
            parse_function_name("arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST").unwrap(),
            (Some("000000000000"), "f", Some("$LATEST"))
        );
        assert!(parse_function_name("a:b:c:d:e").is_err());
        assert!(parse_function_name("bad name").is_err());
    }

    #[test]
    fn code_sha256_is_base64_of_the_zip_digest() {
        let code = Code::from_zip(Bytes::from_static(b"abc"));
        assert_eq!(code.sha256, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
        assert_eq!(code.size, 3);
    }
}
