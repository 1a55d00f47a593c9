//! Applying updates (UpdateExpression or legacy AttributeUpdates) to an item, with AWS's runtime errors.
//!
//! Every action is worked out from the item as it was before the update, then written: so `SET a = b, b = a`
//! swaps, and list indexes in `REMOVE a[1], a[3]` or `SET a[3] = :v REMOVE a[1]` mean the positions before
//! the update. Nothing is written unless every action succeeds.

use std::cmp::Ordering;

use super::{
    Projection,
    ast::{Path, PathElement, SetValue, UpdateAction, UpdateOperand, step},
};
use crate::{
    dynamodb::{
        number::{Number, NumberError},
        value::{AttributeValue, INVALID_PARAMETERS, Item},
    },
    edge::AwsError,
};

/// Why an update cannot be applied to an item; `Display` is AWS's whole message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UpdateError {
    /// A path whose parent is missing or is not the map or list the path needs.
    #[error("The document path provided in the update expression is invalid for update")]
    InvalidPath,
    /// An operand of the wrong type (`+` on a string, ADD of a number to a set, ...).
    #[error("An operand in the update expression has an incorrect data type")]
    OperandType,
    /// A SET operand that refers to a missing attribute.
    #[error("The provided expression refers to an attribute that does not exist in the item")]
    MissingAttribute,
    /// A legacy ADD or DELETE whose value does not match the attribute's type.
    #[error("Type mismatch for attribute to update")]
    LegacyTypeMismatch,
    /// A number result out of DynamoDB's range.
    #[error("{0}")]
    Number(NumberError),
}

impl From<NumberError> for UpdateError {
    fn from(error: NumberError) -> Self {
        // NB: AWS reports a result with too many digits as an overflow, as it does out-of-range results.
        UpdateError::Number(match error {
            NumberError::TooPrecise => NumberError::Overflow,
            other => other,
        })
    }
}

/// A parsed update (UpdateExpression or legacy AttributeUpdates).
#[derive(Clone, Debug)]
pub struct Update {
    actions: Vec<UpdateAction>,
    /// AttributeUpdates: ADD also appends lists, and type errors have the legacy text.
    legacy: bool,
    /// Top-level attributes a path looks inside.
    nested: Vec<String>,
}

/// What one action writes at its path.
enum Write {
    Put(AttributeValue),
    Remove,
}

impl Update {
    pub(super) fn new(actions: Vec<UpdateAction>, legacy: bool, nested: Vec<String>) -> Self {
        Self {
            actions,
            legacy,
            nested,
        }
    }

    /// The actions, in the order written.
    pub fn actions(&self) -> &[UpdateAction] {
        &self.actions
    }

    /// Top-level attributes the update looks inside (`a.b`, `a[0]`), on either side of an action.
    pub fn nested_attributes(&self) -> &[String] {
        &self.nested
    }

    /// AWS's errors for an update that touches a key attribute (`keys` are the table's key attribute names).
    pub fn check_key_attributes(&self, keys: &[&str]) -> Result<(), AwsError> {
        for key in keys {
            if self.actions.iter().any(|a| a.path().head() == *key) {
                return Err(AwsError::validation(format!(
                    "{INVALID_PARAMETERS}Cannot update attribute {key}. This attribute is part of the key"
                )));
            }
        }
        super::check_nested_keys(&self.nested, keys)
    }

    /// Applies the update to an item (an empty item when none existed), with AWS's runtime errors.
    pub fn apply(&self, item: &mut Item) -> Result<(), AwsError> {
        self.apply_with(item, false)
    }

    /// Applies the update to an item that did not exist before (it holds only the key). AWS then ignores a
    /// REMOVE whose parent is missing instead of rejecting the path.
    pub fn apply_to_new_item(&self, item: &mut Item) -> Result<(), AwsError> {
        self.apply_with(item, true)
    }

    /// The document paths this update sets or removes, for ReturnValues UPDATED_OLD / UPDATED_NEW.
    pub fn updated_paths(&self) -> Projection {
        Projection::from_paths(
            self.actions.iter().map(|a| a.path().clone()).collect(),
            Vec::new(),
        )
    }

    fn apply_with(&self, item: &mut Item, new_item: bool) -> Result<(), AwsError> {
        let writes = self
            .writes(item, new_item)
            .map_err(|e| AwsError::validation(e.to_string()))?;
        write(item, writes);
        Ok(())
    }

