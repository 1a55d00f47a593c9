//! Evaluating conditions against an item, and the value semantics expressions share: equality (type and
//! value, sets regardless of order, numbers numerically), ordering (N numerically, S and B bytewise), `size`,
//! `contains` and `begins_with`.
//!
//! Values are borrowed from the item and the parsed expression; only `size()` builds a value.

use std::{borrow::Cow, cmp::Ordering};

use super::ast::{Comparator, CondExpr, Operand};
use crate::dynamodb::{
    number::Number,
    value::{AttributeValue, Item},
};

/// Whether the condition holds for `item`. A missing attribute makes comparisons false, `<>` true.
pub(crate) fn evaluate(condition: &CondExpr, item: &Item) -> bool {
    // NB: NOT chains are followed in a loop and leaves are evaluated in their own frame, so deep trees need
    // little stack.
    let mut negated = false;
    let mut inner = condition;
    while let CondExpr::Not(next) = inner {
        negated = !negated;
        inner = next;
    }
    let holds = match inner {
        CondExpr::And(all) => all.iter().all(|c| evaluate(c, item)),
        CondExpr::Or(any) => any.iter().any(|c| evaluate(c, item)),
        leaf => evaluate_leaf(leaf, item),
    };
    holds != negated
}

#[inline(never)]
fn evaluate_leaf(condition: &CondExpr, item: &Item) -> bool {
    match condition {
        CondExpr::Compare(op, a, b) => {
            let (a, b) = (operand(a, item), operand(b, item));
            compare(*op, a.as_deref(), b.as_deref())
        }
        CondExpr::Between(a, low, high) => {
            let a = operand(a, item);
            let (low, high) = (operand(low, item), operand(high, item));
            let a = a.as_deref();
            compare(Comparator::Le, a, high.as_deref()) && compare(Comparator::Ge, a, low.as_deref())
        }
        CondExpr::In(a, list) => match operand(a, item) {
            Some(a) => list
                .iter()
                .any(|b| operand(b, item).is_some_and(|b| values_equal(&a, &b))),
            None => false,
        },
        CondExpr::AttributeExists(path) => path.resolve(item).is_some(),
        CondExpr::AttributeNotExists(path) => path.resolve(item).is_none(),
        CondExpr::AttributeType(a, wanted) => operand(a, item).is_some_and(|a| a.attribute_type() == *wanted),
        CondExpr::BeginsWith(a, b) => match (operand(a, item), operand(b, item)) {
            (Some(a), Some(b)) => begins_with(&a, &b),
            _ => false,
        },
        CondExpr::Contains(a, b) => match (operand(a, item), operand(b, item)) {
            (Some(a), Some(b)) => contains(&a, &b),
            _ => false,
        },
        CondExpr::Not(_) | CondExpr::And(_) | CondExpr::Or(_) => evaluate(condition, item),
    }
}

/// The value of an operand for `item`; `None` when the attribute is missing (or `size` has no answer).
fn operand<'a>(operand: &'a Operand, item: &'a Item) -> Option<Cow<'a, AttributeValue>> {
    match operand {
        Operand::Path(path) => path.resolve(item).map(Cow::Borrowed),
        Operand::Value(value) => Some(Cow::Borrowed(value)),
        Operand::Size(inner) => {
            let inner = self::operand(inner, item)?;
            let size = size(&inner)?;
            // NB: a decimal integer is always a valid DynamoDB number.
            Number::parse(&size.to_string())
                .ok()
                .map(|n| Cow::Owned(AttributeValue::N(n)))
        }
    }
}

