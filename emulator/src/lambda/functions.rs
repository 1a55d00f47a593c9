//! Functions as stored: configuration and code of `$LATEST` and of each published version, reserved
//! concurrency, per account and region; the resolution of the many ways a caller names a function; and the
//! checks Lambda applies to what a function is made of (runtimes, roles, environment variables, zips), with
//! AWS's texts.

use std::{
    collections::{BTreeMap, HashMap},
    io::Cursor,
    sync::Arc,
};

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};

use super::{error::LambdaError, wire::FunctionConfiguration};

/// The version name of the unpublished, editable function.
pub const LATEST: &str = "$LATEST";

/// Largest zip accepted in a request (`Zipped size must be smaller than ...`).
pub const MAX_ZIPPED_BYTES: usize = 52_428_800;
/// Largest unzipped deployment package.
pub const MAX_UNZIPPED_BYTES: u64 = 262_144_000;
/// Largest environment, measured as the compact JSON of the variables.
pub const MAX_ENVIRONMENT_BYTES: usize = 4096;
/// Most tags on one function or event source mapping.
pub const MAX_TAGS: usize = 50;
/// Most layers on one function.
pub const MAX_LAYERS: usize = 5;

/// AWS's error for a resource given more than [`MAX_TAGS`] tags.
pub fn check_tag_count(tags: &BTreeMap<String, String>) -> Result<(), LambdaError> {
    if tags.len() > MAX_TAGS {
        return Err(LambdaError::invalid_parameter(
            "Number of tags exceeds resource tag limit.",
        ));
    }
    Ok(())
}

/// `StateReason` while a function is being created (and `LastUpdateStatusReason` while it is updated).
pub const CREATING_REASON: &str = "The function is being created.";
/// What `unzip` failures say.
pub const UNZIP_FAILED: &str =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";

/// The `functionName` pattern of operations that take a `NamespacedFunctionName` (GetFunction, DeleteFunction,
/// Invoke, ListVersionsByFunction), as AWS prints it in validation messages.
pub const NAMESPACED_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";
/// The `functionName` pattern of operations that take a `FunctionName` (CreateFunction, the updates,
/// PublishVersion, the concurrency operations).
pub const FUNCTION_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?";
/// The `qualifier` pattern.
pub const QUALIFIER_PATTERN: &str = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+";
/// DeadLetterConfig.TargetArn's and KMSKeyArn's pattern: any ARN, or nothing.
pub const OPTIONAL_ARN_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()";
/// The `role` pattern.
pub const ROLE_PATTERN: &str = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+";

/// The runtimes AWS accepts for new functions, in the order AWS lists them in its enum message.
// NB: the order is AWS's own (a hash set's), as recorded against AWS in LocalStack's
// `test_lambda_api.snapshot.json` (`test_create_lambda_exceptions`).
pub const VALID_RUNTIMES: &str = "[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, \
nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, \
nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]";

/// Runtime names a function can be created with: AWS's current list, plus `ruby4.0` (newer than the recorded
/// list) and `nodejs12.x`/`nodejs14.x`.
// NB: AWS refuses nodejs12.x and nodejs14.x for new functions since 2023/2024; dynastream keeps accepting them
// so that older guides and examples still run. Whether a runtime can actually run here is
// `Lambda::runtime_problem`'s call.
const ACCEPTED_RUNTIMES: &[&str] = &[
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "python3.8",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "java8.al2",
    "java11",
    "java17",
    "java21",
    "java25",
    "dotnet6",
    "dotnet8",
    "dotnet10",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "ruby4.0",
    "provided.al2",
    "provided.al2023",
];

/// Runtime names AWS knows (its API enum) but no longer accepts for creating or updating functions.
const DEPRECATED_RUNTIMES: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs4.3-edge",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "java8",
    "python2.7",
    "python3.6",
    "python3.7",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "provided",
];

/// Environment variable names the Lambda runtime sets itself, which a function may not set.
pub const RESERVED_ENVIRONMENT_KEYS: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

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
        Self {
            size: zip.len() as u64,
            sha256,
            zip,
        }
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

