//! Lambda event filtering: the `FilterCriteria` of an event source mapping, parsed once when the mapping is
//! created or updated and then applied to every record the poller reads. This module is pure (no I/O, no clock,
//! no HTTP) and must not import the API or poller layers.
//!
//! Lambda filters with the EventBridge pattern language, evaluated by AWS's `event-ruler` library
//! (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html>). A pattern mirrors the record's
//! JSON. The keys of an object are AND-ed. A leaf is an array of alternatives that are OR-ed. A record array matches
//! when any of its elements does. A record passes when any of the mapping's filters matches it. The leaf
//! alternatives are:
//!
//! - a string, number, `true`, `false` or `null`, which matches an equal JSON value. A number matches numerically,
//!   so `[300]` matches `300.0`. A DynamoDB `N` value is a *string* and only matches a string;
//! - `{"prefix": "x"}`, `{"suffix": "x"}`, each also with `{"equals-ignore-case": "x"}` as its operand, and
//!   `{"equals-ignore-case": "x"}`, `{"wildcard": "a*b"}`. These match strings only;
//! - `{"anything-but": ...}` with a string, a number, a list of either, or `{"prefix" | "suffix" |
//!   "equals-ignore-case" | "wildcard": ...}`. It matches any *present* value that is not excluded, `null`
//!   included;
//! - `{"numeric": [">", 0, "<=", 5]}`, with one or two comparisons. It matches JSON numbers only;
//! - `{"exists": true | false}`. It looks at leaves only: a key whose value is an object or an empty array does not
//!   exist;
//! - `{"cidr": "10.0.0.0/24"}`, which matches IPv4 or IPv6 address strings;
//! - `"$or": [{...}, {...}]` at any object level, whose branches are evaluated against the same record object.
//!
//! What `event-ruler` does that this module does not reproduce (all corner cases, listed so nobody "fixes" them by
//! accident):
//! - ruler joins a path with dots, so the pattern key `"a.b"` also reaches the record path `a` → `b` and the other
//!   way round. Here keys are matched literally;
//! - when a `$or` branch names the same path as its enclosing object, ruler lets the later one override the earlier.
//!   Here both must hold;
//! - ruler checks `{"exists": false}` inside an array of objects against the whole array unless a condition on a
//!   key that sorts *earlier* already picked an element. Here it must hold in the element that the other conditions
//!   pick, or in every element when no other condition needs a value;
//! - ruler case-folds each UTF-16 unit, so a character outside the BMP never matches `equals-ignore-case`. Here it
//!   is folded like any other character;
//! - ruler's JSON reader stops after the first value, ignores trailing text, and takes numbers of any size and
//!   nesting of any depth. Here trailing text, numbers beyond the range of a double (`1e400`) and nesting deeper
//!   than 128 levels make a pattern invalid.
//!
//! `wildcard` is accepted although Lambda's own operator table does not list it, because Lambda documents the
//! EventBridge syntax as its own. Ruler's undocumented `exactly` operator is refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::{Map, Number, Value};

/// AWS's message for any filter pattern it cannot compile (an `InvalidParameterValueException` at
/// Create/UpdateEventSourceMapping).
pub const INVALID_FILTER_PATTERN: &str = "Invalid filter pattern definition.";

/// The longest `Filters[].Pattern` the Lambda API model allows, in characters.
///
/// AWS enforces this in the API model, so a longer pattern fails with a `ValidationException` ("1 validation error
/// detected: ... Member must have length less than or equal to 4096") before filtering sees it. The API layer
/// should check it first. [`FilterCriteria::parse`] also refuses longer patterns, as a backstop.
pub const MAX_PATTERN_LENGTH: usize = 4096;

/// How many filters one event source mapping may have under the default quota (AWS raises it to 10 on request).
/// [`FilterCriteria::parse`] does not check the count: AWS's error text for too many filters is not verified, so the
/// caller owns that check.
pub const DEFAULT_MAX_FILTERS: usize = 5;

/// The `$or` keyword.
const OR_KEYWORD: &str = "$or";

/// Field names that ruler refuses anywhere inside a `$or` branch, because they read like operators.
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

/// A parsed FilterCriteria: a record passes when any filter matches (OR across filters).
#[derive(Clone, Debug, Default)]
pub struct FilterCriteria {
    filters: Vec<ObjectPattern>,
}

impl FilterCriteria {
    /// Parses `FilterCriteria.Filters[].Pattern` strings; any invalid pattern → Err(message) where message is AWS's
    /// text "Invalid filter pattern definition." (the caller wraps it in InvalidParameterValueException).
    ///
    /// An empty list gives criteria that pass every record, like a mapping without `FilterCriteria`.
    pub fn parse(patterns: &[String]) -> Result<Self, String> {
        let filters = patterns
            .iter()
            .map(|pattern| parse_pattern(pattern).map_err(|_| INVALID_FILTER_PATTERN.to_owned()))
            .collect::<Result<_, _>>()?;
        Ok(Self { filters })
    }

    /// Whether a record (the event record as Lambda would deliver it, as JSON: eventID, eventName, ..., dynamodb{...},
    /// eventSourceARN) passes.
    pub fn matches(&self, record: &Value) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|filter| filter.matches(Some(record)))
    }

    /// How many filters there are.
    pub fn len(&self) -> usize {
        self.filters.len()
    }

    /// Whether there are no filters, so that every record passes.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }
}

/// Why a pattern is invalid. AWS answers every case with [`INVALID_FILTER_PATTERN`], so the reason only serves
/// tests and debugging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Invalid(&'static str);

type Parsed<T> = Result<T, Invalid>;

/// The conditions on one JSON object of the record: every field, and one branch of every `$or`.
#[derive(Clone, Debug)]
struct ObjectPattern {
    fields: Vec<(String, FieldPattern)>,
    any_of: Vec<Vec<ObjectPattern>>,
}

/// The condition on one key.
#[derive(Clone, Debug)]
enum FieldPattern {
    Object(ObjectPattern),
    Leaf(LeafPattern),
}

/// The alternatives for one leaf, e.g. `["a", {"prefix": "b"}]`.
#[derive(Clone, Debug)]
struct LeafPattern {
    matchers: Vec<Matcher>,
    /// Holds `{"exists": false}`, so a missing leaf satisfies it.
    allows_absence: bool,
}

/// One alternative of a leaf. Each applies to a single scalar of the record.
#[derive(Clone, Debug)]
enum Matcher {
    Exact(Exact),
    Prefix(String),
    PrefixIgnoreCase(CaseFolded),
    Suffix(String),
    SuffixIgnoreCase(CaseFolded),
    EqualsIgnoreCase(CaseFolded),
    Wildcard(Wildcard),
    AnythingBut(AnythingBut),
    Numeric(NumericRange),
    Exists(bool),
    Cidr(Cidr),
}

/// A literal value to match.
#[derive(Clone, Debug)]
enum Exact {
    /// Also carries the address when the string is an IP address, because ruler compares those as addresses.
    String {
        value: String,
        ip: Option<IpAddr>,
    },
    Number(Number),
    Bool(bool),
    Null,
}

/// What `anything-but` excludes.
#[derive(Clone, Debug)]
enum AnythingBut {
    Strings(Vec<String>),
    Numbers(Vec<f64>),
    Prefixes(Vec<String>),
    Suffixes(Vec<String>),
    IgnoreCase(Vec<CaseFolded>),
    Wildcards(Vec<Wildcard>),
}

/// A numeric interval; `=` is the closed interval of one point.
#[derive(Clone, Copy, Debug)]
struct NumericRange {
    lower: Option<Bound>,
    upper: Option<Bound>,
}

/// One end of a [`NumericRange`].
#[derive(Clone, Copy, Debug)]
struct Bound {
    value: f64,
    inclusive: bool,
}

/// An IP network, masked to its first address as ruler does.
#[derive(Clone, Copy, Debug)]
enum Cidr {
    V4 { base: u32, mask: u32 },
    V6 { base: u128, mask: u128 },
}

/// A string compared without case: each pattern character matches its lower-case or its upper-case form, which may
/// differ in length (`ß` matches `SS`).
#[derive(Clone, Debug)]
struct CaseFolded {
    alternatives: Vec<Vec<String>>,
}

/// A `wildcard` pattern: the literal parts between its `*`s.
#[derive(Clone, Debug)]
struct Wildcard {
    parts: Vec<String>,
}

/// How a pattern treats the `$or` key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OrMode {
    /// `$or` is the operator.
    Operator,
    /// `$or` is an ordinary field name.
    Field,
}

/// Parses one `Pattern` string.
fn parse_pattern(text: &str) -> Parsed<ObjectPattern> {
    if text.chars().count() > MAX_PATTERN_LENGTH {
        return Err(Invalid("pattern is longer than 4096 characters"));
    }
    let value: Value = serde_json::from_str(text).map_err(|_| Invalid("pattern is not valid JSON"))?;
    let Value::Object(root) = &value else {
        return Err(Invalid("pattern is not a JSON object"));
    };
    // NB: ruler compiles with `$or` as the operator first and, if that fails, again with `$or` as a plain field name
    // (its compatibility with rules written before `$or` existed). So `{"$or": {"a": ["b"]}}` is valid and looks for
    // a key named `$or`. A pattern is invalid only when both readings fail.
    parse_object(root, OrMode::Operator, false)
        .or_else(|first| parse_object(root, OrMode::Field, false).map_err(|_| first))
}

/// Parses a pattern object. `inside_or` is true within a `$or` branch, where operator names may not be fields.
fn parse_object(map: &Map<String, Value>, mode: OrMode, inside_or: bool) -> Parsed<ObjectPattern> {
    if map.is_empty() {
        return Err(Invalid("empty objects are not allowed"));
    }
    // NB: serde_json keeps the last of duplicate keys, which is what Lambda documents ("Duplicate keys").
    let mut fields = Vec::with_capacity(map.len());
    let mut any_of = Vec::new();
    for (key, value) in map {
        if mode == OrMode::Operator && key == OR_KEYWORD {
            any_of.push(parse_or(value)?);
            continue;
        }
        if inside_or && RESERVED_IN_OR.contains(&key.as_str()) {
            return Err(Invalid("an operator name cannot be a field name inside $or"));
        }
        let field = match value {
            Value::Object(inner) => FieldPattern::Object(parse_object(inner, mode, inside_or)?),
            Value::Array(items) => FieldPattern::Leaf(parse_leaf(items)?),
            _ => return Err(Invalid("a field must be an object or an array")),
        };
        fields.push((key.clone(), field));
    }
    Ok(ObjectPattern { fields, any_of })
}

