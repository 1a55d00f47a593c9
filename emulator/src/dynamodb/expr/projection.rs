//! Projections (ProjectionExpression, legacy AttributesToGet, and the paths an update touched): copying only
//! some document paths of an item.
//!
//! As AWS does, a projected list keeps only the selected elements, in index order, and a map or list with
//! nothing selected left in it is left out altogether.

use std::collections::HashMap;

use super::ast::{Path, PathElement};
use crate::{
    dynamodb::value::{AttributeValue, Item},
    edge::AwsError,
};

/// A parsed projection (ProjectionExpression or legacy AttributesToGet).
#[derive(Clone, Debug)]
pub struct Projection {
    paths: Vec<Path>,
    tree: Node,
    /// Top-level attributes a path looks inside.
    nested: Vec<String>,
}

/// The projected paths as a tree: each child is a path element, with `None` where the whole value is taken.
#[derive(Clone, Debug, Default)]
struct Node {
    children: Vec<(PathElement, Option<Node>)>,
}

impl Node {
    fn insert(&mut self, elements: &[PathElement]) {
        let Some((first, rest)) = elements.split_first() else {
            return;
        };
        match self.children.iter_mut().find(|(e, _)| e == first) {
            // NB: a path already taken whole includes anything below it.
            Some((_, None)) => {}
            Some((_, slot @ Some(_))) if rest.is_empty() => *slot = None,
            Some((_, Some(child))) => child.insert(rest),
            None => {
                let child = (!rest.is_empty()).then(|| {
                    let mut child = Node::default();
                    child.insert(rest);
                    child
                });
                self.children.push((first.clone(), child));
            }
        }
    }

    /// Puts list indexes in ascending order, as projected lists keep them.
    fn sort(&mut self) {
        self.children.sort_by_key(|(e, _)| match e {
            PathElement::Index(i) => *i,
            PathElement::Attribute(_) => 0,
        });
        for (_, child) in &mut self.children {
            if let Some(child) = child {
                child.sort();
            }
        }
    }
}

impl Projection {
    /// A projection of these paths.
    pub(super) fn from_paths(paths: Vec<Path>, nested: Vec<String>) -> Self {
        let mut tree = Node::default();
        for path in &paths {
            tree.insert(path.elements());
        }
        tree.sort();
        Self { paths, tree, nested }
    }

    /// The projected paths, in the order written.
    pub fn paths(&self) -> &[Path] {
        &self.paths
    }

    /// Top-level attributes the projection looks inside (`a.b`, `a[0]`).
    pub fn nested_attributes(&self) -> &[String] {
        &self.nested
    }

    /// AWS's error for a projection that looks inside a key attribute (`keys` are the key attribute names).
    pub fn check_key_attributes(&self, keys: &[&str]) -> Result<(), AwsError> {
        super::check_nested_keys(&self.nested, keys)
    }

    /// The item with only the projected paths.
    pub fn apply(&self, item: &Item) -> Item {
        let mut out = HashMap::with_capacity(self.tree.children.len());
        for (element, child) in &self.tree.children {
            let PathElement::Attribute(name) = element else {
                continue;
            };
            if let Some(value) = item.get(name).and_then(|v| project(v, child.as_ref())) {
                out.insert(name.clone(), value);
            }
        }
        out
    }
}

/// The part of `value` the node selects (all of it without a node); `None` when nothing is selected.
fn project(value: &AttributeValue, node: Option<&Node>) -> Option<AttributeValue> {
    let Some(node) = node else {
        return Some(value.clone());
    };
    match value {
        AttributeValue::M(map) => {
            let mut out = HashMap::new();
            for (element, child) in &node.children {
                if let PathElement::Attribute(key) = element
                    && let Some(selected) = map.get(key).and_then(|v| project(v, child.as_ref()))
                {
                    out.insert(key.clone(), selected);
                }
            }
            (!out.is_empty()).then_some(AttributeValue::M(out))
        }
        AttributeValue::L(list) => {
            let mut out = Vec::new();
            for (element, child) in &node.children {
                if let PathElement::Index(index) = element
                    && let Some(selected) = list.get(*index as usize).and_then(|v| project(v, child.as_ref()))
                {
                    out.push(selected);
                }
            }
            (!out.is_empty()).then_some(AttributeValue::L(out))
        }
        _ => None,
    }
}
