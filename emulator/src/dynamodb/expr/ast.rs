//! The parsed, validated form of expressions, with placeholders already substituted: what conditions,
//! updates and projections evaluate, and what operations inspect (e.g. a Query's key condition).

use std::fmt;

use crate::dynamodb::value::{AttributeType, AttributeValue, Item};

/// One step of a document path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathElement {
    /// A map key (the first element is the top-level attribute name).
    Attribute(String),
    /// A list index.
    Index(u32),
}

/// A document path such as `a.b[2].c`: a top-level attribute, then map keys and list indexes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path(Vec<PathElement>);

impl Path {
    /// A path to a top-level attribute.
    pub fn attribute(name: impl Into<String>) -> Self {
        Self(vec![PathElement::Attribute(name.into())])
    }

    /// A path from its elements; `None` unless it starts with an attribute name.
    pub fn from_elements(elements: Vec<PathElement>) -> Option<Self> {
        matches!(elements.first(), Some(PathElement::Attribute(_))).then_some(Self(elements))
    }

    /// The elements, starting with the top-level attribute.
    pub fn elements(&self) -> &[PathElement] {
        &self.0
    }

    /// The top-level attribute name.
    pub fn head(&self) -> &str {
        match self.0.first() {
            Some(PathElement::Attribute(name)) => name,
            _ => "",
        }
    }

    /// Whether the path goes inside its top-level attribute (`a.b`, `a[0]`).
    pub fn is_nested(&self) -> bool {
        self.0.len() > 1
    }

    /// The value at this path in `item`, if there is one.
    pub fn resolve<'i>(&self, item: &'i Item) -> Option<&'i AttributeValue> {
        let mut current = item.get(self.head())?;
        for element in self.0.iter().skip(1) {
            current = step(current, element)?;
        }
        Some(current)
    }
}

/// The child of `value` that `element` names, if `value` is the right kind of collection and has it.
pub(crate) fn step<'v>(value: &'v AttributeValue, element: &PathElement) -> Option<&'v AttributeValue> {
    match (value, element) {
        (AttributeValue::M(map), PathElement::Attribute(key)) => map.get(key),
        (AttributeValue::L(list), PathElement::Index(index)) => list.get(*index as usize),
        _ => None,
    }
}

impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Attribute(name) => f.write_str(name),
            PathElement::Index(index) => write!(f, "[{index}]"),
        }
    }
}

/// AWS prints paths as a list of their elements: `[a, b, [2], c]`.
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, element) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{element}")?;
        }
        f.write_str("]")
    }
}

/// An operand of a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// An attribute of the item.
    Path(Path),
    /// A value from ExpressionAttributeValues (or a legacy AttributeValueList).
    Value(AttributeValue),
    /// `size(operand)`.
    Size(Box<Operand>),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparator {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Comparator {
    /// The operator as written in expressions.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparator::Eq => "=",
            Comparator::Ne => "<>",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
        }
    }
}

/// A condition (ConditionExpression, FilterExpression, KeyConditionExpression or a legacy condition).
#[derive(Clone, Debug, PartialEq)]
pub enum CondExpr {
    /// `a <op> b`.
    Compare(Comparator, Operand, Operand),
    /// `a BETWEEN low AND high`.
    Between(Operand, Operand, Operand),
    /// `a IN (b, c, ...)`.
    In(Operand, Vec<Operand>),
    /// `attribute_exists(path)`.
    AttributeExists(Path),
    /// `attribute_not_exists(path)`.
    AttributeNotExists(Path),
    /// `attribute_type(operand, :type)`.
    AttributeType(Operand, AttributeType),
    /// `begins_with(a, b)`.
    BeginsWith(Operand, Operand),
    /// `contains(a, b)`.
    Contains(Operand, Operand),
    /// `NOT c`.
    Not(Box<CondExpr>),
    /// `c1 AND c2 AND ...` (true when empty).
    And(Vec<CondExpr>),
    /// `c1 OR c2 OR ...`.
    Or(Vec<CondExpr>),
}

/// An operand on the right of an update's `SET`.
#[derive(Clone, Debug, PartialEq)]
pub enum UpdateOperand {
    /// An attribute of the item as it was before the update.
    Path(Path),
    /// A value from ExpressionAttributeValues.
    Value(AttributeValue),
    /// `if_not_exists(path, operand)`.
    IfNotExists(Path, Box<UpdateOperand>),
}

/// The value a `SET` action writes.
#[derive(Clone, Debug, PartialEq)]
pub enum SetValue {
    /// A plain operand.
    Operand(UpdateOperand),
    /// `a + b` (numbers).
    Plus(UpdateOperand, UpdateOperand),
    /// `a - b` (numbers).
    Minus(UpdateOperand, UpdateOperand),
    /// `list_append(a, b)`.
    ListAppend(UpdateOperand, UpdateOperand),
}

/// One action of an update.
#[derive(Clone, Debug, PartialEq)]
pub enum UpdateAction {
    /// `SET path = value` (legacy `PUT`).
    Set(Path, SetValue),
    /// `REMOVE path` (legacy `DELETE` without a value).
    Remove(Path),
    /// `ADD path :value`: number addition or set union (legacy `ADD` also appends lists).
    Add(Path, AttributeValue),
    /// `DELETE path :set`: set difference.
    Delete(Path, AttributeValue),
}

impl UpdateAction {
    /// The path the action writes.
    pub fn path(&self) -> &Path {
        match self {
            UpdateAction::Set(path, _)
            | UpdateAction::Remove(path)
            | UpdateAction::Add(path, _)
            | UpdateAction::Delete(path, _) => path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_as_aws_lists() {
        let path = Path::from_elements(vec![
            PathElement::Attribute("a".into()),
            PathElement::Index(1),
            PathElement::Attribute("b".into()),
        ])
        .unwrap();
        assert_eq!(path.to_string(), "[a, [1], b]");
        assert_eq!(path.head(), "a");
        assert!(Path::from_elements(vec![PathElement::Index(0)]).is_none());
    }
}