/// Parses the branches of a `$or`: at least two non-empty objects.
fn parse_or(value: &Value) -> Parsed<Vec<ObjectPattern>> {
    let Value::Array(branches) = value else {
        return Err(Invalid("$or must be an array"));
    };
    let branches = branches
        .iter()
        .map(|branch| match branch {
            Value::Object(map) => parse_object(map, OrMode::Operator, true),
            _ => Err(Invalid("$or holds objects only")),
        })
        .collect::<Parsed<Vec<_>>>()?;
    if branches.len() < 2 {
        return Err(Invalid("$or needs at least two objects"));
    }
    Ok(branches)
}

/// Parses a leaf's array of alternatives.
fn parse_leaf(items: &[Value]) -> Parsed<LeafPattern> {
    if items.is_empty() {
        return Err(Invalid("empty arrays are not allowed"));
    }
    let matchers = items.iter().map(parse_matcher).collect::<Parsed<Vec<_>>>()?;
    Ok(LeafPattern {
        allows_absence: matchers
            .iter()
            .any(|matcher| matches!(matcher, Matcher::Exists(false))),
        matchers,
    })
}

/// Parses one alternative of a leaf.
fn parse_matcher(item: &Value) -> Parsed<Matcher> {
    Ok(match item {
        Value::String(value) => Matcher::Exact(Exact::String {
            ip: ip_address(value),
            value: value.clone(),
        }),
        Value::Number(number) => Matcher::Exact(Exact::Number(number.clone())),
        Value::Bool(value) => Matcher::Exact(Exact::Bool(*value)),
        Value::Null => Matcher::Exact(Exact::Null),
        Value::Object(expression) => parse_expression(expression)?,
        Value::Array(_) => {
            return Err(Invalid(
                "a match value must be a string, number, true, false or null",
            ));
        }
    })
}

/// The one key of a match expression and its operand.
fn single_entry(map: &Map<String, Value>) -> Parsed<(&str, &Value)> {
    let mut entries = map.iter();
    match (entries.next(), entries.next()) {
        (Some((key, value)), None) => Ok((key.as_str(), value)),
        _ => Err(Invalid("a match expression has exactly one key")),
    }
}

/// The operand of an operator that takes a string.
fn string_operand(value: &Value) -> Parsed<&str> {
    match value {
        Value::String(text) => Ok(text),
        _ => Err(Invalid("the operand must be a string")),
    }
}

/// Parses a match expression such as `{"prefix": "x"}`. Operator names are case-sensitive.
fn parse_expression(expression: &Map<String, Value>) -> Parsed<Matcher> {
    let (operator, operand) = single_entry(expression)?;
    Ok(match operator {
        "prefix" => match operand {
            Value::Object(inner) => Matcher::PrefixIgnoreCase(CaseFolded::new(ignore_case_operand(inner)?)),
            _ => Matcher::Prefix(string_operand(operand)?.to_owned()),
        },
        "suffix" => match operand {
            Value::Object(inner) => Matcher::SuffixIgnoreCase(CaseFolded::new(ignore_case_operand(inner)?)),
            _ => Matcher::Suffix(string_operand(operand)?.to_owned()),
        },
        "equals-ignore-case" => Matcher::EqualsIgnoreCase(CaseFolded::new(string_operand(operand)?)),
        "wildcard" => Matcher::Wildcard(Wildcard::parse(string_operand(operand)?)?),
        "anything-but" => Matcher::AnythingBut(parse_anything_but(operand)?),
        "numeric" => Matcher::Numeric(parse_numeric(operand)?),
        "exists" => match operand {
            Value::Bool(exists) => Matcher::Exists(*exists),
            _ => return Err(Invalid("exists takes true or false")),
        },
        "cidr" => Matcher::Cidr(Cidr::parse(string_operand(operand)?)?),
        _ => return Err(Invalid("unknown match expression")),
    })
}

/// The operand of `{"prefix" | "suffix": {"equals-ignore-case": "x"}}`.
fn ignore_case_operand(inner: &Map<String, Value>) -> Parsed<&str> {
    match single_entry(inner)? {
        ("equals-ignore-case", value) => string_operand(value),
        _ => Err(Invalid(
            "prefix and suffix take a string or an equals-ignore-case object",
        )),
    }
}

/// One string or a non-empty list of strings.
fn strings_operand(value: &Value) -> Parsed<Vec<&str>> {
    match value {
        Value::String(text) => Ok(vec![text.as_str()]),
        Value::Array(items) if !items.is_empty() => items.iter().map(string_operand).collect(),
        _ => Err(Invalid(
            "the operand must be a string or a non-empty list of strings",
        )),
    }
}

/// Parses the operand of `anything-but`.
fn parse_anything_but(operand: &Value) -> Parsed<AnythingBut> {
    match operand {
        Value::String(text) => Ok(AnythingBut::Strings(vec![text.clone()])),
        Value::Number(number) => Ok(AnythingBut::Numbers(vec![comparable_operand(number)?])),
        Value::Array(items) => {
            if !items.is_empty() && items.iter().all(Value::is_string) {
                Ok(AnythingBut::Strings(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                ))
            } else if !items.is_empty() && items.iter().all(Value::is_number) {
                let numbers = items.iter().filter_map(Value::as_number).map(comparable_operand);
                Ok(AnythingBut::Numbers(numbers.collect::<Parsed<_>>()?))
            } else {
                Err(Invalid(
                    "an anything-but list holds only strings or only numbers, and at least one",
                ))
            }
        }
        Value::Object(inner) => {
            let (operator, value) = single_entry(inner)?;
            let values = strings_operand(value)?;
            let owned = || values.iter().map(|text| (*text).to_owned()).collect();
            match operator {
                "prefix" | "suffix" if values.iter().any(|text| text.is_empty()) => {
                    Err(Invalid("an anything-but prefix or suffix cannot be empty"))
                }
                "prefix" => Ok(AnythingBut::Prefixes(owned())),
                "suffix" => Ok(AnythingBut::Suffixes(owned())),
                "equals-ignore-case" => Ok(AnythingBut::IgnoreCase(
                    values.iter().map(|text| CaseFolded::new(text)).collect(),
                )),
                "wildcard" => Ok(AnythingBut::Wildcards(
                    values
                        .iter()
                        .map(|text| Wildcard::parse(text))
                        .collect::<Parsed<_>>()?,
                )),
                _ => Err(Invalid(
                    "anything-but takes prefix, suffix, equals-ignore-case or wildcard",
                )),
            }
        }
        Value::Bool(_) | Value::Null => Err(Invalid("anything-but does not take true, false or null")),
    }
}

/// Parses `numeric`: `["=", x]`, `["<" | "<=" | ">" | ">=", x]` or `[">" | ">=", x, "<" | "<=", y]` with x < y.
fn parse_numeric(operand: &Value) -> Parsed<NumericRange> {
    let Value::Array(terms) = operand else {
        return Err(Invalid("numeric takes an array"));
    };
    let operator = |index: usize| terms.get(index).and_then(Value::as_str);
    let number = |index: usize| match terms.get(index) {
        Some(Value::Number(number)) => comparable_operand(number),
        _ => Err(Invalid("a numeric operator must be followed by a number")),
    };
    let bound = |index: usize, inclusive: bool| number(index).map(|value| Bound { value, inclusive });
    let range = match (operator(0), terms.len()) {
        (Some("="), 2) => {
            let point = bound(1, true)?;
            NumericRange {
                lower: Some(point),
                upper: Some(point),
            }
        }
        (Some(first @ ("<" | "<=")), 2) => NumericRange {
            lower: None,
            upper: Some(bound(1, first == "<=")?),
        },
        (Some(first @ (">" | ">=")), 2) => NumericRange {
            lower: Some(bound(1, first == ">=")?),
            upper: None,
        },
        (Some(first @ (">" | ">=")), 4) => {
            let Some(second @ ("<" | "<=")) = operator(2) else {
                return Err(Invalid("a numeric range is a lower bound then an upper bound"));
            };
            let lower = bound(1, first == ">=")?;
            let upper = bound(3, second == "<=")?;
            if lower.value.total_cmp(&upper.value).is_ge() {
                return Err(Invalid("the bottom of a numeric range must be less than its top"));
            }
            NumericRange {
                lower: Some(lower),
                upper: Some(upper),
            }
        }
        _ => return Err(Invalid("malformed numeric expression")),
    };
    Ok(range)
}

/// A pattern number that ruler can compare.
fn comparable_operand(number: &Number) -> Parsed<f64> {
    comparable(number).ok_or(Invalid("the number cannot be compared exactly"))
}

/// The value ruler compares numerically: a JSON number that is exactly an IEEE-754 double. Others (an account ID
/// past 2^53, say) only match the same literal.
fn comparable(number: &Number) -> Option<f64> {
    // NB: `as` saturates, so the range checks keep 2^63 and 2^64 (which are not i64/u64 values) from round-tripping.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
    if let Some(int) = number.as_i64() {
        let float = int as f64;
        return (float < TWO_POW_63 && float as i64 == int).then_some(float);
    }
    if let Some(int) = number.as_u64() {
        let float = int as f64;
        return (float < TWO_POW_64 && float as u64 == int).then_some(float);
    }
    number.as_f64().filter(|float| float.is_finite())
}

/// A JSON integer as an exact integer.
fn integer(number: &Number) -> Option<i128> {
    number
        .as_i64()
        .map(i128::from)
        .or_else(|| number.as_u64().map(i128::from))
}

/// Whether two JSON numbers are equal as ruler sees them: the same literal or the same double (`5` = `5.0`).
fn numbers_equal(a: &Number, b: &Number) -> bool {
    if let (Some(a), Some(b)) = (integer(a), integer(b)) {
        return a == b;
    }
    // NB: total_cmp keeps -0.0 apart from 0.0, as ruler's bit-wise number encoding does.
    matches!((comparable(a), comparable(b)), (Some(a), Some(b)) if a.total_cmp(&b).is_eq())
}

/// The address of a string that ruler treats as an IP address: four dotted decimal groups, or hex digits and colons.
/// An IPv4-mapped IPv6 address is its IPv4 address, as Java's `InetAddress` makes it.
fn ip_address(text: &str) -> Option<IpAddr> {
    let dotted_decimal = text.split('.').count() == 4
        && text
            .split('.')
            .all(|group| !group.is_empty() && group.bytes().all(|byte| byte.is_ascii_digit()));
    if dotted_decimal {
        return text.parse::<Ipv4Addr>().ok().map(IpAddr::V4);
    }
    let hex_and_colons =
        text.contains(':') && text.bytes().all(|byte| byte == b':' || byte.is_ascii_hexdigit());
    if hex_and_colons {
        let v6 = text.parse::<Ipv6Addr>().ok()?;
        return Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4));
    }
    None
}