/// What `$LATEST` looked like when a version was last published from it.
#[derive(Clone, Debug)]
struct Published {
    version: u64,
    fingerprint: String,
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
    /// Only touched while `state` is write-locked (lock order: `state`, then this).
    published: Mutex<Option<Published>>,
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
            published: Mutex::new(None),
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
            Some(version) => parse_version(version).and_then(|n| state.versions.get(&n).cloned()),
        }
    }

    /// Publishes `$LATEST` as a new version, unless nothing changed since the last published version still
    /// there, which is then returned instead (AWS's behaviour). `make` builds the new version's configuration
    /// from `$LATEST` and the version number. Returns the version and whether it is new.
    pub fn publish(
        &self,
        state: &mut FunctionState,
        make: impl FnOnce(&Deployment, u64) -> Deployment,
    ) -> (Deployment, bool) {
        let fingerprint = fingerprint(&state.latest);
        let mut published = self.published.lock();
        if let Some(last) = published.as_ref()
            && last.fingerprint == fingerprint
            && let Some(existing) = state.versions.get(&last.version)
        {
            return (existing.clone(), false);
        }
        let number = state.next_version;
        let version = make(&state.latest, number);
        state.versions.insert(number, version.clone());
        state.next_version = number + 1;
        *published = Some(Published {
            version: number,
            fingerprint,
        });
        (version, true)
    }
}

/// What makes two `$LATEST` deployments publish the same version: code and configuration, without the
/// members that change on their own (revision, timestamps, states).
fn fingerprint(deployment: &Deployment) -> String {
    let mut config = deployment.config.clone();
    config.revision_id.clear();
    config.last_modified.clear();
    config.state.clear();
    config.state_reason = None;
    config.state_reason_code = None;
    config.last_update_status = None;
    config.last_update_status_reason = None;
    config.last_update_status_reason_code = None;
    format!(
        "{}|{}",
        deployment.code.sha256,
        serde_json::to_string(&config).unwrap_or_default()
    )
}

/// A published version number (`1`, `2`, ...), if `qualifier` is one.
pub fn parse_version(qualifier: &str) -> Option<u64> {
    if qualifier.is_empty() || !qualifier.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    qualifier.parse().ok()
}

/// `arn:aws:lambda:<region>:<account>:function:<name>`.
pub fn function_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}")
}

/// The function ARN, qualified when a qualifier is given.
pub fn qualified_arn(region: &str, account: &str, name: &str, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(qualifier) => format!("{}:{qualifier}", function_arn(region, account, name)),
        None => function_arn(region, account, name),
    }
}

/// `Function not found: <arn>`, AWS's 404 for a missing function or version.
pub fn function_not_found(region: &str, account: &str, name: &str, qualifier: Option<&str>) -> LambdaError {
    LambdaError::not_found(format!(
        "Function not found: {}",
        qualified_arn(region, account, name, qualifier)
    ))
}

/// The emulator's path serving a deployment's zip (GetFunction's `Code.Location`, and the agents' download).
pub fn code_path(account: &str, region: &str, function: &str, version: &str) -> String {
    format!("/_dynastream/lambda/code/{account}/{region}/{function}/{version}")
}

/// `RuntimeVersionConfig.RuntimeVersionArn` in AWS's format: `arn:aws:lambda:<region>::runtime:<64 hex>`,
/// stable per runtime.
pub fn runtime_version_arn(region: &str, runtime: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(runtime.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("arn:aws:lambda:{region}::runtime:{hex}")
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
    /// Marks a deployment `Failed` because its runtime image cannot be had, as AWS marks a function whose image
    /// it cannot access (`ImageAccessDenied`); an update of the function settles it again.
    pub fn image_failed(&self, key: &crate::lambda::environments::DeploymentKey, reason: &str) {
        let Ok(FunctionRef {
            account: Some(account),
            region: Some(region),
            name,
            ..
        }) = parse_function_reference(&key.function_arn, None, NameShape::Function)
        else {
            return;
        };
        let Some(function) = self.region(account, region).get(name) else {
            return;
        };
        function.write(|state| {
            let deployment = match parse_version(&key.version) {
                Some(number) => state.versions.get_mut(&number),
                None => Some(&mut state.latest),
            };
            let Some(deployment) = deployment.filter(|d| d.config.revision_id == key.revision) else {
                return;
            };
            let config = &mut deployment.config;
            let reason = format!("The runtime image of the function cannot be pulled: {reason}");
            config.state = "Failed".into();
            config.state_reason = Some(reason);
            config.state_reason_code = Some("ImageAccessDenied".into());
        });
    }

    /// The functions of `account` in `region`.
    pub fn region(&self, account: &str, region: &str) -> Arc<RegionFunctions> {
        let key = (account.to_owned(), region.to_owned());
        if let Some(found) = self.regions.read().get(&key) {
            return found.clone();
        }
        self.regions.write().entry(key).or_default().clone()
    }
}

// ---- function references ----

/// Which `functionName` shape an operation takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameShape {
    /// `NamespacedFunctionName`: GetFunction, GetFunctionConfiguration, DeleteFunction, ListVersionsByFunction,
    /// Invoke. Up to 256 characters; names may contain `.`.
    Namespaced,
    /// `FunctionName`: the updates, PublishVersion, the concurrency operations. Up to 140 characters.
    Function,
    /// CreateFunction's `FunctionName`: as [`NameShape::Function`], and a bare name is limited to 64 characters.
    Create,
}

