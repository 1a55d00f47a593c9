//! Tests of the expression languages against AWS behaviour and error texts.

use std::collections::HashMap;

use super::*;
use crate::dynamodb::value::AttributeValue;

/// A request's ExpressionAttributeNames and ExpressionAttributeValues.
#[derive(Default)]
struct Request {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn av(json: &str) -> AttributeValue {
    serde_json::from_str(json).unwrap()
}

fn item(json: &str) -> Item {
    serde_json::from_str(json).unwrap()
}

fn text(error: AwsError) -> String {
    error.message().unwrap_or_default().to_owned()
}

impl Request {
    fn new() -> Self {
        Self::default()
    }

    fn name(mut self, placeholder: &str, name: &str) -> Self {
        self.names.insert(placeholder.into(), name.into());
        self
    }

    fn value(mut self, placeholder: &str, json: &str) -> Self {
        self.values.insert(placeholder.into(), av(json));
        self
    }

    fn subs(&self) -> Substitutions<'_> {
        Substitutions::new(
            Some(&self.names).filter(|m| !m.is_empty()),
            Some(&self.values).filter(|m| !m.is_empty()),
        )
    }

    fn condition(&self, expression: &str) -> Result<Condition, String> {
        parse_condition(expression, ExpressionKind::Condition, &mut self.subs()).map_err(text)
    }

    fn update(&self, expression: &str) -> Result<Update, String> {
        parse_update(expression, &mut self.subs()).map_err(text)
    }

    fn projection(&self, expression: &str) -> Result<Projection, String> {
        parse_projection(expression, &mut self.subs()).map_err(text)
    }

    fn holds(&self, expression: &str, item_json: &str) -> bool {
        self.condition(expression)
            .unwrap()
            .evaluate(&item(item_json))
            .unwrap()
    }

    fn condition_error(&self, expression: &str) -> String {
        self.condition(expression).unwrap_err()
    }

    fn update_error(&self, expression: &str) -> String {
        self.update(expression).unwrap_err()
    }

    /// The item after the update, or AWS's runtime error.
    fn updated(&self, expression: &str, item_json: &str) -> Result<Item, String> {
        let mut out = item(item_json);
        self.update(expression).unwrap().apply(&mut out).map_err(text)?;
        Ok(out)
    }
}

fn condition_error(expression: &str) -> String {
    Request::new().condition_error(expression)
}

fn update_error(expression: &str) -> String {
    Request::new().update_error(expression)
}

// --- evaluating conditions ------------------------------------------------------------------------------------