impl Cidr {
    /// Parses `address/bits`.
    fn parse(text: &str) -> Parsed<Self> {
        let Some((address, bits)) = text.split_once('/') else {
            return Err(Invalid("a CIDR needs one '/'"));
        };
        let bits: i32 = bits
            .parse()
            .map_err(|_| Invalid("CIDR mask bits must be an integer"))?;
        let address = ip_address(address).ok_or(Invalid("invalid IP address in CIDR"))?;
        // NB: ruler refuses /32 for IPv4 and /128 for IPv6 ("mask bits must be < 32"); copied as is.
        match address {
            IpAddr::V4(v4) if (0..32).contains(&bits) => {
                let mask = u32::MAX.checked_shl(32 - bits.unsigned_abs()).unwrap_or(0);
                Ok(Self::V4 {
                    base: u32::from(v4) & mask,
                    mask,
                })
            }
            IpAddr::V6(v6) if (0..128).contains(&bits) => {
                let mask = u128::MAX.checked_shl(128 - bits.unsigned_abs()).unwrap_or(0);
                Ok(Self::V6 {
                    base: u128::from(v6) & mask,
                    mask,
                })
            }
            _ => Err(Invalid("CIDR mask bits out of range")),
        }
    }

    /// Whether the address is in this network (IPv4 networks hold IPv4 addresses only, and so on).
    fn contains(self, address: IpAddr) -> bool {
        match (self, address) {
            (Self::V4 { base, mask }, IpAddr::V4(v4)) => u32::from(v4) & mask == base,
            (Self::V6 { base, mask }, IpAddr::V6(v6)) => u128::from(v6) & mask == base,
            _ => false,
        }
    }
}

impl CaseFolded {
    /// Folds a pattern string.
    fn new(text: &str) -> Self {
        let alternatives = text
            .chars()
            .map(|character| {
                let lower: String = character.to_lowercase().collect();
                let upper: String = character.to_uppercase().collect();
                if lower == upper {
                    vec![lower]
                } else {
                    vec![lower, upper]
                }
            })
            .collect();
        Self { alternatives }
    }

    /// The byte offsets where a match of the whole pattern can end when it starts at the beginning of `text`.
    fn forward_ends(&self, text: &str) -> Vec<usize> {
        let mut positions = vec![0];
        for alternatives in &self.alternatives {
            let mut next = Vec::new();
            for &position in &positions {
                let Some(rest) = text.get(position..) else {
                    continue;
                };
                for alternative in alternatives {
                    if rest.starts_with(alternative.as_str()) {
                        next.push(position + alternative.len());
                    }
                }
            }
            next.sort_unstable();
            next.dedup();
            positions = next;
            if positions.is_empty() {
                break;
            }
        }
        positions
    }

    /// Whether `text` equals the pattern without regard to case.
    fn equals(&self, text: &str) -> bool {
        self.forward_ends(text).contains(&text.len())
    }

    /// Whether `text` starts with the pattern without regard to case.
    fn is_prefix_of(&self, text: &str) -> bool {
        !self.forward_ends(text).is_empty()
    }

    /// Whether `text` ends with the pattern without regard to case.
    fn is_suffix_of(&self, text: &str) -> bool {
        let mut positions = vec![text.len()];
        for alternatives in self.alternatives.iter().rev() {
            let mut next = Vec::new();
            for &position in &positions {
                let Some(head) = text.get(..position) else {
                    continue;
                };
                for alternative in alternatives {
                    if head.ends_with(alternative.as_str()) {
                        next.push(position - alternative.len());
                    }
                }
            }
            next.sort_unstable();
            next.dedup();
            positions = next;
            if positions.is_empty() {
                break;
            }
        }
        !positions.is_empty()
    }
}

impl Wildcard {
    /// Parses a wildcard: `*` matches any run of characters, `\*` and `\\` are a literal `*` and `\`; `**` and any
    /// other escape are invalid.
    fn parse(text: &str) -> Parsed<Self> {
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut characters = text.chars().peekable();
        while let Some(character) = characters.next() {
            match character {
                '*' if characters.peek() == Some(&'*') => {
                    return Err(Invalid("consecutive wildcard characters"));
                }
                '*' => parts.push(std::mem::take(&mut current)),
                '\\' => match characters.next() {
                    Some(escaped @ ('*' | '\\')) => current.push(escaped),
                    _ => return Err(Invalid("invalid escape in wildcard")),
                },
                _ => current.push(character),
            }
        }
        parts.push(current);
        Ok(Self { parts })
    }

    /// Whether `text` matches.
    fn matches(&self, text: &str) -> bool {
        let Some((first, rest)) = self.parts.split_first() else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            return text == first;
        };
        let Some(mut remaining) = text
            .strip_prefix(first.as_str())
            .and_then(|tail| tail.strip_suffix(last.as_str()))
        else {
            return false;
        };
        // NB: with `*` as the only metacharacter, taking the leftmost occurrence of each middle part never loses a
        // match.
        for part in middle {
            let Some(after) = remaining
                .find(part.as_str())
                .and_then(|index| remaining.get(index + part.len()..))
            else {
                return false;
            };
            remaining = after;
        }
        true
    }
}

impl NumericRange {
    /// Whether `value` is inside.
    fn contains(self, value: f64) -> bool {
        let above = self.lower.is_none_or(|bound| {
            let order = value.total_cmp(&bound.value);
            order.is_gt() || (bound.inclusive && order.is_eq())
        });
        let below = self.upper.is_none_or(|bound| {
            let order = value.total_cmp(&bound.value);
            order.is_lt() || (bound.inclusive && order.is_eq())
        });
        above && below
    }
}

/// How a pattern fared against part of a record. A pattern with `$or`s and `{"exists": false}` has several
/// readings (ruler expands it into one rule per combination of branches); each reading either needs some value to be
/// present or only needs values to be absent.
#[derive(Clone, Copy, Debug)]
struct Outcome {
    /// Some reading holds.
    any: bool,
    /// Some reading that needs a present value holds.
    present: bool,
}

impl Outcome {
    const NONE: Self = Self {
        any: false,
        present: false,
    };
}

impl FieldPattern {
    /// Evaluates the condition on the record value at this key (None: missing).
    fn evaluate(&self, value: Option<&Value>) -> Outcome {
        match self {
            Self::Object(object) => object.evaluate(value),
            Self::Leaf(leaf) => leaf.evaluate(value),
        }
    }
}

impl ObjectPattern {
    /// Whether the record value here (None: missing) satisfies every field and one branch of every `$or`.
    fn matches(&self, value: Option<&Value>) -> bool {
        self.evaluate(value).any
    }

    /// Evaluates the pattern on a record value (None: missing).
    fn evaluate(&self, value: Option<&Value>) -> Outcome {
        match value {
            // NB: a reading that needs present values must find them all within one element, so that fields from
            // different elements of the same array never combine (ruler's array consistency). A reading that only
            // needs absences has no element to stay within, so it must hold in every element. An empty array has no
            // leaves, like a missing key.
            Some(Value::Array(items)) if !items.is_empty() => {
                let present = items.iter().any(|item| self.evaluate(Some(item)).present);
                Outcome {
                    any: present || self.absent_throughout(&spread(items.iter().map(Some))),
                    present,
                }
            }
            Some(Value::Object(map)) => self.evaluate_fields(Some(map)),
            // A scalar has no keys, so every field below it is missing.
            _ => self.evaluate_fields(None),
        }
    }

    /// Evaluates the conditions on one record object (None: no object here). Every field and every `$or` must hold
    /// by some reading; the whole needs a present value when any part of the chosen reading does.
    fn evaluate_fields(&self, map: Option<&Map<String, Value>>) -> Outcome {
        let mut present = false;
        for (key, field) in &self.fields {
            let outcome = field.evaluate(map.and_then(|map| map.get(key)));
            if !outcome.any {
                return Outcome::NONE;
            }
            present |= outcome.present;
        }
        for branches in &self.any_of {
            let mut any = false;
            for branch in branches {
                let outcome = branch.evaluate_fields(map);
                any |= outcome.any;
                present |= outcome.present;
            }
            if !any {
                return Outcome::NONE;
            }
        }
        Outcome { any: true, present }
    }

    /// Whether some reading that only needs absences holds in every one of `values` (array elements, already
    /// spread out).
    fn absent_throughout(&self, values: &[Option<&Value>]) -> bool {
        self.fields.iter().all(|(key, field)| match field {
            FieldPattern::Leaf(leaf) => {
                leaf.allows_absence && values.iter().all(|value| !has_scalar(child(*value, key)))
            }
            FieldPattern::Object(object) => {
                object.absent_throughout(&spread(values.iter().map(|value| child(*value, key))))
            }
        }) && self
            .any_of
            .iter()
            .all(|branches| branches.iter().any(|branch| branch.absent_throughout(values)))
    }
}

/// The values with arrays replaced by their elements, at any depth; an empty array is a missing value.
fn spread<'a>(values: impl Iterator<Item = Option<&'a Value>>) -> Vec<Option<&'a Value>> {
    let mut spread_out = Vec::new();
    for value in values {
        match value {
            Some(Value::Array(items)) if !items.is_empty() => {
                spread_out.extend(spread(items.iter().map(Some)))
            }
            Some(Value::Array(_)) => spread_out.push(None),
            other => spread_out.push(other),
        }
    }
    spread_out
}

/// The value at `key` when `value` is an object.
fn child<'a>(value: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    value.and_then(Value::as_object).and_then(|map| map.get(key))
}

/// Whether the value has a leaf: it is a scalar, or an array holding one at any depth.
fn has_scalar(value: Option<&Value>) -> bool {
    value.is_some_and(|value| any_scalar(value, &mut |_| true))
}

impl LeafPattern {
    /// Evaluates the alternatives on the record value at a leaf. The value's scalars are its leaves: a scalar itself,
    /// or the scalars of an array at any depth. An object or an empty array has none, like a missing key.
    fn evaluate(&self, value: Option<&Value>) -> Outcome {
        let mut present = false;
        let hit = value.is_some_and(|value| {
            any_scalar(value, &mut |scalar| {
                present = true;
                self.matchers.iter().any(|matcher| matcher.matches(scalar))
            })
        });
        Outcome {
            any: hit || (!present && self.allows_absence),
            present: hit,
        }
    }
}

/// Whether `test` holds for any scalar of `value` (searching arrays, skipping objects).
fn any_scalar(value: &Value, test: &mut dyn FnMut(&Value) -> bool) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|item| any_scalar(item, test)),
        Value::Object(_) => false,
        scalar => test(scalar),
    }
}

impl Matcher {
    /// Whether one scalar of the record matches.
    fn matches(&self, scalar: &Value) -> bool {
        let text = scalar.as_str();
        match self {
            Self::Exact(exact) => exact.matches(scalar),
            Self::Prefix(prefix) => text.is_some_and(|text| text.starts_with(prefix.as_str())),
            Self::PrefixIgnoreCase(prefix) => text.is_some_and(|text| prefix.is_prefix_of(text)),
            Self::Suffix(suffix) => text.is_some_and(|text| text.ends_with(suffix.as_str())),
            Self::SuffixIgnoreCase(suffix) => text.is_some_and(|text| suffix.is_suffix_of(text)),
            Self::EqualsIgnoreCase(expected) => text.is_some_and(|text| expected.equals(text)),
            Self::Wildcard(wildcard) => text.is_some_and(|text| wildcard.matches(text)),
            Self::AnythingBut(excluded) => !excluded.excludes(scalar),
            Self::Numeric(range) => scalar
                .as_number()
                .and_then(comparable)
                .is_some_and(|value| range.contains(value)),
            Self::Exists(exists) => *exists,
            Self::Cidr(network) => text
                .and_then(ip_address)
                .is_some_and(|address| network.contains(address)),
        }
    }
}