impl NameShape {
    fn pattern(self) -> &'static str {
        match self {
            NameShape::Namespaced => NAMESPACED_NAME_PATTERN,
            NameShape::Function | NameShape::Create => FUNCTION_NAME_PATTERN,
        }
    }

    fn max_len(self) -> usize {
        match self {
            NameShape::Namespaced => 256,
            NameShape::Function | NameShape::Create => 140,
        }
    }
}

/// A function reference as callers write it: a name, `name:qualifier`, a partial ARN
/// (`[<region>:]<account>:function:<name>[:qualifier]`) or a full ARN, split into its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunctionRef<'a> {
    /// The account, if the reference names one.
    pub account: Option<&'a str>,
    /// The region, if the reference names one.
    pub region: Option<&'a str>,
    /// The function name.
    pub name: &'a str,
    /// The qualifier, from the reference or the `Qualifier` parameter.
    pub qualifier: Option<&'a str>,
}

impl FunctionRef<'_> {
    /// Checks that the reference points into the caller's account and region: another region answers AWS's
    /// `Functions from '<r>' are not reachable in this region ('<caller's>')`, another account is denied.
    pub fn check_scope(&self, account: &str, region: &str) -> Result<(), LambdaError> {
        if let Some(other) = self.region
            && other != region
        {
            return Err(LambdaError::not_found(format!(
                "Functions from '{other}' are not reachable in this region ('{region}')"
            )));
        }
        if let Some(other) = self.account
            && other != account
        {
            // NB: AWS answers cross-account access without a resource policy with a bare 403.
            return Err(LambdaError::new("AccessDeniedException", 403, ""));
        }
        Ok(())
    }
}

/// A function reference as callers write it: a name, `name:qualifier`, a partial ARN
/// (`<account>:function:<name>[:qualifier]`) or a full ARN, split into (account if given, name, qualifier).
pub fn parse_function_name(reference: &str) -> Result<(Option<&str>, &str, Option<&str>), LambdaError> {
    let parsed = parse_function_reference(reference, None, NameShape::Namespaced)?;
    Ok((parsed.account, parsed.name, parsed.qualifier))
}

/// Parses a function reference and an optional `Qualifier` parameter with AWS's checks and messages: constraint
/// violations are a `ValidationException` listing each (`N validation errors detected: ...`), a qualifier in the
/// name that disagrees with the parameter an `InvalidParameterValueException`.
pub fn parse_function_reference<'a>(
    reference: &'a str,
    qualifier: Option<&'a str>,
    shape: NameShape,
) -> Result<FunctionRef<'a>, LambdaError> {
    let mut errors = Vec::new();
    if let Some(qualifier) = qualifier {
        errors.extend(qualifier_errors(qualifier));
    }
    let parsed = match_reference(reference, shape);
    let bare_name = !reference.contains(':');
    if shape == NameShape::Create && bare_name && reference.len() > 64 {
        // NB: a bare name over 64 characters is AWS's one constraint error typed InvalidParameterValueException.
        return Err(LambdaError::invalid_parameter(validation_message(&[format!(
            "Value '{reference}' at 'functionName' failed to satisfy constraint: Member must have length less \
             than or equal to 64"
        )])));
    }
    if reference.len() > shape.max_len() {
        errors.push(format!(
            "Value '{reference}' at 'functionName' failed to satisfy constraint: Member must have length less than \
             or equal to {}",
            shape.max_len()
        ));
    }
    if parsed.is_none() {
        errors.push(format!(
            "Value '{reference}' at 'functionName' failed to satisfy constraint: Member must satisfy regular \
             expression pattern: {}",
            shape.pattern()
        ));
    }
    if !errors.is_empty() {
        return Err(LambdaError::validation(validation_message(&errors)));
    }
    let Some(mut parsed) = parsed else {
        return Err(LambdaError::validation(validation_message(&errors)));
    };
    match (parsed.qualifier, qualifier) {
        (Some(derived), Some(given)) if derived != given => {
            return Err(LambdaError::invalid_parameter(
                "The derived qualifier from the function name does not match the specified qualifier.",
            ));
        }
        (None, Some(given)) => parsed.qualifier = Some(given),
        _ => {}
    }
    Ok(parsed)
}