    /// Works out every write from the item as it is, in AWS's order (paths sorted, as AWS walks its tree), so
    /// that the first error is the one AWS reports.
    fn writes<'u>(&'u self, item: &Item, new_item: bool) -> Result<Vec<(&'u Path, Write)>, UpdateError> {
        let mut order: Vec<&UpdateAction> = self.actions.iter().collect();
        order.sort_by(|a, b| compare_paths(a.path(), b.path()));
        let mut writes = Vec::with_capacity(order.len());
        for action in order {
            let path = action.path();
            if !parent_accepts(item, path) {
                if new_item && matches!(action, UpdateAction::Remove(_)) {
                    continue;
                }
                return Err(UpdateError::InvalidPath);
            }
            let current = path.resolve(item);
            let write = match action {
                UpdateAction::Set(_, value) => Write::Put(set_value(value, item)?),
                UpdateAction::Remove(_) => Write::Remove,
                UpdateAction::Add(_, value) => match current {
                    None => Write::Put(value.clone()),
                    Some(current) => Write::Put(self.add(current, value)?),
                },
                UpdateAction::Delete(_, value) => match current {
                    None => continue,
                    Some(current) => match self.delete(current, value)? {
                        Some(rest) => Write::Put(rest),
                        None => Write::Remove,
                    },
                },
            };
            writes.push((path, write));
        }
        Ok(writes)
    }

    fn mismatch(&self) -> UpdateError {
        if self.legacy {
            UpdateError::LegacyTypeMismatch
        } else {
            UpdateError::OperandType
        }
    }

    /// ADD: number addition, set union, and (legacy only) list append.
    fn add(&self, current: &AttributeValue, value: &AttributeValue) -> Result<AttributeValue, UpdateError> {
        use AttributeValue as V;
        Ok(match (current, value) {
            (V::N(a), V::N(b)) => V::N(a.add(b)?),
            (V::Ss(a), V::Ss(b)) => V::Ss(union(a, b)),
            (V::Ns(a), V::Ns(b)) => V::Ns(union(a, b)),
            (V::Bs(a), V::Bs(b)) => V::Bs(union(a, b)),
            (V::L(a), V::L(b)) if self.legacy => V::L(a.iter().chain(b).cloned().collect()),
            _ => return Err(self.mismatch()),
        })
    }

    /// DELETE: set difference; `None` when nothing is left (the attribute goes).
    fn delete(
        &self,
        current: &AttributeValue,
        value: &AttributeValue,
    ) -> Result<Option<AttributeValue>, UpdateError> {
        use AttributeValue as V;
        let rest = match (current, value) {
            (V::Ss(a), V::Ss(b)) => difference(a, b).map(V::Ss),
            (V::Ns(a), V::Ns(b)) => difference(a, b).map(V::Ns),
            (V::Bs(a), V::Bs(b)) => difference(a, b).map(V::Bs),
            _ => return Err(self.mismatch()),
        };
        Ok(rest)
    }
}

fn union<T: PartialEq + Clone>(current: &[T], added: &[T]) -> Vec<T> {
    let mut out = current.to_vec();
    for value in added {
        if !current.contains(value) {
            out.push(value.clone());
        }
    }
    out
}

fn difference<T: PartialEq + Clone>(current: &[T], removed: &[T]) -> Option<Vec<T>> {
    let rest: Vec<T> = current.iter().filter(|v| !removed.contains(v)).cloned().collect();
    (!rest.is_empty()).then_some(rest)
}