/// `size()`: string length, byte count, set, list or map size; nothing for numbers, booleans and null.
pub(crate) fn size(value: &AttributeValue) -> Option<usize> {
    Some(match value {
        // NB: AWS counts a string's UTF-16 code units (Java's String.length), not its bytes.
        AttributeValue::S(s) => s.encode_utf16().count(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Ss(v) => v.len(),
        AttributeValue::Ns(v) => v.len(),
        AttributeValue::Bs(v) => v.len(),
        AttributeValue::L(v) => v.len(),
        AttributeValue::M(m) => m.len(),
        AttributeValue::N(_) | AttributeValue::Bool(_) | AttributeValue::Null => return None,
    })
}

/// A comparison: `=` needs both operands and equal values, `<>` is its negation, and the order comparisons
/// need two present operands of the same type among S, N and B.
pub(crate) fn compare(op: Comparator, a: Option<&AttributeValue>, b: Option<&AttributeValue>) -> bool {
    let equal = || a.zip(b).is_some_and(|(a, b)| values_equal(a, b));
    match op {
        Comparator::Eq => equal(),
        Comparator::Ne => !equal(),
        _ => match a.zip(b).and_then(|(a, b)| order(a, b)) {
            Some(ordering) => match op {
                Comparator::Lt => ordering == Ordering::Less,
                Comparator::Le => ordering != Ordering::Greater,
                Comparator::Gt => ordering == Ordering::Greater,
                _ => ordering != Ordering::Less,
            },
            None => false,
        },
    }
}

/// The order of two values of the same scalar type (S, N or B); `None` otherwise.
pub(crate) fn order(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::S(a), AttributeValue::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (AttributeValue::N(a), AttributeValue::N(b)) => Some(a.cmp(b)),
        (AttributeValue::B(a), AttributeValue::B(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// Equality as expressions see it: same type and value; sets equal whatever their order.
pub(crate) fn values_equal(a: &AttributeValue, b: &AttributeValue) -> bool {
    use AttributeValue as V;
    match (a, b) {
        (V::S(a), V::S(b)) => a == b,
        // NB: numbers are kept in canonical form, so equal text is equal value.
        (V::N(a), V::N(b)) => a == b,
        (V::B(a), V::B(b)) => a == b,
        (V::Bool(a), V::Bool(b)) => a == b,
        (V::Null, V::Null) => true,
        (V::Ss(a), V::Ss(b)) => same_set(a, b),
        (V::Ns(a), V::Ns(b)) => same_set(a, b),
        (V::Bs(a), V::Bs(b)) => same_set(a, b),
        (V::L(a), V::L(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| values_equal(a, b)),
        (V::M(a), V::M(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => false,
    }
}

fn same_set<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    // NB: sets have no duplicates, so equal sizes and inclusion one way make them equal.
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// `begins_with(a, b)`: both strings or both binaries, and `a` starts with `b`.
pub(crate) fn begins_with(a: &AttributeValue, b: &AttributeValue) -> bool {
    match (a, b) {
        (AttributeValue::S(a), AttributeValue::S(b)) => a.as_bytes().starts_with(b.as_bytes()),
        (AttributeValue::B(a), AttributeValue::B(b)) => a.starts_with(b),
        _ => false,
    }
}

/// `contains(a, b)`: a substring of a string or binary, an element of a set, or an element of a list.
pub(crate) fn contains(a: &AttributeValue, b: &AttributeValue) -> bool {
    use AttributeValue as V;
    match (a, b) {
        (V::S(a), V::S(b)) => a.contains(b.as_str()),
        (V::B(a), V::B(b)) => b.is_empty() || a.windows(b.len()).any(|w| w == b.as_slice()),
        (V::Ss(set), V::S(b)) => set.contains(b),
        (V::Ns(set), V::N(b)) => set.contains(b),
        (V::Bs(set), V::B(b)) => set.contains(b),
        (V::L(list), b) => list.iter().any(|e| values_equal(e, b)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamodb::expr::ast::Path;

    fn n(text: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(text).unwrap())
    }

    fn s(text: &str) -> AttributeValue {
        AttributeValue::S(text.into())
    }

    #[test]
    fn sets_are_equal_regardless_of_order() {
        let a = AttributeValue::Ss(vec!["x".into(), "y".into()]);
        let b = AttributeValue::Ss(vec!["y".into(), "x".into()]);
        assert!(values_equal(&a, &b));
        assert!(!values_equal(&a, &AttributeValue::Ss(vec!["x".into()])));
    }

    #[test]
    fn numbers_order_numerically_and_strings_bytewise() {
        assert_eq!(order(&n("10"), &n("9")), Some(Ordering::Greater));
        assert_eq!(order(&s("10"), &s("9")), Some(Ordering::Less));
        assert_eq!(order(&s("z"), &s("é")), Some(Ordering::Less));
        assert_eq!(order(&n("1"), &s("1")), None);
    }

    #[test]
    fn ordering_comparisons_on_other_types_are_false() {
        let list = AttributeValue::L(vec![]);
        assert!(!compare(Comparator::Lt, Some(&list), Some(&list)));
        assert!(!compare(Comparator::Ge, Some(&list), Some(&list)));
        assert!(compare(Comparator::Eq, Some(&list), Some(&list)));
    }

    #[test]
    fn missing_operands_make_equal_false_and_not_equal_true() {
        assert!(!compare(Comparator::Eq, None, None));
        assert!(compare(Comparator::Ne, None, None));
        assert!(compare(Comparator::Ne, None, Some(&n("1"))));
        assert!(!compare(Comparator::Le, None, Some(&n("1"))));
    }

    #[test]
    fn size_counts_utf16_units_bytes_and_elements() {
        assert_eq!(size(&s("hé😀")), Some(4));
        assert_eq!(size(&AttributeValue::B(vec![1, 2, 3])), Some(3));
        assert_eq!(size(&n("12")), None);
        assert_eq!(size(&AttributeValue::L(vec![n("1"), n("2")])), Some(2));
    }

    #[test]
    fn contains_finds_substrings_set_members_and_list_elements() {
        assert!(contains(&s("hello"), &s("ell")));
        assert!(!contains(&s("hello"), &n("1")));
        assert!(contains(
            &AttributeValue::Ns(vec![Number::parse("4").unwrap()]),
            &n("4.0")
        ));
        assert!(contains(
            &AttributeValue::L(vec![AttributeValue::L(vec![n("3")])]),
            &AttributeValue::L(vec![n("3")])
        ));
        assert!(contains(
            &AttributeValue::B(b"hi there".to_vec()),
            &AttributeValue::B(b"here".to_vec())
        ));
    }

    #[test]
    fn size_of_a_missing_attribute_compares_false() {
        let item = Item::new();
        let cond = CondExpr::Compare(
            Comparator::Eq,
            Operand::Size(Box::new(Operand::Path(Path::attribute("a")))),
            Operand::Value(n("0")),
        );
        assert!(!evaluate(&cond, &item));
    }
}