/// AWS's constraint message: `1 validation error detected: A` or `2 validation errors detected: A; B`.
pub fn validation_message(errors: &[String]) -> String {
    let plural = if errors.len() == 1 { "" } else { "s" };
    format!(
        "{} validation error{plural} detected: {}",
        errors.len(),
        errors.join("; ")
    )
}

fn qualifier_errors(qualifier: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if qualifier.is_empty() {
        errors.push(format!(
            "Value '{qualifier}' at 'qualifier' failed to satisfy constraint: Member must have length greater than \
             or equal to 1"
        ));
    }
    if qualifier.len() > 128 {
        errors.push(format!(
            "Value '{qualifier}' at 'qualifier' failed to satisfy constraint: Member must have length less than or \
             equal to 128"
        ));
    }
    let valid = matches!(qualifier, "$LATEST" | "$LATEST.PUBLISHED")
        || (!qualifier.is_empty()
            && qualifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'$')));
    if !valid && !qualifier.is_empty() {
        errors.push(format!(
            "Value '{qualifier}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular \
             expression pattern: {QUALIFIER_PATTERN}"
        ));
    }
    errors
}

/// Matches AWS's function-name pattern (see [`NAMESPACED_NAME_PATTERN`]): optional `arn:<partition>:lambda:`,
/// region, account and `function:` prefixes, a name and an optional qualifier, trying the prefixes greedily in
/// order as the regular expression does.
fn match_reference(reference: &str, shape: NameShape) -> Option<FunctionRef<'_>> {
    let tokens: Vec<&str> = reference.split(':').collect();
    for with_arn in [true, false] {
        for with_region in [true, false] {
            for with_account in [true, false] {
                for with_function in [true, false] {
                    if let Some(found) =
                        match_tokens(&tokens, shape, with_arn, with_region, with_account, with_function)
                    {
                        return Some(found);
                    }
                }
            }
        }
    }
    None
}

fn match_tokens<'a>(
    tokens: &[&'a str],
    shape: NameShape,
    with_arn: bool,
    with_region: bool,
    with_account: bool,
    with_function: bool,
) -> Option<FunctionRef<'a>> {
    let mut rest = tokens;
    if with_arn {
        let [arn, partition, lambda, tail @ ..] = rest else {
            return None;
        };
        if *arn != "arn" || *lambda != "lambda" || !is_partition(partition) {
            return None;
        }
        rest = tail;
    }
    let mut region = None;
    if with_region {
        let [candidate, tail @ ..] = rest else { return None };
        if !is_region(candidate) {
            return None;
        }
        region = Some(*candidate);
        rest = tail;
    }
    let mut account = None;
    if with_account {
        let [candidate, tail @ ..] = rest else { return None };
        if candidate.len() != 12 || !candidate.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        account = Some(*candidate);
        rest = tail;
    }
    if with_function {
        let ["function", tail @ ..] = rest else {
            return None;
        };
        rest = tail;
    }
    let (name, qualifier) = match rest {
        [name] => (*name, None),
        [name, qualifier] => (*name, Some(*qualifier)),
        _ => return None,
    };
    let name_ok = !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'-' | b'_')
                || (b == b'.' && shape == NameShape::Namespaced)
        });
    if !name_ok {
        return None;
    }
    if let Some(qualifier) = qualifier {
        let latest =
            qualifier == LATEST || (shape == NameShape::Namespaced && qualifier == "$LATEST.PUBLISHED");
        let plain = !qualifier.is_empty()
            && qualifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        if !latest && !plain {
            return None;
        }
    }
    Some(FunctionRef {
        account,
        region,
        name,
        qualifier,
    })
}