/// AWS's tree order of paths: map keys as Java compares strings (UTF-16), list indexes numerically.
fn compare_paths(a: &Path, b: &Path) -> Ordering {
    for (x, y) in a.elements().iter().zip(b.elements()) {
        let ordering = match (x, y) {
            (PathElement::Attribute(x), PathElement::Attribute(y)) => x.encode_utf16().cmp(y.encode_utf16()),
            (PathElement::Index(x), PathElement::Index(y)) => x.cmp(y),
            (PathElement::Attribute(_), PathElement::Index(_)) => Ordering::Less,
            (PathElement::Index(_), PathElement::Attribute(_)) => Ordering::Greater,
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    a.elements().len().cmp(&b.elements().len())
}

/// Whether the item has the parent the path writes into: every element but the last must exist, and each must
/// be a map before a key or a list before an index. A top-level attribute always can be written.
fn parent_accepts(item: &Item, path: &Path) -> bool {
    let elements = path.elements();
    let Some((_, inner)) = elements.split_first() else {
        return false;
    };
    if inner.is_empty() {
        return true;
    }
    let Some(mut current) = item.get(path.head()) else {
        return false;
    };
    for (i, element) in inner.iter().enumerate() {
        let fits = matches!(
            (current, element),
            (AttributeValue::M(_), PathElement::Attribute(_)) | (AttributeValue::L(_), PathElement::Index(_))
        );
        if !fits {
            return false;
        }
        if i + 1 == inner.len() {
            return true;
        }
        match step(current, element) {
            Some(child) => current = child,
            None => return false,
        }
    }
    true
}

/// The value a SET writes, worked out from the item before the update.
fn set_value(value: &SetValue, item: &Item) -> Result<AttributeValue, UpdateError> {
    match value {
        SetValue::Operand(operand) => Ok(update_operand(operand, item)?
            .ok_or(UpdateError::MissingAttribute)?
            .clone()),
        SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
            let (a, b) = (update_operand(a, item)?, update_operand(b, item)?);
            let a = number_operand(a)?;
            let b = number_operand(b)?;
            let result = if matches!(value, SetValue::Plus(..)) {
                a.add(b)?
            } else {
                a.sub(b)?
            };
            Ok(AttributeValue::N(result))
        }
        SetValue::ListAppend(a, b) => {
            let (a, b) = (update_operand(a, item)?, update_operand(b, item)?);
            let a = list_operand(a)?;
            let b = list_operand(b)?;
            Ok(AttributeValue::L(a.iter().chain(b).cloned().collect()))
        }
    }
}

/// AWS checks operands in order: a missing one first, then its type.
fn number_operand(value: Option<&AttributeValue>) -> Result<&Number, UpdateError> {
    match value {
        None => Err(UpdateError::MissingAttribute),
        Some(AttributeValue::N(n)) => Ok(n),
        Some(_) => Err(UpdateError::OperandType),
    }
}

fn list_operand(value: Option<&AttributeValue>) -> Result<&[AttributeValue], UpdateError> {
    match value {
        None => Err(UpdateError::MissingAttribute),
        Some(AttributeValue::L(list)) => Ok(list),
        Some(_) => Err(UpdateError::OperandType),
    }
}

/// An operand's value, borrowed from the item or the expression; `None` for a missing attribute.
fn update_operand<'a>(
    operand: &'a UpdateOperand,
    item: &'a Item,
) -> Result<Option<&'a AttributeValue>, UpdateError> {
    match operand {
        UpdateOperand::Path(path) => Ok(path.resolve(item)),
        UpdateOperand::Value(value) => Ok(Some(value)),
        UpdateOperand::IfNotExists(path, fallback) => {
            // NB: AWS evaluates the fallback even when the path exists, and a missing fallback is an error.
            let current = path.resolve(item);
            let fallback = update_operand(fallback, item)?.ok_or(UpdateError::MissingAttribute)?;
            Ok(Some(current.unwrap_or(fallback)))
        }
    }
}

/// Writes the changes: replacements first, then new list elements past the end (in index order), then removals
/// (from the highest index down), so list positions keep their meaning from before the update.
fn write(item: &mut Item, writes: Vec<(&Path, Write)>) {
    let mut appends = Vec::new();
    let mut removals = Vec::new();
    for (path, write) in writes {
        match write {
            Write::Remove => removals.push(path),
            Write::Put(value) => {
                let Some((last, parent)) = path.elements().split_last() else {
                    continue;
                };
                if parent.is_empty() {
                    item.insert(path.head().to_owned(), value);
                    continue;
                }
                match (container(item, parent), last) {
                    (Some(AttributeValue::M(map)), PathElement::Attribute(key)) => {
                        map.insert(key.clone(), value);
                    }
                    (Some(AttributeValue::L(list)), PathElement::Index(index)) => {
                        match list.get_mut(*index as usize) {
                            Some(slot) => *slot = value,
                            None => appends.push((path, value)),
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    // NB: writes are in path order, so appends to one list come in index order.
    for (path, value) in appends {
        let Some((_, parent)) = path.elements().split_last() else {
            continue;
        };
        if let Some(AttributeValue::L(list)) = container(item, parent) {
            list.push(value);
        }
    }
    for path in removals.into_iter().rev() {
        let Some((last, parent)) = path.elements().split_last() else {
            continue;
        };
        if parent.is_empty() {
            item.remove(path.head());
            continue;
        }
        match (container(item, parent), last) {
            (Some(AttributeValue::M(map)), PathElement::Attribute(key)) => {
                map.remove(key);
            }
            (Some(AttributeValue::L(list)), PathElement::Index(index)) if (*index as usize) < list.len() => {
                list.remove(*index as usize);
            }
            _ => {}
        }
    }
}

/// The value at `elements` (a path's first elements), mutably.
fn container<'i>(item: &'i mut Item, elements: &[PathElement]) -> Option<&'i mut AttributeValue> {
    let (first, rest) = elements.split_first()?;
    let PathElement::Attribute(head) = first else {
        return None;
    };
    let mut current = item.get_mut(head)?;
    for element in rest {
        current = match (current, element) {
            (AttributeValue::M(map), PathElement::Attribute(key)) => map.get_mut(key)?,
            (AttributeValue::L(list), PathElement::Index(index)) => list.get_mut(*index as usize)?,
            _ => return None,
        };
    }
    Some(current)
}