#[test]
fn equality_compares_type_and_value() {
    let r = Request::new()
        .value(":n", r#"{"N":"1.0"}"#)
        .value(":s", r#"{"S":"1"}"#);
    assert!(r.holds("a = :n", r#"{"a":{"N":"1"}}"#));
    assert!(!r.holds("a = :s", r#"{"a":{"N":"1"}}"#));
    assert!(r.holds("a <> :s", r#"{"a":{"N":"1"}}"#));
}

#[test]
fn sets_compare_equal_regardless_of_order() {
    let r = Request::new().value(":s", r#"{"SS":["b","a"]}"#);
    assert!(r.holds("a = :s", r#"{"a":{"SS":["a","b"]}}"#));
}

#[test]
fn missing_attribute_makes_equality_false_and_inequality_true() {
    let r = Request::new().value(":v", r#"{"N":"1"}"#);
    assert!(!r.holds("a = :v", "{}"));
    assert!(r.holds("a <> :v", "{}"));
    assert!(!r.holds("q = z", "{}"));
    assert!(r.holds("q <> z", "{}"));
    for op in ["<", "<=", ">", ">="] {
        assert!(!r.holds(&format!("a {op} :v"), "{}"), "{op}");
        assert!(!r.holds(&format!("q {op} z"), "{}"), "{op}");
    }
    assert!(!r.holds("q BETWEEN z AND x", "{}"));
}

#[test]
fn order_comparisons_of_different_or_unordered_types_are_false() {
    let r = Request::new()
        .value(":v", r#"{"S":"17"}"#)
        .value(":n", r#"{"N":"1"}"#);
    assert!(!r.holds("a < :v", r#"{"a":{"N":"1"}}"#));
    assert!(!r.holds("x < :n", r#"{"x":{"L":[{"N":"1"}]}}"#));
}

#[test]
fn numbers_compare_numerically_strings_and_binaries_bytewise() {
    let r = Request::new()
        .value(":n", r#"{"N":"9"}"#)
        .value(":s", r#"{"S":"9"}"#)
        .value(":b", r#"{"B":"ZG9n"}"#);
    assert!(r.holds("a > :n", r#"{"a":{"N":"10"}}"#));
    assert!(r.holds("a < :s", r#"{"a":{"S":"10"}}"#));
    assert!(r.holds("a < :b", r#"{"a":{"B":"Y2F0"}}"#));
}

#[test]
fn between_is_inclusive_at_both_ends() {
    let r = Request::new()
        .value(":lo", r#"{"N":"1"}"#)
        .value(":hi", r#"{"N":"3"}"#);
    for (n, expected) in [("1", true), ("2", true), ("3", true), ("0", false), ("4", false)] {
        let json = format!(r#"{{"a":{{"N":"{n}"}}}}"#);
        assert_eq!(r.holds("a BETWEEN :lo AND :hi", &json), expected, "{n}");
    }
}

#[test]
fn in_matches_any_listed_value_of_any_type() {
    let r = Request::new()
        .value(":x", r#"{"S":"dog"}"#)
        .value(":y", r#"{"N":"174"}"#);
    assert!(r.holds("a IN (:x, :y)", r#"{"a":{"N":"174"}}"#));
    assert!(!r.holds("a IN (:x, :y)", r#"{"a":{"N":"17"}}"#));
    assert!(!r.holds("q IN (:x, :y)", "{}"));
}

#[test]
fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
    let r = Request::new().value(":t", r#"{"BOOL":true}"#);
    let json = r#"{"a":{"BOOL":true},"b":{"BOOL":true},"c":{"BOOL":false}}"#;
    // (NOT a) AND b: false; NOT (a AND b) would be false too, so use OR to tell them apart.
    assert!(r.holds("NOT a = :t OR b = :t", json));
    assert!(!r.holds("NOT (a = :t OR b = :t)", json));
    // a OR (b AND c): true; (a OR b) AND c would be false.
    assert!(r.holds("a = :t OR b = :t AND c = :t", json));
    assert!(!r.holds("(a = :t OR b = :t) AND c = :t", json));
    assert!(r.holds("NOT NOT a = :t", json));
}

#[test]
fn keywords_are_case_insensitive() {
    let r = Request::new()
        .value(":a", r#"{"N":"1"}"#)
        .value(":b", r#"{"N":"5"}"#);
    assert!(r.holds(
        "x between :a and :b and not x in (:b) or x = :b",
        r#"{"x":{"N":"2"}}"#
    ));
}

#[test]
fn attribute_exists_checks_nested_paths_with_name_placeholders() {
    let r = Request::new().name("#n", "x.y");
    let json = r#"{"a":{"M":{"x.y":{"L":[{"N":"1"},{"M":{"c":{"S":"z"}}}]}}}}"#;
    assert!(r.holds("attribute_exists(a.#n[1].c)", json));
    assert!(!r.holds("attribute_exists(a.#n[0].c)", json));
    assert!(r.holds("attribute_not_exists(a.#n[2])", json));
    assert!(r.holds("attribute_not_exists(b)", json));
}

#[test]
fn attribute_type_compares_the_type_of_the_value() {
    let r = Request::new()
        .value(":t", r#"{"S":"NS"}"#)
        .value(":v", r#"{"N":"0"}"#)
        .value(":n", r#"{"S":"N"}"#);
    assert!(r.holds("attribute_type(a, :t)", r#"{"a":{"NS":["1"]}}"#));
    assert!(!r.holds("attribute_type(a, :t)", r#"{"a":{"SS":["1"]}}"#));
    assert!(!r.holds("attribute_type(b, :t)", "{}"));
    assert!(
        Request::new()
            .value(":v", r#"{"N":"0"}"#)
            .value(":n", r#"{"S":"N"}"#)
            .holds("attribute_type(:v, :n)", "{}")
    );
}

#[test]
fn begins_with_works_on_strings_and_binaries_only() {
    let r = Request::new()
        .value(":s", r#"{"S":"hell"}"#)
        .value(":b", r#"{"B":"aGk="}"#);
    assert!(r.holds("begins_with(a, :s)", r#"{"a":{"S":"hello"}}"#));
    assert!(!r.holds("begins_with(a, :s)", r#"{"a":{"S":"help"}}"#));
    assert!(r.holds("begins_with(b, :b)", r#"{"b":{"B":"aGkgdGhlcmU="}}"#));
    assert!(!r.holds("begins_with(a, :s)", r#"{"a":{"SS":["hello"]}}"#));
}

#[test]
fn contains_finds_substrings_set_members_and_list_elements() {
    let r = Request::new()
        .value(":s", r#"{"S":"ell"}"#)
        .value(":n", r#"{"N":"4"}"#)
        .value(":l", r#"{"L":[{"N":"3"}]}"#);
    assert!(r.holds("contains(a, :s)", r#"{"a":{"S":"hello"}}"#));
    assert!(r.holds("contains(a, :n)", r#"{"a":{"NS":["2","4","7"]}}"#));
    assert!(r.holds("contains(a, :n)", r#"{"a":{"L":[{"N":"4"}]}}"#));
    assert!(r.holds("contains(a, :l)", r#"{"a":{"L":[{"S":"hi"},{"L":[{"N":"3"}]}]}}"#));
    assert!(!r.holds("contains(a, :n)", r#"{"a":{"S":"4"}}"#));
    assert!(!r.holds("contains(z, :n)", "{}"));
}

#[test]
fn size_measures_strings_binaries_and_collections() {
    let r = Request::new().value(":n", r#"{"N":"3"}"#);
    assert!(r.holds("size(a) = :n", r#"{"a":{"S":"abc"}}"#));
    assert!(r.holds("size(a) = :n", r#"{"a":{"L":[{"N":"1"},{"N":"1"},{"N":"1"}]}}"#));
    assert!(r.holds(
        "size(a) = :n",
        r#"{"a":{"M":{"x":{"N":"1"},"y":{"N":"1"},"z":{"N":"1"}}}}"#
    ));
    assert!(r.holds("size(a) < :n", r#"{"a":{"B":"AAE="}}"#));
    assert!(!r.holds("size(a) = :n", r#"{"a":{"N":"3"}}"#));
    assert!(r.holds("size(a) <> :n", r#"{"a":{"N":"3"}}"#));
}

#[test]
fn parenthesised_operands_and_conditions_are_accepted_once() {
    let r = Request::new().value(":v", r#"{"N":"1"}"#);
    assert!(r.holds("(a) = :v", r#"{"a":{"N":"1"}}"#));
    assert!(r.holds("((a) = (:v))", r#"{"a":{"N":"1"}}"#));
    assert!(r.holds("(a = :v) AND (NOT (a <> :v))", r#"{"a":{"N":"1"}}"#));
    assert!(r.holds("(size(a)) = (:v) OR a = :v", r#"{"a":{"N":"1"}}"#));
}

#[test]
fn absent_item_is_evaluated_as_empty() {
    let r = Request::new();
    assert!(r.holds("attribute_not_exists(a)", "{}"));
}

// --- condition errors -----------------------------------------------------------------------------------------

#[test]
fn empty_expression_is_rejected_with_aws_text() {
    assert_eq!(
        condition_error(""),
        "Invalid ConditionExpression: The expression can not be empty;"
    );
    assert_eq!(
        update_error(""),
        "Invalid UpdateExpression: The expression can not be empty;"
    );
    let error = parse_condition(
        "",
        ExpressionKind::KeyCondition,
        &mut Substitutions::new(None, None),
    );
    assert_eq!(
        text(error.unwrap_err()),
        "Invalid KeyConditionExpression: The expression can not be empty;"
    );
}

#[test]
fn oversized_conditions_report_their_size_but_updates_do_not() {
    let long = format!("a = b AND {}", "x".repeat(4090));
    assert_eq!(
        condition_error(&long),
        "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4100"
    );
    assert_eq!(
        update_error(&format!("SET a = {}", "x".repeat(4090))),
        "Invalid UpdateExpression: Expression size has exceeded the maximum allowed size;"
    );
    // 4096 characters are allowed, and non-ASCII characters count as UTF-16 units.
    assert!(
        Request::new()
            .condition(&format!("a = {}", "b".repeat(4092)))
            .is_ok()
    );
    let wide = format!("a = {}", "é".repeat(3000));
    assert!(!condition_error(&wide).contains("Expression size"));
}

#[test]
fn syntax_errors_quote_the_token_and_its_neighbours() {
    assert_eq!(
        condition_error("foo"),
        r#"Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "foo""#
    );
    assert_eq!(
        condition_error("a = "),
        r#"Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "= ""#
    );
    assert_eq!(
        update_error("SET _123 = :v"),
        r#"Invalid UpdateExpression: Syntax error; token: "_", near: "SET _123""#
    );
    assert_eq!(
        update_error("HELLO b = :v"),
        r#"Invalid UpdateExpression: Syntax error; token: "HELLO", near: "HELLO b""#
    );
    assert_eq!(
        condition_error("a IN ()"),
        r#"Invalid ConditionExpression: Syntax error; token: ")", near: "()""#
    );
    assert_eq!(
        condition_error("a = :v :w"),
        r#"Invalid ConditionExpression: Syntax error; token: ":w", near: ":v :w""#
    );
    assert_eq!(
        update_error("SET a = :v + :w + :x"),
        r#"Invalid UpdateExpression: Syntax error; token: "+", near: ":w + :x""#
    );
    assert_eq!(
        update_error("SET a[:i] = :v"),
        r#"Invalid UpdateExpression: Syntax error; token: ":i", near: "[:i]""#
    );
    assert_eq!(
        update_error("SET :a = :b"),
        r#"Invalid UpdateExpression: Syntax error; token: ":a", near: "SET :a =""#
    );
    assert_eq!(
        update_error("SET c = if_not_exists(c, :a+:b)"),
        r#"Invalid UpdateExpression: Syntax error; token: "+", near: ":a+:b""#
    );
    assert_eq!(
        condition_error("a = :v AND"),
        r#"Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND""#
    );
}

#[test]
fn syntax_error_in_parentheses_is_where_every_reading_fails() {
    // `(a = ) = :v`: as an operand the text fails at `=`, as a condition at `)`; AWS reports the later.
    assert_eq!(
        condition_error("(a = ) = :v"),
        r#"Invalid ConditionExpression: Syntax error; token: ")", near: "= ) =""#
    );
    // Both readings fail at AND before any redundant parentheses are noticed.
    assert_eq!(
        condition_error("(((a)) AND b = :v)"),
        r#"Invalid ConditionExpression: Syntax error; token: "AND", near: ") AND b""#
    );
}

#[test]
fn redundant_parentheses_are_rejected() {
    let r = Request::new().value(":v", r#"{"N":"1"}"#);
    for expression in [
        "((a = :v))",
        "((a)) = :v",
        "a = ((:v))",
        "(((a) = :v))",
        "NOT ((a = :v))",
    ] {
        assert_eq!(
            r.condition_error(expression),
            "Invalid ConditionExpression: The expression has redundant parentheses;",
            "{expression}"
        );
    }
    for expression in [
        "SET x = ((a))",
        "SET x = ((a + :v))",
        "SET x = list_append(((a)), :v)",
    ] {
        assert_eq!(
            r.update_error(expression),
            "Invalid UpdateExpression: The expression has redundant parentheses;"
        );
    }
    // Redundancy is reported as soon as the parentheses close, before a later syntax error.
    assert_eq!(
        r.condition_error("((a = :v)) AND )"),
        "Invalid ConditionExpression: The expression has redundant parentheses;"
    );
}

#[test]
fn reserved_word_is_rejected_with_the_word_as_written() {
    let r = Request::new().value(":v", r#"{"N":"1"}"#);
    assert_eq!(
        r.condition_error("Size = :v"),
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Size"
    );
    assert_eq!(
        r.update_error("SET a.name = :v"),
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: name"
    );
    assert_eq!(
        Request::new().projection("a, b.Year").unwrap_err(),
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: Year"
    );
    // Through a placeholder a reserved word is fine.
    assert!(
        Request::new()
            .name("#s", "size")
            .value(":v", r#"{"N":"1"}"#)
            .condition("#s = :v")
            .is_ok()
    );
}

#[test]
fn undefined_placeholders_are_rejected_with_aws_text() {
    assert_eq!(
        condition_error("#n = a"),
        "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; \
         attribute name: #n"
    );
    assert_eq!(
        condition_error("a = :v"),
        "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute \
         value: :v"
    );
    assert_eq!(
        Request::new().projection("a.#b").unwrap_err(),
        "Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; \
         attribute name: #b"
    );
}

#[test]
fn unknown_and_misplaced_functions_are_rejected_with_aws_text() {
    let r = Request::new().value(":v", r#"{"S":"x"}"#);
    assert_eq!(
        r.condition_error("SIZE(a) = :v"),
        "Invalid ConditionExpression: Invalid function name; function: SIZE"
    );
    assert_eq!(
        r.condition_error("size(a)"),
        "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: \
         size"
    );
    assert_eq!(
        r.condition_error("attribute_exists(a) = :v"),
        "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: \
         attribute_exists"
    );
    assert_eq!(
        r.condition_error("if_not_exists(a, :v) = :v"),
        "Invalid ConditionExpression: The function is not allowed in a condition expression; function: if_not_exists"
    );
    assert_eq!(
        r.update_error("SET a = size(b)"),
        "Invalid UpdateExpression: The function is not allowed in an update expression; function: size"
    );
    assert_eq!(
        r.update_error("SET a = list_append(list_append(b, c), d)"),
        "Invalid UpdateExpression: The function is not allowed to be used this way in an expression; function: \
         list_append"
    );
    assert_eq!(
        r.update_error("SET a = f(b,c,d)"),
        "Invalid UpdateExpression: Invalid function name; function: f"
    );
}

#[test]
fn wrong_operand_counts_are_rejected_with_aws_text() {
    let r = Request::new().value(":v", r#"{"L":[]}"#);
    assert_eq!(
        r.condition_error("attribute_exists(a, b)"),
        "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: \
         attribute_exists, number of operands: 2"
    );
    assert_eq!(
        r.update_error("SET a = list_append(:v)"),
        "Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: \
         list_append, number of operands: 1"
    );
}

#[test]
fn literal_operands_of_the_wrong_type_are_rejected_at_parse_time() {
    let r = Request::new()
        .value(":l", r#"{"L":[{"N":"1"}]}"#)
        .value(":n", r#"{"N":"2"}"#)
        .value(":s", r#"{"S":"dog"}"#)
        .value(":b", r#"{"BOOL":true}"#);
    assert_eq!(
        r.condition_error("a < :l"),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: <, \
         operand type: L"
    );
    assert_eq!(
        r.condition_error("begins_with(a, :n)"),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: \
         begins_with, operand type: N"
    );
    assert_eq!(
        r.condition_error("size(:n) > :n"),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, \
         operand type: N"
    );
    assert_eq!(
        r.condition_error(":b BETWEEN a AND c"),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: \
         BETWEEN, operand type: BOOL"
    );
    assert_eq!(
        r.update_error("SET a = :s + :n"),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, \
         operand type: S"
    );
    assert_eq!(
        r.update_error("SET a = list_append(:l, :s)"),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: \
         list_append, operand type: S"
    );
    assert_eq!(
        r.update_error("ADD a :s"),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: \
         STRING, typeSet: ALLOWED_FOR_ADD_OPERAND"
    );
    assert_eq!(
        r.update_error("ADD a :l"),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: \
         LIST, typeSet: ALLOWED_FOR_ADD_OPERAND"
    );
    assert_eq!(
        r.update_error("DELETE a :n"),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand \
         type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND"
    );
}

#[test]
fn functions_needing_a_path_reject_values() {
    let r = Request::new()
        .value(":v", r#"{"N":"3"}"#)
        .value(":w", r#"{"N":"6"}"#);
    assert_eq!(
        r.condition_error("attribute_exists(:v)"),
        "Invalid ConditionExpression: Operator or function requires a document path; operator or function: \
         attribute_exists"
    );
    assert_eq!(
        r.update_error("SET b = if_not_exists(:v, :w)"),
        "Invalid UpdateExpression: Operator or function requires a document path; operator or function: \
         if_not_exists"
    );
}

#[test]
fn first_operand_must_differ_from_the_others() {
    let r = Request::new().name("#x", "a").value(":v", r#"{"N":"1"}"#);
    assert_eq!(
        r.condition_error("#x.b = a.b"),
        "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this \
         operator or function; operator: =, first operand: [a, b]"
    );
    assert_eq!(
        Request::new()
            .value(":v", r#"{"N":"1"}"#)
            .condition_error("a IN (:v, a)"),
        "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this \
         operator or function; operator: IN, first operand: [a]"
    );
    assert_eq!(
        Request::new()
            .value(":v", r#"{"N":"1"}"#)
            .update_error("SET b = if_not_exists(a[1], a[1])"),
        "Invalid UpdateExpression: The first operand must be distinct from the remaining operands for this \
         operator or function; operator: if_not_exists, first operand: [a, [1]]"
    );
}

#[test]
fn attribute_type_needs_a_known_type_name_value() {
    let r = Request::new()
        .value(":t", r#"{"S":"DOG"}"#)
        .value(":n", r#"{"N":"1"}"#);
    assert_eq!(
        r.condition_error("attribute_type(a, :t)"),
        "Invalid ConditionExpression: Invalid attribute type name found; type: DOG, valid types: \
         {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
    );
    assert_eq!(
        r.condition_error("attribute_type(a, :n)"),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: \
         attribute_type, operand type: N"
    );
    assert_eq!(
        r.condition_error("attribute_type(a, b)"),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: \
         attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}"
    );
}

#[test]
fn between_bounds_must_share_a_type_and_be_in_order() {
    let r = Request::new()
        .value(":a", r#"{"N":"5"}"#)
        .value(":b", r#"{"N":"1"}"#)
        .value(":s", r#"{"S":"x"}"#);
    assert_eq!(
        r.condition_error("x BETWEEN :a AND :s"),
        "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; \
         lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {S:x}"
    );
    assert_eq!(
        r.condition_error("x BETWEEN :a AND :b"),
        "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower \
         bound; lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}"
    );
}

#[test]
fn in_takes_at_most_one_hundred_values() {
    let mut r = Request::new();
    for i in 0..101 {
        r = r.value(&format!(":v{i}"), &format!(r#"{{"N":"{i}"}}"#));
    }
    let list = |n: usize| (0..n).map(|i| format!(":v{i}")).collect::<Vec<_>>().join(",");
    assert!(r.condition(&format!("a IN ({})", list(100))).is_ok());
    assert_eq!(
        r.condition_error(&format!("a IN ({})", list(101))),
        "Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101"
    );
}

#[test]
fn more_than_three_hundred_operators_are_rejected() {
    let r = Request::new().value(":v", r#"{"N":"1"}"#);
    let chain = |n: usize| vec!["a = :v"; n].join(" AND ");
    assert!(r.condition(&chain(150)).is_ok());
    assert_eq!(
        r.condition_error(&chain(151)),
        "Invalid ConditionExpression: The expression contains too many operators; operator count: 301"
    );
}

#[test]
fn paths_deeper_than_thirty_two_levels_are_rejected() {
    let r = Request::new().value(":v", r#"{"N":"1"}"#);
    let path = |n: usize| (0..n).map(|i| format!("a{i}")).collect::<Vec<_>>().join(".");
    assert!(r.condition(&format!("{} = :v", path(32))).is_ok());
    assert_eq!(
        r.condition_error(&format!("{} = :v", path(33))),
        "Invalid ConditionExpression: The document path has too many nesting levels; nesting levels: 33"
    );
}

#[test]
fn list_indexes_beyond_java_int_are_rejected() {
    let r = Request::new().value(":v", r#"{"N":"1"}"#);
    assert!(r.condition("a[2147483647] = :v").is_ok());
    assert_eq!(
        r.condition_error("a[2147483648] = :v"),
        "Invalid ConditionExpression: List index is not within the allowable range; index: [2147483648]"
    );
}

#[test]
fn value_placeholders_inside_paths_are_rejected() {
    let r = Request::new().value(":v", r#"{"S":"b"}"#);
    assert_eq!(
        r.condition_error("a.:v = :v"),
        "Invalid ConditionExpression: The document path cannot contain attribute value parameters; attribute value: \
         :v"
    );
}

/// Runs `f` on a thread with a one-megabyte stack, half of what a tokio worker has.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn deep_nesting_gives_an_error_not_a_stack_overflow() {
    on_small_stack(|| {
        let r = Request::new().value(":v", r#"{"N":"1"}"#);
        let parens = format!("{}a = :v{}", "(".repeat(2000), ")".repeat(2000));
        assert_eq!(
            r.condition_error(&parens),
            "Invalid ConditionExpression: The expression has redundant parentheses;"
        );
        let nots = format!("{}a = :v", "NOT ".repeat(1000));
        assert_eq!(
            r.condition_error(&nots),
            "Invalid ConditionExpression: The expression contains too many operators; operator count: 301"
        );
        for text in [
            format!("{}a{} = :v", "size(".repeat(800), ")".repeat(800)),
            format!("{}a", "(".repeat(4000)),
            format!("a = {}:v{}", "(".repeat(2000), ")".repeat(2000)),
            format!("{}a = :v{}", "(NOT ".repeat(500), ")".repeat(500)),
        ] {
            assert!(r.condition(&text).is_err());
        }
        let operands = format!("SET x = {}a{}", "(".repeat(2000), ")".repeat(2000));
        assert!(r.update(&operands).is_err());
        let calls = format!("SET x = {}:v{}", "if_not_exists(a, ".repeat(500), ")".repeat(500));
        assert!(r.update(&calls).is_err());
    });
}

#[test]
fn nesting_within_limits_is_parsed_and_evaluated_on_a_small_stack() {
    on_small_stack(|| {
        let r = Request::new().value(":v", r#"{"N":"1"}"#);
        let nested = format!("{}a = :v{}", "(NOT ".repeat(120), ")".repeat(120));
        assert!(r.holds(&nested, r#"{"a":{"N":"1"}}"#));
        let nots = format!("{}a = :v", "NOT ".repeat(299));
        assert!(!r.holds(&nots, r#"{"a":{"N":"1"}}"#));
        let calls = format!("SET x = {}:v{}", "if_not_exists(a, ".repeat(100), ")".repeat(100));
        assert!(r.update(&calls).is_ok());
    });
}

#[test]
fn long_and_chains_within_limits_are_evaluated() {
    let r = Request::new().value(":v", r#"{"N":"1"}"#);
    let chain = vec!["a = :v"; 150].join(" OR ");
    assert!(r.holds(&chain, r#"{"a":{"N":"1"}}"#));
}

// --- substitutions --------------------------------------------------------------------------------------------

#[test]
fn unused_names_are_reported_before_unused_values_in_java_set_order() {
    let r = Request::new()
        .name("#a", "x")
        .name("#c", "y")
        .name("#u", "z")
        .value(":v", r#"{"N":"1"}"#)
        .value(":w", r#"{"N":"1"}"#);
    let mut subs = r.subs();
    parse_condition("#u = :v", ExpressionKind::Condition, &mut subs).unwrap();
    assert_eq!(
        text(subs.finish().unwrap_err()),
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#c, #a}"
    );
    let r = Request::new()
        .name("#a", "x")
        .value(":v", r#"{"N":"1"}"#)
        .value(":w", r#"{"N":"1"}"#);
    let mut subs = r.subs();
    parse_condition("#a = :v", ExpressionKind::Condition, &mut subs).unwrap();
    assert_eq!(
        text(subs.finish().unwrap_err()),
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"
    );
}

#[test]
fn placeholders_used_by_any_expression_of_the_request_count_as_used() {
    let r = Request::new()
        .name("#one", "c")
        .name("#two", "a")
        .value(":v", r#"{"N":"1"}"#);
    let mut subs = r.subs();
    parse_update("SET #one = #two", &mut subs).unwrap();
    parse_condition(
        "attribute_exists(#one) OR a = :v",
        ExpressionKind::Condition,
        &mut subs,
    )
    .unwrap();
    assert!(subs.finish().is_ok());
}

// --- updates --------------------------------------------------------------------------------------------------

#[test]
fn set_with_plus_adds_numbers_and_minus_subtracts() {
    let r = Request::new().value(":v", r#"{"N":"3"}"#);
    let out = r
        .updated("SET a = a + :v, b = :v - a", r#"{"a":{"N":"2"}}"#)
        .unwrap();
    assert_eq!(out["a"], av(r#"{"N":"5"}"#));
    assert_eq!(out["b"], av(r#"{"N":"1"}"#));
}

#[test]
fn set_reads_every_operand_from_the_item_before_the_update() {
    let out = Request::new()
        .updated("SET a = b, b = a", r#"{"a":{"S":"x"},"b":{"S":"y"}}"#)
        .unwrap();
    assert_eq!(out["a"], av(r#"{"S":"y"}"#));
    assert_eq!(out["b"], av(r#"{"S":"x"}"#));
    let out = Request::new()
        .updated("REMOVE a SET b = a", r#"{"a":{"S":"hello"}}"#)
        .unwrap();
    assert_eq!(out, item(r#"{"b":{"S":"hello"}}"#));
    let error = Request::new()
        .value(":v", r#"{"N":"4"}"#)
        .updated("SET x = :v, y = x", "{}")
        .unwrap_err();
    assert_eq!(
        error,
        "The provided expression refers to an attribute that does not exist in the item"
    );
}

#[test]
fn set_of_a_missing_attribute_or_a_wrong_type_gives_aws_runtime_errors() {
    let r = Request::new()
        .value(":v", r#"{"N":"1"}"#)
        .value(":l", r#"{"L":[]}"#);
    assert_eq!(
        r.updated("SET a = b + :v", "{}").unwrap_err(),
        "The provided expression refers to an attribute that does not exist in the item"
    );
    assert_eq!(
        r.updated("SET a = b + :v", r#"{"b":{"S":"x"}}"#).unwrap_err(),
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        r.updated("SET a = list_append(b, :l)", r#"{"b":{"N":"7"}}"#)
            .unwrap_err(),
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        r.updated("SET a = list_append(b, :l)", "{}").unwrap_err(),
        "The provided expression refers to an attribute that does not exist in the item"
    );
}

#[test]
fn set_of_a_path_whose_parent_is_missing_is_invalid_for_update() {
    let r = Request::new().value(":v", r#"{"N":"7"}"#);
    let json = r#"{"a":{"S":"hello"},"b":{"L":[{"S":"hi"}]},"m":{"M":{}}}"#;
    for expression in [
        "SET a.c = :v",
        "SET b.c = :v",
        "SET c.c = :v",
        "SET a[0] = :v",
        "SET m[0] = :v",
        "REMOVE c.c",
        "REMOVE a[0]",
    ] {
        assert_eq!(
            r.updated(expression, json).unwrap_err(),
            "The document path provided in the update expression is invalid for update",
            "{expression}"
        );
    }
}

#[test]
fn remove_of_a_nested_path_is_ignored_when_the_item_is_new() {
    let update = Request::new().update("REMOVE x.y, z[0]").unwrap();
    let mut new = item(r#"{"p":{"S":"k"}}"#);
    update.apply_to_new_item(&mut new).unwrap();
    assert_eq!(new, item(r#"{"p":{"S":"k"}}"#));
    assert!(update.apply(&mut new).is_err());
}

#[test]
fn set_updates_nested_maps_and_list_elements() {
    let r = Request::new().name("#name", "x").value(":v", r#"{"N":"9"}"#);
    let json = r#"{"a":{"M":{"b":{"N":"3"},"c":{"L":[{"S":"hi"},{"M":{"x":{"M":{"y":{"L":[{"N":"3"},{"N":"5"},{"N":"7"}]}}}}}]}}}}"#;
    let out = r.updated("SET a.c[1].#name.y[1] = :v, a.d = :v", json).unwrap();
    let expected = item(
        r#"{"a":{"M":{"b":{"N":"3"},"d":{"N":"9"},"c":{"L":[{"S":"hi"},{"M":{"x":{"M":{"y":{"L":[{"N":"3"},{"N":"9"},{"N":"7"}]}}}}}]}}}}"#,
    );
    assert_eq!(out, expected);
}

#[test]
fn set_past_the_end_of_a_list_appends_in_index_order() {
    let r = Request::new()
        .value(":1", r#"{"S":"a1"}"#)
        .value(":2", r#"{"S":"a2"}"#)
        .value(":3", r#"{"S":"a3"}"#)
        .value(":4", r#"{"S":"a4"}"#);
    let out = r
        .updated(
            "SET a[84] = :1, a[37] = :2, a[17] = :3, a[50] = :4",
            r#"{"a":{"L":[{"S":"one"}]}}"#,
        )
        .unwrap();
    assert_eq!(
        out["a"],
        av(r#"{"L":[{"S":"one"},{"S":"a3"},{"S":"a2"},{"S":"a4"},{"S":"a1"}]}"#)
    );
}

#[test]
fn removing_list_elements_uses_positions_before_the_update() {
    let r = Request::new().value(":v", r#"{"N":"17"}"#);
    let json = r#"{"a":{"L":[{"N":"2"},{"N":"3"},{"N":"4"},{"N":"5"},{"N":"6"},{"N":"7"}]}}"#;
    let expected = av(r#"{"L":[{"N":"2"},{"N":"4"},{"N":"17"},{"N":"6"},{"N":"7"}]}"#);
    assert_eq!(
        r.updated("REMOVE a[1] SET a[3] = :v", json).unwrap()["a"],
        expected
    );
    assert_eq!(
        r.updated("SET a[3] = :v REMOVE a[1]", json).unwrap()["a"],
        expected
    );
    let out = r.updated("REMOVE a[0], a[2], a[17]", json).unwrap();
    assert_eq!(out["a"], av(r#"{"L":[{"N":"3"},{"N":"5"},{"N":"6"},{"N":"7"}]}"#));
}

#[test]
fn remove_leaves_empty_maps_and_lists_and_ignores_missing_leaves() {
    let out = Request::new()
        .updated(
            "REMOVE a.b, l[0], z, m.q",
            r#"{"a":{"M":{"b":{"N":"1"}}},"l":{"L":[{"N":"1"}]},"m":{"M":{}}}"#,
        )
        .unwrap();
    assert_eq!(out, item(r#"{"a":{"M":{}},"l":{"L":[]},"m":{"M":{}}}"#));
}

#[test]
fn add_adds_numbers_and_creates_missing_attributes() {
    let r = Request::new().value(":v", r#"{"N":"4"}"#);
    assert_eq!(
        r.updated("ADD a :v", r#"{"a":{"N":"3"}}"#).unwrap()["a"],
        av(r#"{"N":"7"}"#)
    );
    assert_eq!(r.updated("ADD a :v", "{}").unwrap()["a"], av(r#"{"N":"4"}"#));
    assert_eq!(
        r.updated("ADD b :v", r#"{"b":{"S":"hi"}}"#).unwrap_err(),
        "An operand in the update expression has an incorrect data type"
    );
}

#[test]
fn add_unites_sets_of_the_same_type() {
    let r = Request::new().value(":v", r#"{"SS":["coati","beaver","badger"]}"#);
    let out = r
        .updated("ADD a :v", r#"{"a":{"SS":["beaver","lynx","coati"]}}"#)
        .unwrap();
    assert_eq!(out["a"], av(r#"{"SS":["beaver","lynx","coati","badger"]}"#));
    assert_eq!(
        r.updated("ADD a :v", r#"{"a":{"NS":["1"]}}"#).unwrap_err(),
        "An operand in the update expression has an incorrect data type"
    );
}

#[test]
fn delete_removes_set_elements_and_the_attribute_when_none_are_left() {
    let r = Request::new()
        .value(":v", r#"{"SS":["cat","mouse"]}"#)
        .value(":d", r#"{"SS":["dog"]}"#);
    let json = r#"{"a":{"SS":["dog","cat","mouse"]},"b":{"S":"hi"}}"#;
    assert_eq!(
        r.updated("DELETE a :v", json).unwrap()["a"],
        av(r#"{"SS":["dog"]}"#)
    );
    assert_eq!(r.updated("DELETE a :v, c :d", json).unwrap().len(), 2);
    let out = r
        .updated("DELETE a :d", r#"{"a":{"SS":["dog"]},"b":{"S":"hi"}}"#)
        .unwrap();
    assert_eq!(out, item(r#"{"b":{"S":"hi"}}"#));
    assert_eq!(
        r.updated("DELETE b :d", json).unwrap_err(),
        "An operand in the update expression has an incorrect data type"
    );
}

#[test]
fn if_not_exists_takes_the_attribute_when_present() {
    let r = Request::new()
        .value(":v", r#"{"N":"2"}"#)
        .value(":w", r#"{"N":"3"}"#);
    assert_eq!(
        r.updated("SET a = if_not_exists(a, :v)", "{}").unwrap()["a"],
        av(r#"{"N":"2"}"#)
    );
    assert_eq!(
        r.updated("SET a = if_not_exists(a, :v)", r#"{"a":{"N":"9"}}"#)
            .unwrap()["a"],
        av(r#"{"N":"9"}"#)
    );
    assert_eq!(
        r.updated("SET b = if_not_exists(b, :v) + :w", "{}").unwrap()["b"],
        av(r#"{"N":"5"}"#)
    );
    assert_eq!(
        r.updated("SET b = if_not_exists(a, c)", r#"{"a":{"N":"1"}}"#)
            .unwrap_err(),
        "The provided expression refers to an attribute that does not exist in the item"
    );
}

#[test]
fn list_append_concatenates_in_order() {
    let r = Request::new().value(":v", r#"{"L":[{"S":"dog"}]}"#);
    let out = r
        .updated(
            "SET a = list_append(:v, a), b = list_append(a, :v)",
            r#"{"a":{"L":[{"N":"1"}]}}"#,
        )
        .unwrap();
    assert_eq!(out["a"], av(r#"{"L":[{"S":"dog"},{"N":"1"}]}"#));
    assert_eq!(out["b"], av(r#"{"L":[{"N":"1"},{"S":"dog"}]}"#));
    let out = r
        .updated("SET a = list_append(if_not_exists(a, :v), :v)", "{}")
        .unwrap();
    assert_eq!(out["a"], av(r#"{"L":[{"S":"dog"},{"S":"dog"}]}"#));
}

#[test]
fn number_results_out_of_range_give_aws_overflow_texts() {
    let r = Request::new()
        .value(":big", r#"{"N":"9.9999999999999999999999999999999999999E+125"}"#)
        .value(":e50", r#"{"N":"1e50"}"#)
        .value(":one", r#"{"N":"1"}"#);
    let overflow = "Number overflow. Attempting to store a number with magnitude larger than supported range";
    assert_eq!(r.updated("SET a = :big + :big", "{}").unwrap_err(), overflow);
    assert_eq!(r.updated("SET a = :e50 + :one", "{}").unwrap_err(), overflow);
    assert_eq!(
        r.updated(
            "ADD a :big",
            r#"{"a":{"N":"9.9999999999999999999999999999999999999E+125"}}"#
        )
        .unwrap_err(),
        overflow
    );
}

#[test]
fn failed_update_leaves_the_item_unchanged() {
    let r = Request::new().value(":v", r#"{"N":"1"}"#);
    let before = item(r#"{"a":{"N":"1"},"b":{"S":"x"}}"#);
    let mut after = before.clone();
    let update = r.update("SET a = :v + :v, c = b + :v").unwrap();
    assert!(update.apply(&mut after).is_err());
    assert_eq!(after, before);
}

#[test]
fn update_clauses_may_come_in_any_order_and_case_but_only_once_each() {
    let r = Request::new().value(":v", r#"{"N":"3"}"#);
    let out = r.updated("remove a Set b = :v", r#"{"a":{"N":"1"}}"#).unwrap();
    assert_eq!(out, item(r#"{"b":{"N":"3"}}"#));
    assert_eq!(
        r.update_error("SET a = :v SET b = :v"),
        r#"Invalid UpdateExpression: The "SET" section can only be used once in an update expression;"#
    );
    assert_eq!(
        r.update_error("SET a = :v REMOVE c SET b = :v"),
        r#"Invalid UpdateExpression: The "SET" section can only be used once in an update expression;"#
    );
    assert_eq!(
        Request::new().update_error("REMOVE a REMOVE b"),
        r#"Invalid UpdateExpression: The "REMOVE" section can only be used once in an update expression;"#
    );
}

#[test]
fn overlapping_update_paths_are_rejected_with_both_paths() {
    let r = Request::new()
        .name("#a1", "a")
        .name("#a2", "a")
        .value(":v", r#"{"N":"1"}"#)
        .value(":w", r#"{"N":"2"}"#);
    assert_eq!(
        r.update_error("SET a = :v REMOVE a"),
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these \
         paths; path one: [a], path two: [a]"
    );
    assert_eq!(
        r.update_error("SET a.b = :v, a = :w"),
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these \
         paths; path one: [a, b], path two: [a]"
    );
    assert_eq!(
        r.update_error("SET a = :v, a[1] = :w"),
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these \
         paths; path one: [a], path two: [a, [1]]"
    );
    assert!(r.update_error("SET #a1 = :v, #a2 = :w").contains("overlap"));
}

#[test]
fn conflicting_update_paths_are_rejected_with_both_paths() {
    let r = Request::new()
        .value(":v", r#"{"N":"1"}"#)
        .value(":w", r#"{"N":"2"}"#);
    assert_eq!(
        r.update_error("SET a.b = :v, a[1] = :w"),
        "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these \
         paths; path one: [a, b], path two: [a, [1]]"
    );
    assert!(r.update_error("SET a.b.c = :v, a.b[2] = :w").contains("conflict"));
}

#[test]
fn update_of_a_key_attribute_is_rejected_with_aws_text() {
    let r = Request::new().value(":v", r#"{"N":"1"}"#);
    let keys = ["p", "c"];
    let error = r
        .update("SET c = :v")
        .unwrap()
        .check_key_attributes(&keys)
        .unwrap_err();
    assert_eq!(
        text(error),
        "One or more parameter values were invalid: Cannot update attribute c. This attribute is part of the key"
    );
    let error = r
        .update("REMOVE p.x")
        .unwrap()
        .check_key_attributes(&keys)
        .unwrap_err();
    assert_eq!(
        text(error),
        "One or more parameter values were invalid: Cannot update attribute p. This attribute is part of the key"
    );
    let error = r
        .update("SET x = p.y")
        .unwrap()
        .check_key_attributes(&keys)
        .unwrap_err();
    assert_eq!(
        text(error),
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: p"
    );
    assert!(r.update("SET x = p").unwrap().check_key_attributes(&keys).is_ok());
}

#[test]
fn conditions_and_projections_may_not_look_inside_key_attributes() {
    let r = Request::new().value(":v", r#"{"N":"1"}"#);
    let error = r
        .condition("p[0] = :v")
        .unwrap()
        .check_key_attributes(&["p"])
        .unwrap_err();
    assert_eq!(
        text(error),
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: p"
    );
    assert!(r.projection("p.x").unwrap().check_key_attributes(&["p"]).is_err());
    assert!(
        r.projection("p, x.y")
            .unwrap()
            .check_key_attributes(&["p"])
            .is_ok()
    );
}

#[test]
fn updated_paths_project_what_the_update_touched() {
    let r = Request::new().value(":v", r#"{"N":"1"}"#);
    let update = r.update("SET a.b = :v, c = :v REMOVE d").unwrap();
    let before = item(r#"{"a":{"M":{"b":{"N":"0"},"x":{"N":"5"}}},"d":{"S":"gone"},"e":{"S":"kept"}}"#);
    assert_eq!(
        update.updated_paths().apply(&before),
        item(r#"{"a":{"M":{"b":{"N":"0"}}},"d":{"S":"gone"}}"#)
    );
}

// --- projections ----------------------------------------------------------------------------------------------

#[test]
fn projection_keeps_only_listed_paths_with_list_elements_in_index_order() {
    let r = Request::new().name("#y", "year");
    let projection = r.projection("l[2], l[0], m.b, #y, nothere, s.x").unwrap();
    let json = r#"{"l":{"L":[{"N":"0"},{"N":"1"},{"N":"2"}]},"m":{"M":{"a":{"N":"1"},"b":{"N":"2"}}},"year":{"N":"2024"},"s":{"S":"x"},"z":{"N":"9"}}"#;
    let expected = item(r#"{"l":{"L":[{"N":"0"},{"N":"2"}]},"m":{"M":{"b":{"N":"2"}}},"year":{"N":"2024"}}"#);
    assert_eq!(projection.apply(&item(json)), expected);
}

#[test]
fn projection_leaves_out_maps_with_nothing_selected() {
    let projection = Request::new().projection("a.b.c, l[5]").unwrap();
    let json = r#"{"a":{"M":{"b":{"M":{"d":{"N":"1"}}}}},"l":{"L":[{"N":"1"}]}}"#;
    assert!(projection.apply(&item(json)).is_empty());
}

#[test]
fn overlapping_projection_paths_are_rejected() {
    assert_eq!(
        Request::new().projection("a, a.b").unwrap_err(),
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of \
         these paths; path one: [a], path two: [a, b]"
    );
    assert_eq!(
        Request::new().projection("a[0].b, a.c").unwrap_err(),
        "Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of \
         these paths; path one: [a, [0], b], path two: [a, c]"
    );
    assert!(Request::new().projection("a.b, a.c, b").is_ok());
}

#[test]
fn projection_syntax_errors_quote_the_token() {
    assert_eq!(
        Request::new().projection("a, ").unwrap_err(),
        r#"Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ", ""#
    );
    assert_eq!(
        Request::new().projection("a,, b").unwrap_err(),
        r#"Invalid ProjectionExpression: Syntax error; token: ",", near: ",, b""#
    );
}

// --- legacy parameters ----------------------------------------------------------------------------------------

fn expected_map(json: &str) -> HashMap<String, crate::dynamodb::wire::legacy::ExpectedAttributeValue> {
    serde_json::from_str(json).unwrap()
}

fn expected_holds(json: &str, operator: Option<&str>, item_json: &str) -> bool {
    legacy::expected(&expected_map(json), operator)
        .unwrap()
        .evaluate(&item(item_json))
        .unwrap()
}

fn expected_error(json: &str) -> String {
    text(legacy::expected(&expected_map(json), None).unwrap_err())
}

#[test]
fn expected_value_form_checks_equality_and_existence() {
    assert!(expected_holds(
        r#"{"a":{"Value":{"S":"x"}}}"#,
        None,
        r#"{"a":{"S":"x"}}"#
    ));
    assert!(!expected_holds(
        r#"{"a":{"Value":{"S":"x"},"Exists":true}}"#,
        None,
        r#"{"a":{"S":"y"}}"#
    ));
    assert!(expected_holds(r#"{"a":{"Exists":false}}"#, None, "{}"));
    assert!(!expected_holds(
        r#"{"a":{"Exists":false}}"#,
        None,
        r#"{"a":{"S":"y"}}"#
    ));
}

#[test]
fn expected_comparison_operators_follow_aws_semantics() {
    let json = r#"{"n":{"N":"5"},"s":{"S":"hello"},"l":{"L":[{"S":"x"}]}}"#;
    let holds = |condition: &str| expected_holds(condition, None, json);
    assert!(holds(
        r#"{"n":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"4"}]}}"#
    ));
    assert!(holds(
        r#"{"n":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"5"},{"N":"6"}]}}"#
    ));
    assert!(holds(
        r#"{"n":{"ComparisonOperator":"IN","AttributeValueList":[{"N":"1"},{"N":"5"}]}}"#
    ));
    assert!(holds(
        r#"{"q":{"ComparisonOperator":"NE","AttributeValueList":[{"N":"1"}]}}"#
    ));
    assert!(holds(r#"{"q":{"ComparisonOperator":"NULL"}}"#));
    assert!(holds(r#"{"s":{"ComparisonOperator":"NOT_NULL"}}"#));
    assert!(holds(
        r#"{"s":{"ComparisonOperator":"BEGINS_WITH","AttributeValueList":[{"S":"he"}]}}"#
    ));
    assert!(holds(
        r#"{"l":{"ComparisonOperator":"CONTAINS","AttributeValueList":[{"S":"x"}]}}"#
    ));
    assert!(holds(
        r#"{"s":{"ComparisonOperator":"NOT_CONTAINS","AttributeValueList":[{"S":"z"}]}}"#
    ));
    // NOT_CONTAINS needs the attribute, unlike NOT contains().
    assert!(!holds(
        r#"{"q":{"ComparisonOperator":"NOT_CONTAINS","AttributeValueList":[{"S":"z"}]}}"#
    ));
    assert!(holds(r#"{"n":{"ComparisonOperator":"EQ","Value":{"N":"5"}}}"#));
}

#[test]
fn expected_entries_combine_with_and_unless_or_is_asked() {
    let json = r#"{"a":{"Exists":false},"b":{"Value":{"N":"1"}}}"#;
    assert!(!expected_holds(json, None, r#"{"b":{"N":"2"}}"#));
    assert!(!expected_holds(json, Some("AND"), r#"{"b":{"N":"2"}}"#));
    assert!(expected_holds(json, Some("OR"), r#"{"b":{"N":"2"}}"#));
    assert!(expected_holds("{}", None, "{}"));
}

#[test]
fn expected_is_validated_with_aws_texts() {
    let prefix = "One or more parameter values were invalid: ";
    let cases = [
        (
            r#"{"a":{"Exists":true,"ComparisonOperator":"NULL"}}"#,
            "Exists and ComparisonOperator cannot be used together for Attribute: a",
        ),
        (
            r#"{"a":{"Value":{"N":"1"},"AttributeValueList":[]}}"#,
            "Value and AttributeValueList cannot be used together for Attribute: a",
        ),
        (
            r#"{"a":{"AttributeValueList":[{"N":"1"}]}}"#,
            "AttributeValueList can only be used with a ComparisonOperator for Attribute: a",
        ),
        (
            r#"{"a":{"Exists":false,"Value":{"N":"1"}}}"#,
            "Value cannot be used when Exists is false for Attribute: a",
        ),
        (
            r#"{"a":{}}"#,
            "Value must be provided when Exists is null for Attribute: a",
        ),
        (
            r#"{"a":{"Exists":true}}"#,
            "Value must be provided when Exists is true for Attribute: a",
        ),
        (
            r#"{"a":{"ComparisonOperator":"EQ"}}"#,
            "Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a",
        ),
        (
            r#"{"a":{"ComparisonOperator":"EQ","AttributeValueList":[]}}"#,
            "Invalid number of argument(s) for the EQ ComparisonOperator",
        ),
        (
            r#"{"a":{"ComparisonOperator":"NULL","AttributeValueList":[{"N":"1"}]}}"#,
            "Invalid number of argument(s) for the NULL ComparisonOperator",
        ),
        (
            r#"{"a":{"ComparisonOperator":"LT","AttributeValueList":[{"BOOL":true}]}}"#,
            "ComparisonOperator LT is not valid for BOOL AttributeValue type",
        ),
        (
            r#"{"a":{"ComparisonOperator":"IN","AttributeValueList":[{"N":"1"},{"S":"1"}]}}"#,
            "AttributeValues inside AttributeValueList must be of same type",
        ),
    ];
    for (json, message) in cases {
        assert_eq!(expected_error(json), format!("{prefix}{message}"), "{json}");
    }
    assert_eq!(
        expected_error(
            r#"{"a":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"5"},{"N":"1"}]}}"#
        ),
        "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"
    );
    assert_eq!(
        expected_error(r#"{"a":{"ComparisonOperator":"LIKE","AttributeValueList":[]}}"#),
        "1 validation error detected: Value 'LIKE' at 'expected.a.member.comparisonOperator' failed to satisfy \
         constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, \
         LE, BEGINS_WITH, GE, CONTAINS]"
    );
}

#[test]
fn conditional_operator_needs_two_or_more_entries() {
    let one = expected_map(r#"{"a":{"Exists":false}}"#);
    assert_eq!(
        text(legacy::expected(&one, Some("OR")).unwrap_err()),
        "ConditionalOperator can only be used when Filter or Expected has two or more elements"
    );
    assert_eq!(
        text(legacy::expected(&one, Some("XOR")).unwrap_err()),
        "1 validation error detected: Value 'XOR' at 'conditionalOperator' failed to satisfy constraint: Member \
         must satisfy enum value set: [OR, AND]"
    );
}

#[test]
fn filter_conditions_translate_like_expected() {
    let filter: HashMap<String, crate::dynamodb::wire::legacy::Condition> = serde_json::from_str(
        r#"{"a":{"ComparisonOperator":"GE","AttributeValueList":[{"N":"2"}]},"b":{"ComparisonOperator":"NULL"}}"#,
    )
    .unwrap();
    let condition = legacy::conditions(&filter, None, "QueryFilter").unwrap();
    assert!(condition.evaluate(&item(r#"{"a":{"N":"3"}}"#)).unwrap());
    assert!(
        !condition
            .evaluate(&item(r#"{"a":{"N":"3"},"b":{"N":"1"}}"#))
            .unwrap()
    );
    let bad: HashMap<String, crate::dynamodb::wire::legacy::Condition> =
        serde_json::from_str(r#"{"a":{"AttributeValueList":[{"N":"2"}]}}"#).unwrap();
    assert_eq!(
        text(legacy::conditions(&bad, None, "ScanFilter").unwrap_err()),
        "1 validation error detected: Value null at 'scanFilter.a.member.comparisonOperator' failed to satisfy \
         constraint: Member must not be null"
    );
    let sets: HashMap<String, crate::dynamodb::wire::legacy::Condition> = serde_json::from_str(
        r#"{"a":{"ComparisonOperator":"CONTAINS","AttributeValueList":[{"SS":["x"]}]}}"#,
    )
    .unwrap();
    assert_eq!(
        text(legacy::conditions(&sets, None, "ScanFilter").unwrap_err()),
        "One or more parameter values were invalid: ComparisonOperator CONTAINS is not valid for SS AttributeValue type"
    );
}

fn updates_map(json: &str) -> HashMap<String, crate::dynamodb::wire::legacy::AttributeValueUpdate> {
    serde_json::from_str(json).unwrap()
}

#[test]
fn attribute_updates_put_add_and_delete() {
    let update = legacy::attribute_updates(&updates_map(
        r#"{"a":{"Value":{"S":"x"}},"n":{"Action":"ADD","Value":{"N":"2"}},"l":{"Action":"ADD","Value":{"L":[{"N":"2"}]}},
            "s":{"Action":"DELETE","Value":{"SS":["a"]}},"gone":{"Action":"DELETE"}}"#,
    ))
    .unwrap();
    let mut target = item(r#"{"n":{"N":"1"},"l":{"L":[{"N":"1"}]},"s":{"SS":["a","b"]},"gone":{"N":"1"}}"#);
    update.apply(&mut target).unwrap();
    let expected = item(r#"{"a":{"S":"x"},"n":{"N":"3"},"l":{"L":[{"N":"1"},{"N":"2"}]},"s":{"SS":["b"]}}"#);
    assert_eq!(target, expected);
}

#[test]
fn attribute_updates_type_mismatch_has_the_legacy_text() {
    let update =
        legacy::attribute_updates(&updates_map(r#"{"n":{"Action":"ADD","Value":{"N":"2"}}}"#)).unwrap();
    let mut target = item(r#"{"n":{"S":"x"}}"#);
    assert_eq!(
        text(update.apply(&mut target).unwrap_err()),
        "Type mismatch for attribute to update"
    );
}

#[test]
fn attribute_updates_are_validated_with_aws_texts() {
    let prefix = "One or more parameter values were invalid: ";
    let error = |json: &str| text(legacy::attribute_updates(&updates_map(json)).unwrap_err());
    assert_eq!(
        error(r#"{"a":{"Action":"PUT"}}"#),
        format!("{prefix}Only DELETE action is allowed when no attribute value is specified")
    );
    assert_eq!(
        error(r#"{"a":{}}"#),
        format!("{prefix}Only DELETE action is allowed when no attribute value is specified")
    );
    assert_eq!(
        error(r#"{"a":{"Action":"DELETE","Value":{"S":"x"}}}"#),
        format!("{prefix}DELETE action with value is not supported for the type S")
    );
    assert_eq!(
        error(r#"{"a":{"Action":"ADD","Value":{"M":{}}}}"#),
        format!("{prefix}ADD action is not supported for the type M")
    );
    assert_eq!(
        error(r#"{"a":{"Action":"MOVE","Value":{"S":"x"}}}"#),
        "1 validation error detected: Value 'MOVE' at 'attributeUpdates.a.member.action' failed to satisfy \
         constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
    );
}

#[test]
fn attributes_to_get_projects_top_level_attributes() {
    let projection = legacy::attributes_to_get(&["a".into(), "b.c".into()]);
    let json = r#"{"a":{"N":"1"},"b.c":{"N":"2"},"b":{"M":{"c":{"N":"3"}}}}"#;
    assert_eq!(
        projection.apply(&item(json)),
        item(r#"{"a":{"N":"1"},"b.c":{"N":"2"}}"#)
    );
}

// --- no input makes the parsers or evaluation panic -----------------------------------------------------------

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    /// Every token the grammars know, plus some that they do not.
    const TOKENS: &[&str] = &[
        "a",
        "b",
        "c",
        "#n",
        "#m",
        "#x",
        ":v",
        ":w",
        ":l",
        ":s",
        ":m",
        ":missing",
        "0",
        "1",
        "7",
        "99999999999",
        "(",
        ")",
        "[",
        "]",
        ".",
        ",",
        "=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "+",
        "-",
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "SET",
        "REMOVE",
        "ADD",
        "DELETE",
        "size",
        "attribute_exists",
        "attribute_not_exists",
        "attribute_type",
        "begins_with",
        "contains",
        "if_not_exists",
        "list_append",
        "name",
        "_",
        "#",
        ":",
        "é",
        " ",
    ];

    fn request() -> Request {
        Request::new()
            .name("#n", "a")
            .name("#m", "b")
            .name("#x", "c")
            .value(":v", r#"{"N":"1"}"#)
            .value(":w", r#"{"S":"S"}"#)
            .value(":l", r#"{"L":[{"N":"1"},{"S":"x"}]}"#)
            .value(":s", r#"{"SS":["x","y"]}"#)
            .value(":m", r#"{"M":{"a":{"N":"2"}}}"#)
    }

    fn sample_item() -> Item {
        item(
            r#"{"a":{"L":[{"N":"1"},{"M":{"b":{"S":"x"}}},{"L":[]}]},"b":{"M":{"a":{"N":"5"},"c":{"SS":["x"]}}},
                "c":{"N":"3"},"name":{"S":"n"}}"#,
        )
    }

    fn soup() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|tokens| tokens.join(" "))
    }

    fn exercise(expression: &str) {
        let r = request();
        let target = sample_item();
        for kind in [
            ExpressionKind::Condition,
            ExpressionKind::Filter,
            ExpressionKind::KeyCondition,
        ] {
            if let Ok(condition) = parse_condition(expression, kind, &mut r.subs()) {
                let _ = condition.evaluate(&target);
                let _ = condition.evaluate(&Item::new());
                let _ = condition.check_key_attributes(&["a"]);
            }
        }
        if let Ok(update) = parse_update(expression, &mut r.subs()) {
            let mut changed = target.clone();
            let _ = update.apply(&mut changed);
            let _ = update.apply_to_new_item(&mut Item::new());
            let _ = update.updated_paths().apply(&changed);
            let _ = update.check_key_attributes(&["a", "b"]);
        }
        if let Ok(projection) = parse_projection(expression, &mut r.subs()) {
            let _ = projection.apply(&target);
        }
        let _ = r.subs().finish();
    }

    proptest! {
        #[test]
        fn random_text_never_panics(expression in ".{0,80}") {
            exercise(&expression);
        }

        #[test]
        fn token_soup_never_panics(expression in soup()) {
            exercise(&expression);
        }

        #[test]
        fn token_soup_as_updates_never_panics(body in soup(), clause in prop::sample::select(&["SET a = ", "REMOVE ", "ADD a ", "DELETE a ", "SET a[3] = ", "SET #n.b = "][..])) {
            exercise(&format!("{clause}{body}"));
        }

        #[test]
        fn token_soup_as_conditions_never_panics(body in soup(), head in prop::sample::select(&["a = ", "(", "NOT ", "size(", "a IN (", "a BETWEEN "][..])) {
            exercise(&format!("{head}{body}"));
        }
    }
}

/// Generated valid-looking expressions on generated items: evaluation obeys boolean algebra, and a failed update
/// leaves the item untouched.
mod generated {
    use proptest::prelude::*;

    use super::*;
    use crate::dynamodb::number::Number;

    fn number(n: i32) -> AttributeValue {
        AttributeValue::N(Number::parse(&n.to_string()).unwrap())
    }

    fn value() -> impl Strategy<Value = AttributeValue> {
        let leaf = prop_oneof![
            "[a-c]{0,3}".prop_map(AttributeValue::S),
            (-3i32..4).prop_map(number),
            any::<bool>().prop_map(AttributeValue::Bool),
            Just(AttributeValue::Null),
            prop::collection::vec(0u8..3, 0..3).prop_map(AttributeValue::B),
            prop::collection::btree_set("[a-c]", 1..3)
                .prop_map(|s| AttributeValue::Ss(s.into_iter().collect())),
            prop::collection::btree_set(-2i32..3, 1..3).prop_map(|s| {
                AttributeValue::Ns(
                    s.into_iter()
                        .map(|n| Number::parse(&n.to_string()).unwrap())
                        .collect(),
                )
            }),
        ];
        leaf.prop_recursive(3, 24, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
                prop::collection::hash_map("[a-c]", inner, 0..3).prop_map(AttributeValue::M),
            ]
        })
    }

    fn item() -> impl Strategy<Value = Item> {
        prop::collection::hash_map("[a-c]", value(), 0..4)
    }

    fn path() -> impl Strategy<Value = String> {
        "[a-c](\\.[a-c]|\\[[0-3]\\]){0,2}"
    }

    fn operand() -> impl Strategy<Value = String> {
        prop_oneof![
            path(),
            Just(":v0".to_owned()),
            Just(":v1".to_owned()),
            path().prop_map(|p| format!("size({p})")),
        ]
    }

    fn condition() -> impl Strategy<Value = String> {
        let comparator = prop::sample::select(&["=", "<>", "<", "<=", ">", ">="][..]);
        let leaf = prop_oneof![
            (operand(), comparator, operand()).prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            (operand(), operand(), operand()).prop_map(|(a, b, c)| format!("{a} BETWEEN {b} AND {c}")),
            (operand(), prop::collection::vec(operand(), 1..3))
                .prop_map(|(a, l)| format!("{a} IN ({})", l.join(", "))),
            path().prop_map(|p| format!("attribute_exists({p})")),
            path().prop_map(|p| format!("attribute_not_exists({p})")),
            operand().prop_map(|o| format!("attribute_type({o}, :t)")),
            (path(), operand()).prop_map(|(p, o)| format!("begins_with({p}, {o})")),
            (path(), operand()).prop_map(|(p, o)| format!("contains({p}, {o})")),
        ];
        leaf.prop_recursive(3, 12, 2, |inner| {
            prop_oneof![
                inner.clone().prop_map(|c| format!("NOT ({c})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) AND ({b})")),
                (inner.clone(), inner).prop_map(|(a, b)| format!("({a}) OR ({b})")),
            ]
        })
    }

    fn set_value() -> impl Strategy<Value = String> {
        let simple = prop_oneof![
            path(),
            Just(":v0".to_owned()),
            Just(":n".to_owned()),
            Just(":l".to_owned())
        ];
        prop_oneof![
            simple.clone(),
            (simple.clone(), simple.clone()).prop_map(|(a, b)| format!("{a} + {b}")),
            (simple.clone(), simple.clone()).prop_map(|(a, b)| format!("{a} - {b}")),
            (path(), simple.clone()).prop_map(|(p, v)| format!("if_not_exists({p}, {v})")),
            (simple.clone(), simple).prop_map(|(a, b)| format!("list_append({a}, {b})")),
        ]
    }

    fn update() -> impl Strategy<Value = String> {
        let action = prop_oneof![
            (path(), set_value()).prop_map(|(p, v)| format!("SET {p} = {v}")),
            path().prop_map(|p| format!("REMOVE {p}")),
            (path(), prop::sample::select(&[":n", ":s", ":ns"][..]))
                .prop_map(|(p, v)| format!("ADD {p} {v}")),
            (path(), prop::sample::select(&[":s", ":ns"][..])).prop_map(|(p, v)| format!("DELETE {p} {v}")),
        ];
        prop::collection::vec(action, 1..4).prop_map(|actions| {
            // One clause of each kind: keep the first action of each and join them.
            let mut seen = Vec::new();
            let mut out = Vec::new();
            for action in actions {
                let keyword = action.split(' ').next().unwrap_or_default().to_owned();
                if !seen.contains(&keyword) {
                    seen.push(keyword);
                    out.push(action);
                }
            }
            out.join(" ")
        })
    }

    fn values(v0: AttributeValue, v1: AttributeValue) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (":v0".to_owned(), v0),
            (":v1".to_owned(), v1),
            (":t".to_owned(), AttributeValue::S("N".into())),
            (":n".to_owned(), number(2)),
            (":l".to_owned(), AttributeValue::L(vec![number(1)])),
            (":s".to_owned(), AttributeValue::Ss(vec!["a".into()])),
            (
                ":ns".to_owned(),
                AttributeValue::Ns(vec![Number::parse("1").unwrap()]),
            ),
        ])
    }

    fn evaluate(text: &str, values: &HashMap<String, AttributeValue>, item: &Item) -> Option<bool> {
        let mut subs = Substitutions::new(None, Some(values));
        let condition = parse_condition(text, ExpressionKind::Filter, &mut subs).ok()?;
        Some(condition.evaluate(item).unwrap())
    }

    proptest! {
        #[test]
        fn not_negates_and_and_or_combine(
            a in condition(), b in condition(), item in item(), v0 in value(), v1 in value(),
        ) {
            let values = values(v0, v1);
            if let (Some(x), Some(y)) = (evaluate(&a, &values, &item), evaluate(&b, &values, &item)) {
                prop_assert_eq!(evaluate(&format!("NOT ({a})"), &values, &item), Some(!x));
                prop_assert_eq!(evaluate(&format!("({a}) AND ({b})"), &values, &item), Some(x && y));
                prop_assert_eq!(evaluate(&format!("({a}) OR ({b})"), &values, &item), Some(x || y));
            }
        }

        #[test]
        fn failed_updates_leave_items_unchanged(text in update(), item in item(), v0 in value()) {
            let values = values(v0.clone(), v0);
            let mut subs = Substitutions::new(None, Some(&values));
            if let Ok(update) = parse_update(&text, &mut subs) {
                let mut changed = item.clone();
                if update.apply(&mut changed).is_err() {
                    prop_assert_eq!(changed, item);
                } else {
                    let _ = update.updated_paths().apply(&changed);
                }
            }
        }
    }
}