/// `(aws[a-zA-Z-]*)?`.
fn is_partition(partition: &str) -> bool {
    partition.is_empty()
        || (partition.starts_with("aws") && partition.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-'))
}

/// `(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}`.
fn is_region(region: &str) -> bool {
    let region = region.strip_prefix("eusc-").unwrap_or(region);
    let bytes = region.as_bytes();
    if bytes.len() < 2 || !bytes[..2].iter().all(u8::is_ascii_lowercase) {
        return false;
    }
    let rest = &region[2..];
    let mut prefixes = vec!["-gov".to_owned(), "-iso".to_owned(), String::new()];
    if let Some(letter) = rest.strip_prefix("-iso").and_then(|r| r.chars().next())
        && letter.is_ascii_lowercase()
    {
        prefixes.push(format!("-iso{letter}"));
    }
    prefixes.iter().any(|prefix| {
        rest.strip_prefix(prefix.as_str()).is_some_and(|tail| {
            let Some(tail) = tail.strip_prefix('-') else {
                return false;
            };
            let Some((word, digit)) = tail.rsplit_once('-') else {
                return false;
            };
            !word.is_empty()
                && word.bytes().all(|b| b.is_ascii_lowercase())
                && digit.len() == 1
                && digit.bytes().all(|b| b.is_ascii_digit())
        })
    })
}

// ---- what a function is made of ----

/// Whether `arn` matches the ARN branch of [`OPTIONAL_ARN_PATTERN`].
pub fn is_any_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    let Some((service, _)) = rest.split_once(':') else {
        return false;
    };
    is_partition(partition)
        && !service.is_empty()
        && service
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.'))
}

/// Whether `role` matches [`ROLE_PATTERN`].
pub fn is_role_arn(role: &str) -> bool {
    let Some(rest) = role.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    if !is_partition(partition) {
        return false;
    }
    let Some(rest) = rest.strip_prefix("iam::") else {
        return false;
    };
    let Some((account, rest)) = rest.split_once(':') else {
        return false;
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Some(path) = rest.strip_prefix("role") else {
        return false;
    };
    // NB: `/?` followed by a class that includes `/` means: at least one character of the class.
    !path.is_empty()
        && path.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'=' | b',' | b'.' | b'@' | b'-' | b'/')
        })
}

/// Why a runtime name cannot be used for a new or updated function, in AWS's words, if it cannot.
pub fn runtime_error(runtime: &str) -> Option<LambdaError> {
    if ACCEPTED_RUNTIMES.contains(&runtime) {
        return None;
    }
    if DEPRECATED_RUNTIMES.contains(&runtime) {
        return Some(LambdaError::invalid_parameter(format!(
            "The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda \
             functions. We recommend you use a supported runtime while creating or updating functions."
        )));
    }
    Some(LambdaError::invalid_parameter(format!(
        "Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: \
         {VALID_RUNTIMES} or be a valid ARN"
    )))
}

/// Checks environment variables as Lambda does: names (`[a-zA-Z]([a-zA-Z0-9_])+`), reserved names, string
/// values and the 4 KB limit; returns them sorted by name.
pub fn check_environment(
    variables: &serde_json::Map<String, serde_json::Value>,
) -> Result<BTreeMap<String, String>, LambdaError> {
    let valid_name = |name: &str| {
        let bytes = name.as_bytes();
        bytes.len() >= 2
            && bytes[0].is_ascii_alphabetic()
            && bytes[1..].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
    };
    if variables.keys().any(|name| !valid_name(name)) {
        // NB: the variables are a sensitive member, so AWS's message leaves their value out.
        return Err(LambdaError::validation(validation_message(&[
            "Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: \
             [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]"
                .to_owned(),
        ])));
    }
    let reserved: Vec<&str> = variables
        .keys()
        .map(String::as_str)
        .filter(|name| RESERVED_ENVIRONMENT_KEYS.contains(name))
        .collect();
    if !reserved.is_empty() {
        return Err(LambdaError::invalid_parameter(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have \
             provided contains reserved keys that are currently not supported for modification. Reserved keys \
             used in this request: {}",
            reserved.join(", ")
        )));
    }
    let mut out = BTreeMap::new();
    for (name, value) in variables {
        let serde_json::Value::String(value) = value else {
            return Err(LambdaError::new(
                "InvalidRequestContentException",
                400,
                format!(
                    "Could not parse request body into json: Environment variable {name} is not a string"
                ),
            ));
        };
        out.insert(name.clone(), value.clone());
    }
    let measured = serde_json::to_string(variables).unwrap_or_default();
    if measured.len() > MAX_ENVIRONMENT_BYTES {
        return Err(LambdaError::invalid_parameter(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have \
             provided exceeded the 4KB limit. String measured: {measured}"
        )));
    }
    Ok(out)
}