impl Exact {
    /// Whether the scalar equals this literal.
    fn matches(&self, scalar: &Value) -> bool {
        match (self, scalar) {
            (Self::String { value, ip }, Value::String(text)) => {
                text == value || ip.is_some_and(|ip| ip_address(text) == Some(ip))
            }
            (Self::Number(number), Value::Number(other)) => numbers_equal(number, other),
            (Self::Bool(value), Value::Bool(other)) => value == other,
            (Self::Null, Value::Null) => true,
            _ => false,
        }
    }
}

impl AnythingBut {
    /// Whether the scalar is one of the excluded values. Values of another type are never excluded, so
    /// `{"anything-but": "x"}` matches `null` and `5`.
    fn excludes(&self, scalar: &Value) -> bool {
        let text = scalar.as_str();
        match self {
            Self::Strings(values) => text.is_some_and(|text| values.iter().any(|value| value == text)),
            Self::Numbers(values) => scalar
                .as_number()
                .and_then(comparable)
                .is_some_and(|number| values.iter().any(|value| value.total_cmp(&number).is_eq())),
            Self::Prefixes(prefixes) => {
                text.is_some_and(|text| prefixes.iter().any(|prefix| text.starts_with(prefix.as_str())))
            }
            Self::Suffixes(suffixes) => {
                text.is_some_and(|text| suffixes.iter().any(|suffix| text.ends_with(suffix.as_str())))
            }
            Self::IgnoreCase(values) => {
                text.is_some_and(|text| values.iter().any(|value| value.equals(text)))
            }
            Self::Wildcards(wildcards) => {
                text.is_some_and(|text| wildcards.iter().any(|wildcard| wildcard.matches(text)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// Whether the record passes the one pattern (which must be valid).
    fn passes(pattern: Value, record: Value) -> bool {
        let criteria = FilterCriteria::parse(&[pattern.to_string()])
            .unwrap_or_else(|message| panic!("{pattern} should be valid: {message}"));
        criteria.matches(&record)
    }

    /// Why the pattern text is invalid (it must be).
    fn rejection(pattern: &str) -> &'static str {
        match parse_pattern(pattern) {
            Ok(parsed) => panic!("{pattern} should be invalid, parsed as {parsed:?}"),
            Err(Invalid(reason)) => reason,
        }
    }

    /// Asserts every pattern is invalid, and that FilterCriteria answers with AWS's text.
    fn assert_all_invalid(patterns: &[&str]) {
        for pattern in patterns {
            rejection(pattern);
            assert_eq!(
                FilterCriteria::parse(&[(*pattern).to_owned()]).err().as_deref(),
                Some(INVALID_FILTER_PATTERN),
                "{pattern}"
            );
        }
    }

    /// A DynamoDB stream record as Lambda delivers it.
    fn stream_record(event_name: &str, new_image: Value) -> Value {
        json!({
            "eventID": "c4ca4238a0b923820dcc509a6f75849b",
            "eventName": event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": 1_733_418_659.0,
                "Keys": {"PK": {"S": "COMPANY#1000"}, "SK": {"S": "PRODUCT#CHOCOLATE#DARK#1000"}},
                "NewImage": new_image,
                "SequenceNumber": "700000000000888747038",
                "SizeBytes": 174,
                "StreamViewType": "NEW_AND_OLD_IMAGES"
            },
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"
        })
    }

    // --- criteria as a whole ---

    #[test]
    fn criteria_without_filters_pass_every_record() {
        let criteria = FilterCriteria::parse(&[]).unwrap();
        assert!(criteria.is_empty());
        assert!(criteria.matches(&json!({"eventName": "REMOVE"})));
    }

    #[test]
    fn criteria_pass_a_record_that_any_filter_matches() {
        let criteria = FilterCriteria::parse(&[
            r#"{"eventName": ["INSERT"]}"#.to_owned(),
            r#"{"eventName": ["REMOVE"]}"#.to_owned(),
        ])
        .unwrap();
        assert_eq!(criteria.len(), 2);
        assert!(criteria.matches(&json!({"eventName": "INSERT"})));
        assert!(criteria.matches(&json!({"eventName": "REMOVE"})));
        assert!(!criteria.matches(&json!({"eventName": "MODIFY"})));
    }

    #[test]
    fn criteria_with_one_invalid_filter_fail_with_aws_message() {
        let patterns = [
            r#"{"eventName": ["INSERT"]}"#.to_owned(),
            r#"{"eventName": "INSERT"}"#.to_owned(),
        ];
        assert_eq!(
            FilterCriteria::parse(&patterns).err().as_deref(),
            Some("Invalid filter pattern definition.")
        );
    }

    // --- exact values ---

    #[test]
    fn exact_string_matches_only_the_same_string() {
        assert!(passes(json!({"a": ["x"]}), json!({"a": "x"})));
        assert!(!passes(json!({"a": ["x"]}), json!({"a": "X"})));
        assert!(!passes(json!({"a": ["x"]}), json!({"a": "x "})));
        assert!(!passes(json!({"a": ["x"]}), json!({"b": "x"})));
        assert!(!passes(json!({"a": ["5"]}), json!({"a": 5})));
    }

    #[test]
    fn exact_string_keeps_unicode_and_whitespace() {
        let text = "A CamelCase string with an emoji 🚀 and trailing whitespace ";
        assert!(passes(json!({"s": [text]}), json!({"s": text})));
        assert!(!passes(json!({"s": [text]}), json!({"s": text.trim_end()})));
    }

    #[test]
    fn exact_number_matches_numerically_equal_json_numbers() {
        assert!(passes(json!({"n": [5]}), json!({"n": 5.0})));
        assert!(passes(json!({"n": [300]}), json!({"n": 3.0e2})));
        assert!(passes(json!({"n": [0.5]}), json!({"n": 0.5})));
        assert!(!passes(json!({"n": [5]}), json!({"n": 5.5})));
        assert!(!passes(json!({"n": [5]}), json!({"n": "5"})));
    }

    #[test]
    fn exact_number_beyond_double_precision_matches_only_the_same_integer() {
        let pattern = r#"{"account": [123456789012345678]}"#;
        let criteria = FilterCriteria::parse(&[pattern.to_owned()]).unwrap();
        assert!(criteria.matches(&serde_json::from_str(r#"{"account": 123456789012345678}"#).unwrap()));
        assert!(!criteria.matches(&serde_json::from_str(r#"{"account": 123456789012345679}"#).unwrap()));
        assert!(!criteria.matches(&json!({"account": 123_456_789_012_345_678_f64})));
    }

    #[test]
    fn exact_booleans_match_json_booleans_only() {
        assert!(passes(json!({"b": [false]}), json!({"b": false})));
        assert!(!passes(json!({"b": [false]}), json!({"b": true})));
        assert!(!passes(json!({"b": [true]}), json!({"b": "true"})));
    }

    #[test]
    fn null_matches_json_null_but_not_a_missing_key_or_the_string_null() {
        assert!(passes(json!({"r": [null]}), json!({"r": null})));
        assert!(!passes(json!({"r": [null]}), json!({"r": "null"})));
        assert!(!passes(json!({"r": [null]}), json!({"other": 1})));
        assert!(!passes(json!({"r": [null]}), json!({"r": []})));
    }

    #[test]
    fn empty_string_matches_only_the_empty_string() {
        assert!(passes(json!({"v": [""]}), json!({"v": ""})));
        assert!(!passes(json!({"v": [""]}), json!({"v": null})));
        assert!(!passes(json!({"v": [""]}), json!({})));
    }

    #[test]
    fn exact_ip_address_matches_another_spelling_of_the_same_address() {
        assert!(passes(
            json!({"ip": ["2001:DB8::1"]}),
            json!({"ip": "2001:0db8:0:0:0:0:0:1"})
        ));
        assert!(passes(json!({"ip": ["10.0.0.1"]}), json!({"ip": "10.0.0.1"})));
        assert!(!passes(json!({"ip": ["10.0.0.1"]}), json!({"ip": "10.0.0.2"})));
    }

    // --- AND, OR, arrays ---

    #[test]
    fn leaf_alternatives_are_ored() {
        let pattern = json!({"eventName": ["INSERT", "MODIFY"]});
        assert!(passes(pattern.clone(), json!({"eventName": "INSERT"})));
        assert!(passes(pattern.clone(), json!({"eventName": "MODIFY"})));
        assert!(!passes(pattern, json!({"eventName": "REMOVE"})));
    }

    #[test]
    fn object_keys_are_anded() {
        let pattern = json!({"eventName": ["INSERT"], "eventSource": ["aws:dynamodb"]});
        assert!(passes(
            pattern.clone(),
            json!({"eventName": "INSERT", "eventSource": "aws:dynamodb"})
        ));
        assert!(!passes(
            pattern.clone(),
            json!({"eventName": "INSERT", "eventSource": "aws:kinesis"})
        ));
        assert!(!passes(pattern, json!({"eventName": "INSERT"})));
    }

    #[test]
    fn keys_are_case_sensitive() {
        assert!(!passes(json!({"MY_KEY": ["v"]}), json!({"my_key": "v"})));
    }

    #[test]
    fn record_fields_the_pattern_does_not_name_are_ignored() {
        assert!(passes(
            json!({"a": ["1"]}),
            json!({"a": "1", "b": {"c": [1, 2]}, "d": null})
        ));
    }

    #[test]
    fn pattern_object_does_not_match_a_json_string_holding_the_object() {
        assert!(!passes(
            json!({"detail": {"k": ["v"]}}),
            json!({"detail": "{\"k\": \"v\"}"})
        ));
    }

    #[test]
    fn record_array_matches_when_any_element_matches() {
        let pattern = json!({"resources": ["arn:b", "arn:c"]});
        assert!(passes(pattern.clone(), json!({"resources": ["arn:a", "arn:b"]})));
        assert!(!passes(pattern.clone(), json!({"resources": ["arn:a"]})));
        assert!(!passes(pattern, json!({"resources": []})));
        assert!(passes(
            json!({"nested": ["x"]}),
            json!({"nested": [["a"], ["x"]]})
        ));
    }

    #[test]
    fn record_array_of_objects_matches_when_one_element_satisfies_the_sub_pattern() {
        let record = json!({"employees": [
            {"firstName": "John", "lastName": "Doe"},
            {"firstName": "Anna", "lastName": "Smith"},
            {"firstName": "Peter", "lastName": "Jones"}
        ]});
        assert!(passes(
            json!({"employees": {"firstName": ["Anna"]}}),
            record.clone()
        ));
        assert!(passes(
            json!({"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}),
            record.clone()
        ));
        assert!(!passes(
            json!({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}),
            record
        ));
    }

    #[test]
    fn record_array_elements_never_combine_across_nested_arrays() {
        let record = json!({"a": [[{"b": "1"}, {"c": "2"}]]});
        assert!(!passes(json!({"a": {"b": ["1"], "c": ["2"]}}), record.clone()));
        assert!(passes(
            json!({"a": {"b": ["1"]}, "x": [{"exists": false}]}),
            record
        ));
    }

    #[test]
    fn scalar_where_pattern_expects_an_object_counts_as_missing() {
        assert!(!passes(json!({"a": {"b": ["1"]}}), json!({"a": "1"})));
        assert!(passes(
            json!({"a": {"b": [{"exists": false}]}}),
            json!({"a": "1"})
        ));
    }

    // --- prefix, suffix, equals-ignore-case, wildcard ---

    #[test]
    fn prefix_matches_strings_that_start_with_it() {
        let pattern = json!({"time": [{"prefix": "2022-07-13"}]});
        assert!(passes(pattern.clone(), json!({"time": "2022-07-13T13:48:01Z"})));
        assert!(!passes(pattern.clone(), json!({"time": "2022-07-14T13:48:01Z"})));
        assert!(!passes(json!({"n": [{"prefix": "1"}]}), json!({"n": 12})));
        assert!(passes(json!({"s": [{"prefix": ""}]}), json!({"s": "anything"})));
        assert!(!passes(json!({"s": [{"prefix": ""}]}), json!({"s": null})));
    }

    #[test]
    fn prefix_equals_ignore_case_matches_regardless_of_case() {
        let pattern = json!({"service": [{"prefix": {"equals-ignore-case": "EventB"}}]});
        assert!(passes(pattern.clone(), json!({"service": "EvEnTbridge"})));
        assert!(!passes(pattern, json!({"service": "Event"})));
    }

    #[test]
    fn suffix_matches_strings_that_end_with_it_case_sensitively() {
        assert!(passes(
            json!({"f": [{"suffix": ".png"}]}),
            json!({"f": "image.png"})
        ));
        assert!(!passes(
            json!({"f": [{"suffix": ".PNG"}]}),
            json!({"f": "image.png"})
        ));
        assert!(passes(json!({"f": [{"suffix": ""}]}), json!({"f": "x"})));
    }

    #[test]
    fn suffix_equals_ignore_case_matches_regardless_of_case() {
        let pattern = json!({"f": [{"suffix": {"equals-ignore-case": ".png"}}]});
        assert!(passes(pattern.clone(), json!({"f": "image.PNG"})));
        assert!(!passes(pattern, json!({"f": "image.jpg"})));
    }

    #[test]
    fn equals_ignore_case_matches_whole_strings_regardless_of_case() {
        let pattern = json!({"t": [{"equals-ignore-case": "ec2 instance state-change notification"}]});
        assert!(passes(
            pattern.clone(),
            json!({"t": "EC2 Instance State-change Notification"})
        ));
        assert!(passes(
            pattern.clone(),
            json!({"t": ["other", "EC2 INSTANCE STATE-CHANGE NOTIFICATION"]})
        ));
        assert!(!passes(
            pattern,
            json!({"t": "EC2 Instance State-change Notification!"})
        ));
        assert!(passes(
            json!({"v": [{"equals-ignore-case": ""}]}),
            json!({"v": ""})
        ));
        assert!(!passes(
            json!({"v": [{"equals-ignore-case": ""}]}),
            json!({"v": "x"})
        ));
    }

    #[test]
    fn equals_ignore_case_folds_characters_whose_case_forms_differ_in_length() {
        let pattern = json!({"street": [{"equals-ignore-case": "straße"}]});
        assert!(passes(pattern.clone(), json!({"street": "STRASSE"})));
        assert!(passes(pattern.clone(), json!({"street": "Straße"})));
        assert!(!passes(pattern, json!({"street": "STRASE"})));
        assert!(passes(
            json!({"s": [{"suffix": {"equals-ignore-case": "ße"}}]}),
            json!({"s": "GROSSE"})
        ));
    }

    #[test]
    fn wildcard_star_matches_any_run_of_characters() {
        let pattern = json!({"arn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]});
        assert!(passes(
            pattern.clone(),
            json!({"arn": "arn:aws:events:us-east-1:123456789012:event-bus/b"})
        ));
        assert!(passes(
            pattern.clone(),
            json!({"arn": "arn:aws:events:us-east-1::event-bus/"})
        ));
        assert!(!passes(
            pattern,
            json!({"arn": "arn:aws:events:eu-west-1:1:event-bus/b"})
        ));
        let repeating = json!({"f": [{"wildcard": "/Users/*/dir/dir/doc.txt"}]});
        assert!(passes(
            repeating.clone(),
            json!({"f": "/Users/me/dir/dir/dir/dir/doc.txt"})
        ));
        assert!(!passes(
            repeating,
            json!({"f": "/Users/me/dir/dir/other/doc.txt"})
        ));
    }

    #[test]
    fn wildcard_without_star_or_with_escapes_matches_literally() {
        assert!(passes(json!({"f": [{"wildcard": "a\\*b"}]}), json!({"f": "a*b"})));
        assert!(!passes(
            json!({"f": [{"wildcard": "a\\*b"}]}),
            json!({"f": "axb"})
        ));
        assert!(passes(
            json!({"f": [{"wildcard": "a\\\\b"}]}),
            json!({"f": "a\\b"})
        ));
        assert!(passes(json!({"f": [{"wildcard": ""}]}), json!({"f": ""})));
        assert!(!passes(json!({"f": [{"wildcard": ""}]}), json!({"f": "x"})));
        assert!(!passes(json!({"f": [{"wildcard": "a*a"}]}), json!({"f": "a"})));
        assert!(!passes(json!({"f": [{"wildcard": "*"}]}), json!({"f": 1})));
    }

    // --- anything-but ---

    #[test]
    fn anything_but_string_matches_every_other_present_value() {
        let pattern = json!({"state": [{"anything-but": "initializing"}]});
        assert!(passes(pattern.clone(), json!({"state": "pending"})));
        assert!(!passes(pattern.clone(), json!({"state": "initializing"})));
        assert!(passes(pattern.clone(), json!({"state": null})));
        assert!(passes(pattern.clone(), json!({"state": 5})));
        assert!(!passes(pattern.clone(), json!({})));
        assert!(!passes(pattern, json!({"state": {"nested": "x"}})));
    }

    #[test]
    fn anything_but_list_excludes_every_listed_value() {
        let strings = json!({"state": [{"anything-but": ["stopped", "overloaded"]}]});
        assert!(passes(strings.clone(), json!({"state": "pending"})));
        assert!(!passes(strings.clone(), json!({"state": "stopped"})));
        assert!(passes(strings, json!({"state": null})));
        let numbers = json!({"x": [{"anything-but": [100, 200, 300]}]});
        assert!(passes(numbers.clone(), json!({"x": 999})));
        assert!(!passes(numbers.clone(), json!({"x": 300.0})));
        assert!(passes(numbers, json!({"x": "300"})));
    }

    #[test]
    fn anything_but_number_excludes_numerically_equal_values() {
        let pattern = json!({"x": [{"anything-but": 123}]});
        assert!(passes(pattern.clone(), json!({"x": 789})));
        assert!(!passes(pattern.clone(), json!({"x": 123})));
        assert!(!passes(pattern.clone(), json!({"x": 1.23e2})));
        assert!(passes(json!({"x": [{"anything-but": 0}]}), json!({"x": 789})));
        assert!(passes(pattern, json!({"x": "123"})));
    }

    #[test]
    fn anything_but_prefix_and_suffix_exclude_matching_strings_only() {
        let prefix = json!({"s": [{"anything-but": {"prefix": "init"}}]});
        assert!(passes(prefix.clone(), json!({"s": "post-init"})));
        assert!(!passes(prefix.clone(), json!({"s": "init-prefix"})));
        assert!(passes(prefix.clone(), json!({"s": 12})));
        assert!(passes(prefix.clone(), json!({"s": null})));
        assert!(!passes(prefix, json!({})));
        let prefixes = json!({"s": [{"anything-but": {"prefix": ["init", "post"]}}]});
        assert!(!passes(prefixes.clone(), json!({"s": "post-init"})));
        assert!(passes(prefixes, json!({"s": "pre"})));
        let suffixes = json!({"f": [{"anything-but": {"suffix": [".txt", ".jpg"]}}]});
        assert!(passes(suffixes.clone(), json!({"f": "file.txt.bak"})));
        assert!(!passes(suffixes.clone(), json!({"f": "file.jpg"})));
        assert!(passes(suffixes, json!({"f": null})));
    }

    #[test]
    fn anything_but_equals_ignore_case_excludes_strings_in_any_case() {
        let pattern = json!({"s": [{"anything-but": {"equals-ignore-case": ["initializing", "stopped"]}}]});
        assert!(passes(pattern.clone(), json!({"s": "pending"})));
        assert!(!passes(pattern.clone(), json!({"s": "Stopped"})));
        assert!(passes(pattern.clone(), json!({"s": null})));
        assert!(!passes(pattern, json!({})));
        assert!(!passes(
            json!({"s": [{"anything-but": {"equals-ignore-case": "initializing"}}]}),
            json!({"s": "INITIALIZING"})
        ));
    }

    #[test]
    fn anything_but_wildcard_excludes_matching_strings() {
        let pattern = json!({"p": [{"anything-but": {"wildcard": ["*/init/*", "*/dir/*"]}}]});
        assert!(passes(pattern.clone(), json!({"p": "dir/post/x"})));
        assert!(!passes(pattern.clone(), json!({"p": "dir/init/x"})));
        assert!(passes(pattern, json!({"p": 123})));
        assert!(passes(
            json!({"p": [{"anything-but": {"wildcard": ""}}]}),
            json!({"p": "x"})
        ));
    }

    #[test]
    fn anything_but_on_a_record_array_matches_when_any_element_is_not_excluded() {
        let pattern = json!({"tags": [{"anything-but": "a"}]});
        assert!(passes(pattern.clone(), json!({"tags": ["a", "b"]})));
        assert!(!passes(pattern.clone(), json!({"tags": ["a", "a"]})));
        assert!(!passes(pattern, json!({"tags": []})));
    }

    // --- numeric ---

    #[test]
    fn numeric_compares_json_numbers_with_every_operator() {
        let cases = [
            (json!(["<", 200]), 100, true),
            (json!(["<", 200]), 200, false),
            (json!(["<=", 200]), 200, true),
            (json!([">", 200]), 300, true),
            (json!([">", 200]), 200, false),
            (json!([">=", 200]), 200, true),
            (json!(["=", 200]), 200, true),
            (json!(["=", 200]), 201, false),
            (json!([">=", 200, "<=", 500]), 500, true),
            (json!([">", 200, "<", 500]), 500, false),
            (json!([">", 200, "<", 500]), 300, true),
            (json!([">=", 200, "<", 500]), 200, true),
            (json!([">", 0, "<=", 5]), 0, false),
        ];
        for (terms, value, expected) in cases {
            let pattern = json!({"n": [{"numeric": terms}]});
            assert_eq!(
                passes(pattern.clone(), json!({"n": value})),
                expected,
                "{pattern} vs {value}"
            );
        }
    }

    #[test]
    fn numeric_matches_floats_and_integers_alike() {
        assert!(passes(
            json!({"n": [{"numeric": [">", 100]}]}),
            json!({"n": 101.0})
        ));
        assert!(passes(
            json!({"n": [{"numeric": ["=", 301.8]}]}),
            json!({"n": 3.018e2})
        ));
        assert!(passes(
            json!({"n": [{"numeric": [">", -1.5e300]}]}),
            json!({"n": -1})
        ));
    }

    #[test]
    fn numeric_never_matches_strings_or_null() {
        let pattern = json!({"n": [{"numeric": [">", 100]}]});
        assert!(!passes(pattern.clone(), json!({"n": "300"})));
        assert!(!passes(pattern.clone(), json!({"n": null})));
        assert!(!passes(pattern, json!({})));
    }

    // --- exists ---

    #[test]
    fn exists_true_matches_a_present_leaf_including_null() {
        let pattern = json!({"detail": {"state": [{"exists": true}]}});
        assert!(passes(pattern.clone(), json!({"detail": {"state": "pending"}})));
        assert!(passes(pattern.clone(), json!({"detail": {"state": null}})));
        assert!(passes(pattern.clone(), json!({"detail": {"state": ["a"]}})));
        assert!(!passes(pattern.clone(), json!({"detail": {"other": 1}})));
        assert!(!passes(pattern, json!({})));
    }

    #[test]
    fn exists_true_does_not_match_an_object_or_an_empty_array() {
        let pattern = json!({"k": [{"exists": true}]});
        assert!(!passes(pattern.clone(), json!({"k": {"S": "x"}})));
        assert!(!passes(pattern.clone(), json!({"k": []})));
        assert!(!passes(pattern, json!({"k": [{"S": "x"}]})));
    }

    #[test]
    fn exists_false_matches_a_missing_leaf_however_deep() {
        let pattern = json!({"detail": {"level1": {"level2": {"level3": [{"exists": false}]}}}});
        assert!(passes(
            pattern.clone(),
            json!({"detail": {"level1": {"level2": "l2 value"}}})
        ));
        assert!(passes(pattern.clone(), json!({})));
        assert!(passes(
            pattern.clone(),
            json!({"detail": {"level1": {"level2": {"level3": {"deeper": 1}}}}})
        ));
        assert!(!passes(
            pattern,
            json!({"detail": {"level1": {"level2": {"level3": "l3"}}}})
        ));
    }

    #[test]
    fn exists_false_on_an_array_of_objects_needs_absence_in_every_element() {
        let pattern = json!({"items": {"id": [{"exists": false}]}});
        assert!(passes(pattern.clone(), json!({"items": [{"x": 1}, {"y": 2}]})));
        assert!(passes(pattern.clone(), json!({"items": []})));
        assert!(!passes(pattern, json!({"items": [{"x": 1}, {"id": 2}]})));
    }

    #[test]
    fn exists_true_on_an_array_of_objects_needs_one_element_with_the_leaf() {
        let pattern = json!({"detail": {"automations": {"id": [{"exists": true}]}}});
        let record = json!({"detail": {"automations": [{"key1": "v1"}, {"id": "match"}, {"key2": "v2"}]}});
        assert!(passes(pattern, record));
    }

    #[test]
    fn exists_false_is_ored_with_the_other_alternatives_of_its_leaf() {
        let pattern = json!({"dynamodb": {"NewImage": {"homemade": {"S": [
            {"anything-but": ["roses"]}, {"exists": false}
        ]}}}});
        let image = |homemade: Value| json!({"dynamodb": {"NewImage": homemade}});
        assert!(passes(
            pattern.clone(),
            image(json!({"homemade": {"S": "ABCD", "N": "1234"}}))
        ));
        assert!(passes(pattern.clone(), image(json!({"homemade": {"N": "789"}}))));
        assert!(passes(pattern.clone(), image(json!({"purchased": {"N": "789"}}))));
        assert!(!passes(pattern, image(json!({"homemade": {"S": "roses"}}))));
    }

    #[test]
    fn several_alternatives_in_one_leaf_match_when_any_does() {
        let pattern = json!({"k": [{"exists": true}, {"prefix": "IGNORED"}, {"suffix": "IGNORED"}]});
        assert!(passes(pattern, json!({"k": "my-value"})));
    }

    // --- cidr ---

    #[test]
    fn cidr_matches_addresses_inside_the_network() {
        let pattern = json!({"ip": [{"cidr": "10.0.0.0/24"}]});
        assert!(passes(pattern.clone(), json!({"ip": "10.0.0.255"})));
        assert!(!passes(pattern.clone(), json!({"ip": "10.0.1.0"})));
        assert!(!passes(pattern.clone(), json!({"ip": "10.0.0.256"})));
        assert!(!passes(pattern.clone(), json!({"ip": 123})));
        assert!(!passes(pattern, json!({"ip": "::ffff:b00:1"})));
        assert!(passes(
            json!({"ip": [{"cidr": "10.0.0.9/24"}]}),
            json!({"ip": "10.0.0.1"})
        ));
        assert!(passes(
            json!({"ip": [{"cidr": "0.0.0.0/0"}]}),
            json!({"ip": "::ffff:a00:1"})
        ));
    }

    #[test]
    fn cidr_matches_ipv6_addresses_inside_the_network() {
        let pattern = json!({"ip": [{"cidr": "2001:db8:1234:1a00::/64"}]});
        assert!(passes(
            pattern.clone(),
            json!({"ip": "2001:0db8:1234:1a00:0000:0000:0000:0000"})
        ));
        assert!(!passes(
            pattern.clone(),
            json!({"ip": "2001:0db8:123f:1a01:0000:0000:0000:0000"})
        ));
        assert!(!passes(pattern, json!({"ip": "10.0.0.1"})));
    }

    // --- $or ---

    #[test]
    fn or_matches_when_any_branch_matches_alongside_the_other_fields() {
        let pattern = json!({
            "source": ["aws.cloudwatch"],
            "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}]
        });
        assert!(passes(
            pattern.clone(),
            json!({"source": "aws.cloudwatch", "namespace": "AWS/EC2"})
        ));
        assert!(passes(
            pattern.clone(),
            json!({"source": "aws.cloudwatch", "metricName": "CPUUtilization"})
        ));
        assert!(!passes(
            pattern.clone(),
            json!({"source": "aws.s3", "namespace": "AWS/EC2"})
        ));
        assert!(!passes(pattern, json!({"source": "aws.cloudwatch"})));
    }

    #[test]
    fn or_works_at_nested_levels_and_inside_other_ors() {
        let nested = json!({"detail": {"$or": [
            {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
            {"d-count": [{"numeric": ["<", 10]}]},
            {"x-limit": [{"numeric": ["=", 301.8]}]}
        ]}});
        assert!(passes(
            nested.clone(),
            json!({"detail": {"c-count": 0, "d-count": 0, "x-limit": 901.8}})
        ));
        assert!(!passes(
            nested,
            json!({"detail": {"c-count": 0, "d-count": 10, "x-limit": 901.8}})
        ));
        let inner = json!({"$or": [
            {"a": ["1"]},
            {"b": ["2"], "$or": [{"c": ["3"]}, {"d": ["4"]}]}
        ]});
        assert!(passes(inner.clone(), json!({"a": "1"})));
        assert!(passes(inner.clone(), json!({"b": "2", "d": "4"})));
        assert!(!passes(inner, json!({"b": "2"})));
    }

    #[test]
    fn parallel_ors_must_each_match() {
        let pattern = json!({
            "$or": [{"a": ["1"]}, {"b": ["1"]}],
            "detail": {"$or": [{"c": ["1"]}, {"d": ["1"]}]}
        });
        assert!(passes(pattern.clone(), json!({"b": "1", "detail": {"c": "1"}})));
        assert!(!passes(pattern, json!({"b": "1", "detail": {"e": "1"}})));
    }

    #[test]
    fn or_branches_apply_to_the_same_array_element() {
        let pattern = json!({"items": {"kind": ["book"], "$or": [{"price": [1]}, {"free": [true]}]}});
        assert!(passes(
            pattern.clone(),
            json!({"items": [{"kind": "book", "free": true}]})
        ));
        assert!(!passes(
            pattern,
            json!({"items": [{"kind": "book"}, {"free": true}]})
        ));
    }

    #[test]
    fn or_of_an_absence_branch_and_a_value_branch_reads_an_array_like_two_filters() {
        // The absence-only branch must hold in every element; the value branch in one element.
        let pattern =
            json!({"items": {"$or": [{"a": [{"exists": false}]}, {"a": [{"numeric": [">=", 0]}]}]}});
        assert!(!passes(pattern.clone(), json!({"items": [{"a": "x"}, "scalar"]})));
        assert!(passes(pattern.clone(), json!({"items": [{"a": "x"}, {"a": 1}]})));
        assert!(passes(pattern, json!({"items": [{"b": "x"}, "scalar"]})));
    }

    #[test]
    fn or_that_is_not_an_operator_is_an_ordinary_field_name() {
        let object = json!({"source": ["aws.cloudwatch"], "$or": {"metricType": ["MetricType"]}});
        assert!(passes(
            object.clone(),
            json!({"source": "aws.cloudwatch", "$or": {"metricType": "MetricType"}})
        ));
        assert!(!passes(
            object,
            json!({"source": "aws.cloudwatch", "metricType": "MetricType"})
        ));
        let single = json!({"$or": [{"cidr": "10.0.0.0/24"}]});
        assert!(passes(single, json!({"$or": "10.0.0.7"})));
        let expressions =
            json!({"detail": {"$or": [{"numeric": [">", 0, "<=", 5]}, {"numeric": [">", 10]}]}});
        assert!(passes(expressions.clone(), json!({"detail": {"$or": 11}})));
        assert!(!passes(expressions, json!({"detail": {"$or": 7}})));
    }

    #[test]
    fn duplicate_keys_keep_the_last_value() {
        let pattern =
            r#"{"data": {"duplicateKey": ["hello"], "uniqueKey": ["test123"], "duplicateKey": ["world"]}}"#;
        let criteria = FilterCriteria::parse(&[pattern.to_owned()]).unwrap();
        assert!(criteria.matches(&json!({"data": {"duplicateKey": "world", "uniqueKey": "test123"}})));
        assert!(!criteria.matches(&json!({"data": {"duplicateKey": "hello", "uniqueKey": "test123"}})));
    }

    #[test]
    fn dotted_pattern_keys_match_dotted_record_keys() {
        assert!(passes(
            json!({"detail": {"a.b": ["x"]}}),
            json!({"detail": {"a.b": "x"}})
        ));
    }

    // --- DynamoDB-shaped records ---

    #[test]
    fn dynamodb_event_name_filter_matches_the_record_event_name() {
        let pattern = json!({"eventName": ["INSERT"]});
        assert!(passes(
            pattern.clone(),
            stream_record("INSERT", json!({"id": {"S": "1"}}))
        ));
        assert!(!passes(
            pattern,
            stream_record("MODIFY", json!({"id": {"S": "1"}}))
        ));
    }

    #[test]
    fn dynamodb_new_image_filter_needs_the_attribute_type_key() {
        let typed = json!({"dynamodb": {"NewImage": {"status": {"S": ["active"]}}}});
        let untyped = json!({"dynamodb": {"NewImage": {"status": ["active"]}}});
        let active = stream_record("INSERT", json!({"status": {"S": "active"}}));
        assert!(passes(typed.clone(), active.clone()));
        assert!(!passes(untyped, active));
        assert!(!passes(
            typed,
            stream_record("INSERT", json!({"status": {"S": "inactive"}}))
        ));
    }

    #[test]
    fn dynamodb_number_attributes_match_as_strings_not_numerically() {
        let record = stream_record("INSERT", json!({"numericFilter": {"N": "42"}}));
        assert!(passes(
            json!({"dynamodb": {"NewImage": {"numericFilter": {"N": ["42"]}}}}),
            record.clone()
        ));
        assert!(!passes(
            json!({"dynamodb": {"NewImage": {"numericFilter": {"N": [42]}}}}),
            record.clone()
        ));
        let numeric = json!({"dynamodb": {"NewImage": {"numericFilter": {"N": [{"numeric": [">", 10]}]}}}});
        assert!(!passes(numeric, record));
    }

    #[test]
    fn dynamodb_numeric_or_anything_but_drops_only_the_excluded_number() {
        let pattern = json!({"dynamodb": {"NewImage": {"numericFilter": {"N": [
            {"numeric": [">", 100]}, {"anything-but": "101"}
        ]}}}});
        assert!(passes(
            pattern.clone(),
            stream_record("INSERT", json!({"numericFilter": {"N": "42"}}))
        ));
        assert!(!passes(
            pattern,
            stream_record("INSERT", json!({"numericFilter": {"N": "101"}}))
        ));
    }

    #[test]
    fn dynamodb_keys_prefix_filter_matches_both_key_attributes() {
        let pattern = json!({"dynamodb": {"Keys": {
            "PK": {"S": [{"prefix": "COMPANY"}]},
            "SK": {"S": [{"prefix": "PRODUCT"}]}
        }}});
        assert!(passes(pattern, stream_record("INSERT", json!({}))));
    }

    #[test]
    fn dynamodb_approximate_creation_time_is_a_number() {
        let pattern = json!({"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0]}]}});
        assert!(passes(pattern, stream_record("INSERT", json!({}))));
    }

    #[test]
    fn dynamodb_exists_needs_the_attribute_type_key() {
        let record = stream_record("INSERT", json!({"presentKey": {"S": "v"}}));
        let typed = json!({"dynamodb": {"NewImage": {"presentKey": {"S": [{"exists": true}]}}}});
        let untyped = json!({"dynamodb": {"NewImage": {"presentKey": [{"exists": true}]}}});
        let absent = json!({"dynamodb": {"NewImage": {"presentKey": [{"exists": false}]}}});
        assert!(passes(typed, record.clone()));
        assert!(!passes(untyped, record.clone()));
        assert!(passes(absent.clone(), record));
        assert!(passes(
            absent.clone(),
            stream_record("INSERT", json!({"id": {"S": "1"}}))
        ));
        let removed = json!({"eventName": "REMOVE", "dynamodb": {"Keys": {"id": {"S": "1"}}}});
        assert!(passes(absent, removed));
    }

    #[test]
    fn dynamodb_boolean_list_set_and_map_attributes_can_be_filtered() {
        let record = stream_record(
            "MODIFY",
            json!({
                "flag": {"BOOL": true},
                "tags": {"SS": ["red", "green"]},
                "history": {"L": [{"S": "created"}, {"M": {"by": {"S": "alice"}}}]},
                "gone": {"NULL": true}
            }),
        );
        let image = |condition: Value| json!({"dynamodb": {"NewImage": condition}});
        assert!(passes(image(json!({"flag": {"BOOL": [true]}})), record.clone()));
        assert!(passes(image(json!({"tags": {"SS": ["green"]}})), record.clone()));
        assert!(!passes(image(json!({"tags": {"SS": ["blue"]}})), record.clone()));
        assert!(passes(
            image(json!({"history": {"L": {"S": ["created"]}}})),
            record.clone()
        ));
        assert!(passes(
            image(json!({"history": {"L": {"M": {"by": {"S": ["alice"]}}}}})),
            record.clone()
        ));
        assert!(passes(image(json!({"gone": {"NULL": [true]}})), record.clone()));
        assert!(passes(
            json!({"eventName": ["MODIFY"], "eventSource": ["aws:dynamodb"]}),
            record
        ));
    }

    // --- invalid patterns ---

    #[test]
    fn invalid_json_is_an_invalid_pattern() {
        assert_all_invalid(&[
            "",
            "single-string",
            r#"[{"eventName": ["INSERT"=123}]"#,
            r#"{"a": ["x"],}"#,
            r#"{"a": ["x"]} trailing"#,
            r#"{'a': ['x']}"#,
            r#"{"a": [NaN]}"#,
        ]);
        assert_eq!(rejection("{"), "pattern is not valid JSON");
    }

    #[test]
    fn non_object_top_level_is_an_invalid_pattern() {
        assert_all_invalid(&["[]", r#"[{"a": ["x"]}]"#, r#""x""#, "1", "true", "null"]);
        assert_eq!(rejection("[]"), "pattern is not a JSON object");
    }

    #[test]
    fn empty_objects_are_invalid_patterns() {
        assert_all_invalid(&["{}", r#"{"a": {}}"#, r#"{"a": ["x"], "b": {"c": {}}}"#]);
        assert_eq!(rejection(r#"{"a": {}}"#), "empty objects are not allowed");
    }

    #[test]
    fn non_array_leaves_are_invalid_patterns() {
        assert_all_invalid(&[
            r#"{"string": "my-value"}"#,
            r#"{"int": 42}"#,
            r#"{"b": true}"#,
            r#"{"n": null}"#,
            r#"{"dynamodb": {"NewImage": {"status": {"S": "active"}}}}"#,
        ]);
        assert_eq!(
            rejection(r#"{"int": 42}"#),
            "a field must be an object or an array"
        );
    }

    #[test]
    fn empty_arrays_are_invalid_patterns() {
        assert_all_invalid(&[
            r#"{"resources": []}"#,
            r#"{"a": [{"anything-but": []}]}"#,
            r#"{"a": [{"anything-but": {"prefix": []}}]}"#,
            r#"{"a": [{"numeric": []}]}"#,
            r#"{"$or": []}"#,
        ]);
        assert_eq!(rejection(r#"{"resources": []}"#), "empty arrays are not allowed");
    }

    #[test]
    fn nested_arrays_in_a_leaf_are_invalid_patterns() {
        assert_all_invalid(&[r#"{"a": [["x"]]}"#, r#"{"a": ["x", []]}"#]);
    }

    #[test]
    fn unknown_or_miscased_operators_are_invalid_patterns() {
        assert_all_invalid(&[
            r#"{"a": [{"NUMERIC": ["=", 5]}]}"#,
            r#"{"a": [{"EXISTS": true}]}"#,
            r#"{"a": [{"contains": "x"}]}"#,
            r#"{"a": [{"regex": "x"}]}"#,
            r#"{"a": [{}]}"#,
            r#"{"a": [{"prefix": "x", "suffix": "y"}]}"#,
        ]);
        assert_eq!(
            rejection(r#"{"a": [{"contains": "x"}]}"#),
            "unknown match expression"
        );
        assert_eq!(
            rejection(r#"{"a": [{}]}"#),
            "a match expression has exactly one key"
        );
    }

    #[test]
    fn malformed_string_operators_are_invalid_patterns() {
        assert_all_invalid(&[
            r#"{"a": [{"prefix": 123}]}"#,
            r#"{"a": [{"prefix": ["x"]}]}"#,
            r#"{"a": [{"prefix": {"suffix": "x"}}]}"#,
            r#"{"a": [{"prefix": {"equals-ignore-case": 1}}]}"#,
            r#"{"a": [{"prefix": {"equals-ignore-case": "x", "other": "y"}}]}"#,
            r#"{"a": [{"suffix": 123}]}"#,
            r#"{"a": [{"suffix": [".png"]}]}"#,
            r#"{"a": [{"equals-ignore-case": ["x"]}]}"#,
            r#"{"a": [{"equals-ignore-case": {"prefix": "x"}}]}"#,
            r#"{"a": [{"wildcard": 123}]}"#,
            r#"{"a": [{"wildcard": ["a*"]}]}"#,
            r#"{"a": [{"wildcard": "arn:**:x"}]}"#,
            r#"{"a": [{"wildcard": "a\\b"}]}"#,
            r#"{"a": [{"wildcard": "trailing\\"}]}"#,
        ]);
        assert_eq!(
            rejection(r#"{"a": [{"wildcard": "arn:**:x"}]}"#),
            "consecutive wildcard characters"
        );
        assert_eq!(
            rejection(r#"{"a": [{"wildcard": "a\\b"}]}"#),
            "invalid escape in wildcard"
        );
    }

    #[test]
    fn malformed_anything_but_is_an_invalid_pattern() {
        assert_all_invalid(&[
            r#"{"a": [{"anything-but": null}]}"#,
            r#"{"a": [{"anything-but": true}]}"#,
            r#"{"a": [{"anything-but": ["stopped", null]}]}"#,
            r#"{"a": [{"anything-but": ["stopped", 1]}]}"#,
            r#"{"a": [{"anything-but": [["x"]]}]}"#,
            r#"{"a": [{"anything-but": {}}]}"#,
            r#"{"a": [{"anything-but": {"prefix": ""}}]}"#,
            r#"{"a": [{"anything-but": {"suffix": ""}}]}"#,
            r#"{"a": [{"anything-but": {"prefix": ["x", ""]}}]}"#,
            r#"{"a": [{"anything-but": {"prefix": 123}}]}"#,
            r#"{"a": [{"anything-but": {"prefix": [123, "test"]}}]}"#,
            r#"{"a": [{"anything-but": {"suffix": [null, ".txt"]}}]}"#,
            r#"{"a": [{"anything-but": {"prefix": {"equals-ignore-case": "file"}}}]}"#,
            r#"{"a": [{"anything-but": {"suffix": {"equals-ignore-case": ".png"}}}]}"#,
            r#"{"a": [{"anything-but": {"equals-ignore-case": 123}}]}"#,
            r#"{"a": [{"anything-but": {"equals-ignore-case": [123, 456]}}]}"#,
            r#"{"a": [{"anything-but": {"wildcard": 123}}]}"#,
            r#"{"a": [{"anything-but": {"wildcard": [123, "*/dir/*"]}}]}"#,
            r#"{"a": [{"anything-but": {"wildcard": "a**"}}]}"#,
            r#"{"a": [{"anything-but": {"numeric": [">", 1]}}]}"#,
            r#"{"a": [{"anything-but": {"prefix": "a", "suffix": "b"}}]}"#,
            r#"{"a": [{"anything-but": 123456789012345678}]}"#,
        ]);
    }

    #[test]
    fn malformed_numeric_ranges_are_invalid_patterns() {
        assert_all_invalid(&[
            r#"{"n": [{"numeric": 10}]}"#,
            r#"{"n": [{"numeric": "> 10"}]}"#,
            r#"{"n": [{"numeric": [">", 0, ">", 0]}]}"#,
            r#"{"n": [{"numeric": [">", 0, "<"]}]}"#,
            r#"{"n": [{"numeric": [">", 0, "<", 10, "x"]}]}"#,
            r#"{"n": [{"numeric": ["<", 10, ">", 0]}]}"#,
            r#"{"n": [{"numeric": ["=", 5, "<", 6]}]}"#,
            r#"{"n": [{"numeric": ["==", 5]}]}"#,
            r#"{"n": [{"numeric": [">", "5"]}]}"#,
            r#"{"n": [{"numeric": [">", null]}]}"#,
            r#"{"n": [{"numeric": [5, ">"]}]}"#,
            r#"{"n": [{"numeric": [">"]}]}"#,
            r#"{"n": [{"numeric": [">", 5, "<", 5]}]}"#,
            r#"{"n": [{"numeric": [">=", 10, "<=", 1]}]}"#,
            r#"{"n": [{"numeric": ["=", 123456789012345678]}]}"#,
        ]);
        assert_eq!(
            rejection(r#"{"n": [{"numeric": [">", 5, "<", 5]}]}"#),
            "the bottom of a numeric range must be less than its top"
        );
    }

    #[test]
    fn malformed_exists_is_an_invalid_pattern() {
        assert_all_invalid(&[
            r#"{"a": [{"exists": "true"}]}"#,
            r#"{"a": [{"exists": 1}]}"#,
            r#"{"a": [{"exists": null}]}"#,
            r#"{"a": [{"exists": true, "prefix": "x"}]}"#,
        ]);
    }

    #[test]
    fn malformed_cidr_is_an_invalid_pattern() {
        assert_all_invalid(&[
            r#"{"ip": [{"cidr": "bad-filter"}]}"#,
            r#"{"ip": [{"cidr": "xx.11.xx/8"}]}"#,
            r#"{"ip": [{"cidr": "bad-/64filter"}]}"#,
            r#"{"ip": [{"cidr": "xxxx:db8:1234:1a00::/64"}]}"#,
            r#"{"ip": [{"cidr": ["bad-type"]}]}"#,
            r#"{"ip": [{"cidr": "10.0.0.0"}]}"#,
            r#"{"ip": [{"cidr": "10.0.0.0/"}]}"#,
            r#"{"ip": [{"cidr": "10.0.0.0/-1"}]}"#,
            r#"{"ip": [{"cidr": "10.0.0.0/32"}]}"#,
            r#"{"ip": [{"cidr": "10.0.0.0/24/1"}]}"#,
            r#"{"ip": [{"cidr": "10.0.0.256/24"}]}"#,
            r#"{"ip": [{"cidr": "::/128"}]}"#,
            r#"{"ip": [{"cidr": "example.com/8"}]}"#,
        ]);
    }

    #[test]
    fn malformed_or_is_an_invalid_pattern() {
        assert_all_invalid(&[
            r#"{"$or": [{"a": ["1"]}]}"#,
            r#"{"$or": [{"a": ["1"]}, {}]}"#,
            r#"{"$or": [{"a": ["1"]}, 1]}"#,
            r#"{"$or": [{"a": ["1"]}, {"numeric": [">", 1]}]}"#,
            r#"{"$or": [{"a": {"prefix": ["x"]}}, {"b": ["1"]}]}"#,
            r#"{"$or": [{"a": ["1"]}, {"b": "1"}]}"#,
            r#"{"$or": "x"}"#,
        ]);
        assert_eq!(
            parse_object(
                json!({"$or": [{"a": ["1"]}, {"exists": ["x"]}]})
                    .as_object()
                    .unwrap(),
                OrMode::Operator,
                false
            )
            .err(),
            Some(Invalid("an operator name cannot be a field name inside $or"))
        );
    }

    #[test]
    fn operator_names_are_ordinary_field_names_outside_or() {
        assert!(passes(
            json!({"prefix": ["x"], "numeric": {"exists": ["y"]}}),
            json!({
                "prefix": "x", "numeric": {"exists": "y"}
            })
        ));
    }

    #[test]
    fn pattern_of_exactly_4096_characters_is_accepted_and_longer_is_not() {
        let pattern = |len: usize| {
            let filler = "é".repeat(len - r#"{"a": [""]}"#.len());
            format!(r#"{{"a": ["{filler}"]}}"#)
        };
        assert_eq!(pattern(4096).chars().count(), 4096);
        assert!(FilterCriteria::parse(&[pattern(4096)]).is_ok());
        assert_eq!(
            rejection(&pattern(4097)),
            "pattern is longer than 4096 characters"
        );
    }

    // --- properties ---

    /// Keys and strings that steer random JSON into the operator grammar.
    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "a",
                "b",
                "S",
                "N",
                "dynamodb",
                "NewImage",
                "eventName",
                "$or",
                "prefix",
                "suffix",
                "equals-ignore-case",
                "anything-but",
                "numeric",
                "exists",
                "cidr",
                "wildcard",
                "=",
                "<",
                "<=",
                ">",
                ">=",
                "",
                "*",
                "a*b\\*",
                "\\",
                "10.0.0.0/24",
                "::1",
                "2001:db8::/64",
                "ß",
                "INSERT",
            ])
            .prop_map(str::to_owned),
            "[a-c*\\\\.:/0-9ßS]{0,5}",
        ]
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-20i64..20).prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            word().prop_map(Value::String),
        ]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(6, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((word(), inner), 0..5)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    /// A leaf alternative, valid by construction.
    fn valid_matcher() -> impl Strategy<Value = Value> {
        let text = "[a-cß]{0,3}";
        prop_oneof![
            text.prop_map(Value::from),
            (-5i64..5).prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            Just(Value::Null),
            text.prop_map(|t| json!({"prefix": t})),
            text.prop_map(|t| json!({"suffix": {"equals-ignore-case": t}})),
            text.prop_map(|t| json!({"equals-ignore-case": t})),
            "[a-c]{0,2}\\*?[a-c]{0,2}".prop_map(|t| json!({"wildcard": t})),
            "[a-c]{1,3}".prop_map(|t| json!({"anything-but": {"prefix": t}})),
            prop::collection::vec(-5i64..5, 1..3).prop_map(|n| json!({"anything-but": n})),
            (-5i64..0, 0i64..5).prop_map(|(low, high)| json!({"numeric": [">=", low, "<", high]})),
            any::<bool>().prop_map(|exists| json!({"exists": exists})),
            Just(json!({"cidr": "10.0.0.0/8"})),
        ]
    }

    /// A pattern object, valid by construction.
    fn valid_pattern() -> impl Strategy<Value = Value> {
        let leaf = prop::collection::vec(valid_matcher(), 1..3).prop_map(Value::Array);
        let key = prop::sample::select(vec!["a", "b", "c"]);
        leaf.prop_recursive(3, 16, 3, move |inner| {
            prop::collection::vec((key.clone(), inner), 1..3).prop_map(|entries| {
                Value::Object(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            })
        })
        .prop_filter_map("the top level is an object", |value| {
            value.is_object().then_some(value)
        })
    }

    /// A record over the same keys and values as [`valid_pattern`].
    fn record() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            "[a-cAßS]{0,3}".prop_map(Value::from),
            (-5i64..5).prop_map(Value::from),
            (-5.0f64..5.0).prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            Just(Value::Null),
            Just(Value::from("10.1.2.3")),
        ];
        let key = prop::sample::select(vec!["a", "b", "c"]);
        leaf.prop_recursive(4, 24, 3, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..3).prop_map(|entries| {
                    Value::Object(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// No pattern and no record, however malformed, panics parsing or matching.
        #[test]
        fn random_json_patterns_and_records_never_panic(pattern in json_value(), record in json_value()) {
            if let Ok(criteria) = FilterCriteria::parse(&[pattern.to_string()]) {
                criteria.matches(&record);
            }
        }

        /// No pattern text, however garbled, panics parsing.
        #[test]
        fn random_pattern_text_never_panics(text in "\\PC{0,64}") {
            let _ = FilterCriteria::parse(&[text]);
        }

        /// Every pattern built from the documented operators parses, and several filters pass a record exactly when
        /// one of them alone does.
        #[test]
        fn filters_pass_a_record_when_any_single_filter_does(
            first in valid_pattern(), second in valid_pattern(), record in record(),
        ) {
            let single = |pattern: &Value| FilterCriteria::parse(&[pattern.to_string()]);
            let (one, two) = (single(&first), single(&second));
            prop_assert!(one.is_ok(), "{first} should parse");
            prop_assert!(two.is_ok(), "{second} should parse");
            let both = FilterCriteria::parse(&[first.to_string(), second.to_string()]).unwrap();
            prop_assert_eq!(
                both.matches(&record),
                one.unwrap().matches(&record) || two.unwrap().matches(&record)
            );
        }

        /// `$or` of two patterns passes exactly what the two patterns as separate filters pass.
        #[test]
        fn or_of_two_patterns_equals_two_filters(
            first in valid_pattern(), second in valid_pattern(), record in record(),
        ) {
            let or = json!({"$or": [first, second]});
            let joined = FilterCriteria::parse(&[or.to_string()]).unwrap();
            let separate = FilterCriteria::parse(&[first.to_string(), second.to_string()]).unwrap();
            prop_assert_eq!(joined.matches(&record), separate.matches(&record));
        }
    }
}