/// Decodes a base64 `ZipFile` and checks it is a zip Lambda can deploy: at most 50 MB, a readable archive with
/// at least one entry, at most 250 MB unzipped.
pub fn check_zip(zip_file_base64: &str) -> Result<Bytes, LambdaError> {
    use base64::Engine;
    let zip = base64::engine::general_purpose::STANDARD
        .decode(zip_file_base64.trim())
        .map_err(|e| {
            LambdaError::new(
                "InvalidRequestContentException",
                400,
                format!("Could not parse request body into json: ZipFile is not valid base64: {e}"),
            )
        })?;
    if zip.len() > MAX_ZIPPED_BYTES {
        return Err(LambdaError::new(
            "RequestEntityTooLargeException",
            413,
            format!("Zipped size must be smaller than {MAX_ZIPPED_BYTES} bytes"),
        ));
    }
    let mut archive =
        zip::ZipArchive::new(Cursor::new(&zip)).map_err(|_| LambdaError::invalid_parameter(UNZIP_FAILED))?;
    if archive.is_empty() {
        return Err(LambdaError::invalid_parameter(UNZIP_FAILED));
    }
    let mut unzipped: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive
            .by_index_raw(index)
            .map_err(|_| LambdaError::invalid_parameter(UNZIP_FAILED))?;
        unzipped = unzipped.saturating_add(entry.size());
    }
    if unzipped > MAX_UNZIPPED_BYTES {
        return Err(LambdaError::invalid_parameter(format!(
            "Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
        )));
    }
    Ok(Bytes::from(zip))
}

/// `LastModified` in AWS's format: `2026-11-24T12:00:00.000+0000`.
pub fn last_modified_now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_references_parse_in_every_form() {
        assert_eq!(parse_function_name("f").unwrap(), (None, "f", None));
        assert_eq!(parse_function_name("f:1").unwrap(), (None, "f", Some("1")));
        assert_eq!(
            parse_function_name("000000000000:function:f").unwrap(),
            (Some("000000000000"), "f", None)
        );
        assert_eq!(
            parse_function_name("arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST").unwrap(),
            (Some("000000000000"), "f", Some("$LATEST"))
        );
        assert!(parse_function_name("a:b:c:d:e").is_err());
        assert!(parse_function_name("bad name").is_err());
    }

    #[test]
    fn function_references_keep_the_region_of_full_arns() {
        let parsed = parse_function_reference(
            "arn:aws:lambda:eu-west-1:123456789012:function:f",
            None,
            NameShape::Function,
        )
        .unwrap();
        assert_eq!(parsed.region, Some("eu-west-1"));
        assert_eq!(parsed.account, Some("123456789012"));
        let parsed = parse_function_reference(
            "us-gov-west-1:123456789012:function:f:2",
            None,
            NameShape::Function,
        )
        .unwrap();
        assert_eq!(
            (parsed.region, parsed.name, parsed.qualifier),
            (Some("us-gov-west-1"), "f", Some("2"))
        );
    }

    #[test]
    fn incomplete_arn_reads_as_a_function_called_function() {
        // NB: AWS answers `Function not found: ...:function:function` for this, because its pattern matches so.
        let parsed = parse_function_reference(
            "arn:aws:lambda:us-east-1:123456789012:function",
            None,
            NameShape::Namespaced,
        )
        .unwrap();
        assert_eq!((parsed.name, parsed.qualifier), ("function", None));
    }

    #[test]
    fn invalid_region_in_arn_fails_the_pattern() {
        let err = parse_function_reference(
            "arn:aws:lambda:invalid-region:123456789012:function:f",
            None,
            NameShape::Namespaced,
        )
        .unwrap_err();
        assert_eq!(err.code(), "ValidationException");
        assert!(
            err.message()
                .starts_with("1 validation error detected: Value 'arn:aws:lambda:invalid-region")
        );
    }

    #[test]
    fn disagreeing_qualifiers_are_an_invalid_parameter() {
        let err = parse_function_reference("f:1", Some("$LATEST"), NameShape::Namespaced).unwrap_err();
        assert_eq!(err.code(), "InvalidParameterValueException");
        assert_eq!(
            err.message(),
            "The derived qualifier from the function name does not match the specified qualifier."
        );
        let parsed = parse_function_reference("f", Some("3"), NameShape::Namespaced).unwrap();
        assert_eq!(parsed.qualifier, Some("3"));
    }

    #[test]
    fn long_bare_name_at_create_is_an_invalid_parameter() {
        let name = "a".repeat(65);
        let err = parse_function_reference(&name, None, NameShape::Create).unwrap_err();
        assert_eq!(err.code(), "InvalidParameterValueException");
        assert!(
            err.message()
                .ends_with("Member must have length less than or equal to 64")
        );
        assert!(parse_function_reference(&name, None, NameShape::Namespaced).is_ok());
    }

    #[test]
    fn too_long_qualifier_and_bad_name_are_both_reported() {
        let err =
            parse_function_reference("bad name", Some(&"q".repeat(129)), NameShape::Namespaced).unwrap_err();
        assert!(
            err.message()
                .starts_with("2 validation errors detected: Value 'qqq")
        );
        assert!(err.message().contains("; Value 'bad name' at 'functionName'"));
    }

    #[test]
    fn regions_match_aws_pattern() {
        for region in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "us-iso-east-1",
            "us-isob-east-1",
            "eusc-de-east-1",
        ] {
            assert!(is_region(region), "{region}");
        }
        for region in ["invalid-region", "us-east", "US-east-1", "us-east-12", ""] {
            assert!(!is_region(region), "{region}");
        }
    }

    #[test]
    fn role_arns_match_aws_pattern() {
        assert!(is_role_arn("arn:aws:iam::000000000000:role/lambda-role"));
        assert!(is_role_arn("arn:aws:iam::000000000000:role/service-role/x@y"));
        assert!(is_role_arn("arn:aws:iam::000000000000:role/"));
        assert!(!is_role_arn("r1"));
        assert!(!is_role_arn("arn:aws:iam::0000:role/r"));
        assert!(!is_role_arn("arn:aws:iam::000000000000:user/r"));
        assert!(!is_role_arn("arn:aws:iam::000000000000:role"));
    }

    #[test]
    fn runtimes_are_accepted_deprecated_or_unknown() {
        assert!(runtime_error("nodejs16.x").is_none());
        assert!(runtime_error("provided.al2023").is_none());
        let deprecated = runtime_error("python3.7").unwrap();
        assert!(
            deprecated
                .message()
                .starts_with("The runtime parameter of python3.7 is no longer supported")
        );
        let unknown = runtime_error("PYTHON3.9").unwrap();
        assert!(
            unknown
                .message()
                .starts_with("Value PYTHON3.9 at 'runtime' failed to satisfy constraint")
        );
        assert!(unknown.message().ends_with("java8.al2] or be a valid ARN"));
    }

    #[test]
    fn reserved_environment_keys_are_named_in_request_order() {
        let variables: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"OK":"1","AWS_REGION":"x","AWS_ACCESS_KEY":"y"}"#).unwrap();
        let err = check_environment(&variables).unwrap_err();
        assert!(
            err.message()
                .ends_with("Reserved keys used in this request: AWS_REGION, AWS_ACCESS_KEY")
        );
    }

    #[test]
    fn oversized_environment_is_measured_as_compact_json() {
        let mut variables = serde_json::Map::new();
        variables.insert("LARGE_VAR".into(), serde_json::Value::String("x".repeat(4096)));
        let err = check_environment(&variables).unwrap_err();
        assert!(
            err.message()
                .contains("exceeded the 4KB limit. String measured: {\"LARGE_VAR\":\"xxx")
        );
    }

    #[test]
    fn non_zip_code_cannot_be_unzipped() {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(b"not a zip");
        assert_eq!(check_zip(&encoded).unwrap_err().message(), UNZIP_FAILED);
    }

    #[test]
    fn code_sha256_is_base64_of_the_zip_digest() {
        let code = Code::from_zip(Bytes::from_static(b"abc"));
        assert_eq!(code.sha256, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
        assert_eq!(code.size, 3);
    }

    #[test]
    fn runtime_version_arns_have_aws_format() {
        let arn = runtime_version_arn("us-east-1", "nodejs20.x");
        let hex = arn.strip_prefix("arn:aws:lambda:us-east-1::runtime:").unwrap();
        assert_eq!(hex.len(), 64);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
