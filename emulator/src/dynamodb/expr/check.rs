//! The checks AWS makes on a parsed expression, in AWS's order, and the resolution of its placeholders.
//!
//! After parsing (see [`super::parser`]) AWS checks the tree in passes and reports the first problem of the
//! first pass that finds one:
//!
//! 1. a walk in text order: function names and where functions may appear, reserved words, list index range,
//!    repeated update sections;
//! 2. validation, children before their operator (updates and projections: paths from the last back to the
//!    first, then values, also from the last): path depth, placeholders, operand counts and types, distinct
//!    operands, BETWEEN bounds, IN size, overlapping paths, and the 300-operator limit.
//!
//! The result is the tree of [`super::ast`] with placeholders substituted.

use super::{
    Substitutions,
    ast::{Comparator, CondExpr, Operand, Path, PathElement, SetValue, UpdateAction, UpdateOperand},
    lexer::Tok,
    parser::{
        ExprError, MAX_OPERATORS, Parser, RAction, RCall, RCond, ROp, RPath, RSection, RSet, RStep, Section,
    },
    reserved::is_reserved,
};
use crate::dynamodb::value::{AttributeType, AttributeValue};

/// Most elements a document path may have.
const MAX_PATH_DEPTH: usize = 32;
/// Most values the list of an `IN` may hold.
const MAX_IN_OPERANDS: usize = 100;
/// How AWS describes the type of a document path where a value was needed (its set of possible types).
const ANY_TYPE: &str = "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}";

/// A validated condition and the top-level attributes it looks inside.
pub(super) struct ParsedCondition {
    pub expr: CondExpr,
    pub nested: Vec<String>,
}

/// A validated update (actions in text order) and the top-level attributes it looks inside.
pub(super) struct ParsedUpdate {
    pub actions: Vec<UpdateAction>,
    pub nested: Vec<String>,
}

/// A validated projection (paths in text order) and the top-level attributes it looks inside.
pub(super) struct ParsedProjection {
    pub paths: Vec<Path>,
    pub nested: Vec<String>,
}

/// Parses and validates a condition-like expression.
pub(super) fn condition(text: &str, subs: &mut Substitutions<'_>) -> Result<ParsedCondition, ExprError> {
    let mut parser = Parser::new(text);
    let raw = parser.run(|p| p.parse_or())?;
    let mut checker = Checker::new(&parser, subs);
    checker.walk_condition(&raw, 0)?;
    let expr = checker.condition(&raw)?;
    Ok(ParsedCondition {
        expr,
        nested: checker.nested,
    })
}

/// Parses and validates an update expression.
pub(super) fn update(text: &str, subs: &mut Substitutions<'_>) -> Result<ParsedUpdate, ExprError> {
    let mut parser = Parser::new(text);
    let sections = parser.run(|p| p.parse_update())?;
    let mut checker = Checker::new(&parser, subs);
    checker.walk_update(&sections)?;
    let actions = checker.update(&sections)?;
    Ok(ParsedUpdate {
        actions,
        nested: checker.nested,
    })
}

/// Parses and validates a projection expression.
pub(super) fn projection(text: &str, subs: &mut Substitutions<'_>) -> Result<ParsedProjection, ExprError> {
    let mut parser = Parser::new(text);
    let raw = parser.run(|p| p.parse_projection())?;
    let mut checker = Checker::new(&parser, subs);
    for path in &raw {
        checker.walk_path(path)?;
    }
    let paths = checker.projection(&raw)?;
    Ok(ParsedProjection {
        paths,
        nested: checker.nested,
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

/// The functions of the expression languages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Function {
    AttributeExists,
    AttributeNotExists,
    AttributeType,
    BeginsWith,
    Contains,
    Size,
    IfNotExists,
    ListAppend,
}

impl Function {
    /// Function names are case-sensitive.
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "attribute_exists" => Function::AttributeExists,
            "attribute_not_exists" => Function::AttributeNotExists,
            "attribute_type" => Function::AttributeType,
            "begins_with" => Function::BeginsWith,
            "contains" => Function::Contains,
            "size" => Function::Size,
            "if_not_exists" => Function::IfNotExists,
            "list_append" => Function::ListAppend,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Function::AttributeExists => "attribute_exists",
            Function::AttributeNotExists => "attribute_not_exists",
            Function::AttributeType => "attribute_type",
            Function::BeginsWith => "begins_with",
            Function::Contains => "contains",
            Function::Size => "size",
            Function::IfNotExists => "if_not_exists",
            Function::ListAppend => "list_append",
        }
    }

    fn arity(self) -> usize {
        match self {
            Function::AttributeExists | Function::AttributeNotExists | Function::Size => 1,
            _ => 2,
        }
    }

    /// Whether the function belongs to updates (SET values) rather than conditions.
    fn in_updates(self) -> bool {
        matches!(self, Function::IfNotExists | Function::ListAppend)
    }
}

/// Where a function call is being checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Condition,
    Update,
}

const ORDERED: [AttributeType; 3] = [AttributeType::S, AttributeType::N, AttributeType::B];
const ITERABLE: [AttributeType; 7] = [
    AttributeType::S,
    AttributeType::B,
    AttributeType::Ss,
    AttributeType::Ns,
    AttributeType::Bs,
    AttributeType::L,
    AttributeType::M,
];

/// The long type names AWS uses in ADD and DELETE operand errors.
fn long_type_name(t: AttributeType) -> &'static str {
    match t {
        AttributeType::S => "STRING",
        AttributeType::N => "NUMBER",
        AttributeType::B => "BINARY",
        AttributeType::Bool => "BOOLEAN",
        AttributeType::Null => "NULL",
        AttributeType::L => "LIST",
        AttributeType::M => "MAP",
        AttributeType::Ss => "STRING_SET",
        AttributeType::Ns => "NUMBER_SET",
        AttributeType::Bs => "BINARY_SET",
    }
}

/// A BETWEEN bound as AWS prints it in errors (Java's rendering of the value).
fn bound_text(value: &AttributeValue) -> String {
    match value {
        AttributeValue::S(s) => format!("AttributeValue: {{S:{s}}}"),
        AttributeValue::N(n) => format!("AttributeValue: {{N:{n}}}"),
        AttributeValue::B(b) => {
            format!(
                "AttributeValue: {{B:java.nio.HeapByteBuffer[pos=0 lim={} cap={}]}}",
                b.len(),
                b.len()
            )
        }
        other => format!("AttributeValue: {{{}}}", other.attribute_type()),
    }
}

fn operand_type(operand: &Operand) -> Option<AttributeType> {
    match operand {
        Operand::Path(_) => None,
        Operand::Value(value) => Some(value.attribute_type()),
        Operand::Size(_) => Some(AttributeType::N),
    }
}

fn update_operand_type(operand: &UpdateOperand) -> Option<AttributeType> {
    match operand {
        UpdateOperand::Value(value) => Some(value.attribute_type()),
        UpdateOperand::Path(_) | UpdateOperand::IfNotExists(..) => None,
    }
}

/// AWS's operand type check: the first operand whose type the operator cannot take.
fn check_types(
    operator: &'static str,
    types: impl IntoIterator<Item = Option<AttributeType>>,
    allowed: &[AttributeType],
) -> Result<(), ExprError> {
    match types.into_iter().flatten().find(|t| !allowed.contains(t)) {
        Some(t) => Err(ExprError::OperandType(operator, t.as_str())),
        None => Ok(()),
    }
}

/// AWS's distinctness check: a path as first operand may not appear again among the others.
fn check_distinct<'o>(
    operator: &'static str,
    first: &Operand,
    rest: impl IntoIterator<Item = &'o Operand>,
) -> Result<(), ExprError> {
    if let Operand::Path(path) = first
        && rest
            .into_iter()
            .any(|o| matches!(o, Operand::Path(other) if other == path))
    {
        return Err(ExprError::NotDistinct(operator, path.clone()));
    }
    Ok(())
}

/// The checks after parsing, with the placeholders they resolve.
struct Checker<'p, 's, 'a, 'r> {
    parser: &'p Parser<'s>,
    subs: &'r mut Substitutions<'a>,
    operators: usize,
    /// Top-level attributes some path looks inside (for AWS's key attribute checks).
    nested: Vec<String>,
}

impl<'p, 's, 'a, 'r> Checker<'p, 's, 'a, 'r> {
    fn new(parser: &'p Parser<'s>, subs: &'r mut Substitutions<'a>) -> Self {
        Self {
            parser,
            subs,
            operators: 0,
            nested: Vec::new(),
        }
    }

    fn text(&self, token: usize) -> &'s str {
        self.parser.text(token)
    }

    // --- the walk in text order -------------------------------------------------------------------------------

    /// `nesting` counts the comparisons, function calls and arithmetic the walk is inside.
    fn walk_condition(&self, condition: &RCond, nesting: usize) -> Result<(), ExprError> {
        match condition {
            RCond::Cmp(_, a, b) => {
                self.walk_operand(a, Context::Condition, nesting + 1)?;
                self.walk_operand(b, Context::Condition, nesting + 1)
            }
            RCond::Between(a, low, high) => {
                for operand in [a, low, high] {
                    self.walk_operand(operand, Context::Condition, nesting + 1)?;
                }
                Ok(())
            }
            RCond::In(a, list) => {
                for operand in std::iter::once(a).chain(list) {
                    self.walk_operand(operand, Context::Condition, nesting + 1)?;
                }
                Ok(())
            }
            RCond::Call(call) => self.walk_call(call, Context::Condition, nesting),
            RCond::Not(_) | RCond::Group(_) => {
                // NB: a loop, so long NOT chains need no stack.
                let mut inner = condition;
                while let RCond::Not(next) | RCond::Group(next) = inner {
                    inner = next;
                }
                self.walk_condition(inner, nesting)
            }
            RCond::And(all) | RCond::Or(all) => all.iter().try_for_each(|c| self.walk_condition(c, nesting)),
        }
    }

    fn walk_operand(&self, operand: &ROp, context: Context, nesting: usize) -> Result<(), ExprError> {
        match operand {
            ROp::Path(path) => self.walk_path(path),
            ROp::Value(_) => Ok(()),
            ROp::Group(inner) => self.walk_operand(inner, context, nesting),
            ROp::Call(call) => self.walk_call(call, context, nesting),
        }
    }

    /// A function's name and where it is, checked before its arguments.
    fn walk_call(&self, call: &RCall, context: Context, nesting: usize) -> Result<(), ExprError> {
        let name = self.text(call.name);
        let function =
            Function::from_name(name).ok_or_else(|| ExprError::InvalidFunction(name.to_owned()))?;
        match context {
            Context::Update => {
                if !function.in_updates() {
                    return Err(ExprError::UpdateFunction(name.to_owned()));
                }
                // NB: only if_not_exists may sit inside another function or `+` / `-`.
                if nesting > 0 && function != Function::IfNotExists {
                    return Err(ExprError::FunctionContext(name.to_owned()));
                }
            }
            Context::Condition => {
                if function.in_updates() {
                    return Err(ExprError::ConditionFunction(name.to_owned()));
                }
                // NB: size() is the only function that gives an operand rather than a condition.
                let misplaced = if nesting == 0 {
                    function == Function::Size
                } else {
                    function != Function::Size
                };
                if misplaced {
                    return Err(ExprError::FunctionContext(name.to_owned()));
                }
            }
        }
        call.args
            .iter()
            .try_for_each(|arg| self.walk_operand(arg, context, nesting + 1))
    }

    /// Reserved words and list index range, in text order.
    fn walk_path(&self, path: &RPath) -> Result<(), ExprError> {
        self.check_reserved(path.head)?;
        for step in &path.steps {
            match step {
                RStep::Key(token) => self.check_reserved(*token)?,
                RStep::Index(token) => {
                    self.index(*token)?;
                }
                RStep::Value(_) => {}
            }
        }
        Ok(())
    }

    fn check_reserved(&self, token: usize) -> Result<(), ExprError> {
        let name = self.text(token);
        if self.parser.kind_at(token) == Tok::Id && is_reserved(name) {
            return Err(ExprError::ReservedKeyword(name.to_owned()));
        }
        Ok(())
    }

    /// A list index; AWS's indexes are Java ints.
    fn index(&self, token: usize) -> Result<u32, ExprError> {
        let digits = self.text(token);
        digits
            .parse::<u32>()
            .ok()
            .filter(|&i| i <= i32::MAX as u32)
            .ok_or_else(|| ExprError::ListIndex(digits.to_owned()))
    }

    fn walk_update(&self, sections: &[RSection]) -> Result<(), ExprError> {
        let mut seen: Vec<Section> = Vec::with_capacity(4);
        for section in sections {
            for action in &section.actions {
                match action {
                    RAction::Set(path, value) => {
                        self.walk_path(path)?;
                        self.walk_set_value(value)?;
                    }
                    RAction::Remove(path) | RAction::Value(path, _) => self.walk_path(path)?,
                }
            }
            // NB: AWS notices a repeated section when it leaves it, after walking its actions.
            if seen.contains(&section.kind) {
                return Err(ExprError::DuplicateSection(section.kind.name()));
            }
            seen.push(section.kind);
        }
        Ok(())
    }

    fn walk_set_value(&self, value: &RSet) -> Result<(), ExprError> {
        match value {
            RSet::Op(operand) => self.walk_operand(operand, Context::Update, 0),
            RSet::Arith(_, a, b) => {
                self.walk_operand(a, Context::Update, 1)?;
                self.walk_operand(b, Context::Update, 1)
            }
            RSet::Group(inner) => self.walk_set_value(inner),
        }
    }

    // --- validation, children first ---------------------------------------------------------------------------

    fn count_operator(&mut self) -> Result<(), ExprError> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(ExprError::TooManyOperators(self.operators));
        }
        Ok(())
    }

    /// A path with its placeholders substituted.
    fn path(&mut self, path: &RPath) -> Result<Path, ExprError> {
        let length = 1 + path.steps.len();
        if length > MAX_PATH_DEPTH {
            return Err(ExprError::PathTooDeep(length));
        }
        let mut elements = Vec::with_capacity(length);
        elements.push(PathElement::Attribute(self.key(path.head)?));
        for step in &path.steps {
            elements.push(match step {
                RStep::Key(token) => PathElement::Attribute(self.key(*token)?),
                RStep::Index(token) => PathElement::Index(self.index(*token)?),
                RStep::Value(token) => return Err(ExprError::ValueInPath(self.text(*token).to_owned())),
            });
        }
        if length > 1 {
            let head = match elements.first() {
                Some(PathElement::Attribute(head)) => head,
                _ => "",
            };
            if !self.nested.iter().any(|n| n == head) {
                self.nested.push(head.to_owned());
            }
        }
        // NB: the first element is an attribute by construction.
        Path::from_elements(elements).ok_or(ExprError::PathTooDeep(0))
    }

    /// A map key: a name as written or the attribute name a `#name` stands for.
    fn key(&mut self, token: usize) -> Result<String, ExprError> {
        let text = self.text(token);
        if self.parser.kind_at(token) != Tok::NameSub {
            return Ok(text.to_owned());
        }
        match self.subs.name(text) {
            Some(name) => Ok(name.to_owned()),
            None => Err(ExprError::UndefinedName(text.to_owned())),
        }
    }

    fn value(&mut self, token: usize) -> Result<AttributeValue, ExprError> {
        let text = self.text(token);
        match self.subs.value(text) {
            Some(value) => Ok(value.clone()),
            None => Err(ExprError::UndefinedValue(text.to_owned())),
        }
    }

    /// The whole tree of a condition.
    ///
    /// NB: the recursive path (groups, NOT, AND, OR) stays in this small function and NOT chains are followed
    /// in a loop, so deep expressions need little stack; each kind of leaf is checked in its own function.
    fn condition(&mut self, condition: &RCond) -> Result<CondExpr, ExprError> {
        let mut nots = 0;
        let mut inner = condition;
        let mut out = loop {
            match inner {
                RCond::Not(next) => {
                    nots += 1;
                    inner = next;
                }
                RCond::Group(next) => inner = next,
                RCond::Cmp(comparator, a, b) => break self.comparison(*comparator, a, b)?,
                RCond::Between(a, low, high) => break self.between(a, low, high)?,
                RCond::In(a, list) => break self.in_list(a, list)?,
                RCond::Call(call) => break self.condition_call(call)?,
                RCond::And(all) => break CondExpr::And(self.junction(all)?),
                RCond::Or(all) => break CondExpr::Or(self.junction(all)?),
            }
        };
        for _ in 0..nots {
            self.count_operator()?;
            out = CondExpr::Not(Box::new(out));
        }
        Ok(out)
    }

    #[inline(never)]
    fn comparison(&mut self, comparator: Comparator, a: &ROp, b: &ROp) -> Result<CondExpr, ExprError> {
        let a = self.operand(a)?;
        let b = self.operand(b)?;
        let symbol = comparator.symbol();
        if !matches!(comparator, Comparator::Eq | Comparator::Ne) {
            check_types(symbol, [operand_type(&a), operand_type(&b)], &ORDERED)?;
        }
        check_distinct(symbol, &a, [&b])?;
        self.count_operator()?;
        Ok(CondExpr::Compare(comparator, a, b))
    }

    #[inline(never)]
    fn between(&mut self, a: &ROp, low: &ROp, high: &ROp) -> Result<CondExpr, ExprError> {
        let a = self.operand(a)?;
        let low = self.operand(low)?;
        let high = self.operand(high)?;
        check_types("BETWEEN", [&a, &low, &high].map(operand_type), &ORDERED)?;
        check_distinct("BETWEEN", &a, [&low, &high])?;
        if let (Operand::Value(l), Operand::Value(h)) = (&low, &high) {
            if l.attribute_type() != h.attribute_type() {
                return Err(ExprError::BetweenTypes(bound_text(l), bound_text(h)));
            }
            if super::eval::order(l, h) == Some(std::cmp::Ordering::Greater) {
                return Err(ExprError::BetweenOrder(bound_text(l), bound_text(h)));
            }
        }
        self.count_operator()?;
        Ok(CondExpr::Between(a, low, high))
    }

    #[inline(never)]
    fn in_list(&mut self, a: &ROp, list: &[ROp]) -> Result<CondExpr, ExprError> {
        let a = self.operand(a)?;
        let list = list
            .iter()
            .map(|o| self.operand(o))
            .collect::<Result<Vec<_>, _>>()?;
        check_distinct("IN", &a, &list)?;
        if list.len() > MAX_IN_OPERANDS {
            return Err(ExprError::TooManyInOperands(list.len()));
        }
        self.count_operator()?;
        Ok(CondExpr::In(a, list))
    }

    /// The operands of a chain of ANDs (or ORs), counting each operator as AWS's binary tree does.
    fn junction(&mut self, all: &[RCond]) -> Result<Vec<CondExpr>, ExprError> {
        let mut out = Vec::with_capacity(all.len());
        for (i, condition) in all.iter().enumerate() {
            out.push(self.condition(condition)?);
            if i > 0 {
                self.count_operator()?;
            }
        }
        Ok(out)
    }

    #[inline(never)]
    fn condition_call(&mut self, call: &RCall) -> Result<CondExpr, ExprError> {
        let function = self.function(call)?;
        let name = function.name();
        let mut args = call
            .args
            .iter()
            .map(|a| self.operand(a))
            .collect::<Result<Vec<_>, _>>()?;
        if args.len() != function.arity() {
            return Err(ExprError::OperandCount(name, args.len()));
        }
        if function == Function::BeginsWith {
            check_types(
                name,
                args.iter().map(operand_type),
                &[AttributeType::S, AttributeType::B],
            )?;
        }
        if let Some((first, rest)) = args.split_first() {
            check_distinct(name, first, rest)?;
        }
        let second = if args.len() == 2 { args.pop() } else { None };
        let first = args.pop();
        let condition = match (function, first, second) {
            (Function::AttributeExists, Some(Operand::Path(path)), None) => CondExpr::AttributeExists(path),
            (Function::AttributeNotExists, Some(Operand::Path(path)), None) => {
                CondExpr::AttributeNotExists(path)
            }
            (Function::AttributeExists | Function::AttributeNotExists, _, _) => {
                return Err(ExprError::RequiresPath(name));
            }
            (Function::AttributeType, Some(first), Some(second)) => {
                CondExpr::AttributeType(first, attribute_type_operand(&second)?)
            }
            (Function::BeginsWith, Some(first), Some(second)) => CondExpr::BeginsWith(first, second),
            (Function::Contains, Some(first), Some(second)) => CondExpr::Contains(first, second),
            // NB: the walk allows no other function as a condition.
            _ => return Err(ExprError::FunctionContext(name.to_owned())),
        };
        self.count_operator()?;
        Ok(condition)
    }

    fn function(&self, call: &RCall) -> Result<Function, ExprError> {
        let name = self.text(call.name);
        Function::from_name(name).ok_or_else(|| ExprError::InvalidFunction(name.to_owned()))
    }

    /// A condition operand: a path, a value or `size()`.
    fn operand(&mut self, operand: &ROp) -> Result<Operand, ExprError> {
        match operand {
            ROp::Path(path) => self.path(path).map(Operand::Path),
            ROp::Value(token) => self.value(*token).map(Operand::Value),
            ROp::Group(inner) => self.operand(inner),
            ROp::Call(call) => {
                let function = self.function(call)?;
                if function != Function::Size {
                    return Err(ExprError::FunctionContext(function.name().to_owned()));
                }
                let mut args = call
                    .args
                    .iter()
                    .map(|a| self.operand(a))
                    .collect::<Result<Vec<_>, _>>()?;
                if args.len() != 1 {
                    return Err(ExprError::OperandCount("size", args.len()));
                }
                check_types("size", args.iter().map(operand_type), &ITERABLE)?;
                self.count_operator()?;
                let inner = args.pop().ok_or(ExprError::OperandCount("size", 0))?;
                Ok(Operand::Size(Box::new(inner)))
            }
        }
    }

    /// The actions of an update: paths (and their overlaps) from the last action back to the first, then the
    /// values, also from last to first, as AWS checks them.
    fn update(&mut self, sections: &[RSection]) -> Result<Vec<UpdateAction>, ExprError> {
        let actions: Vec<&RAction> = sections.iter().flat_map(|s| s.actions.iter()).collect();
        let kinds: Vec<Section> = sections
            .iter()
            .flat_map(|s| s.actions.iter().map(move |_| s.kind))
            .collect();
        let mut paths: Vec<Option<Path>> = vec![None; actions.len()];
        let mut tree = PathTree::default();
        for i in (0..actions.len()).rev() {
            let raw = match actions[i] {
                RAction::Set(path, _) | RAction::Remove(path) | RAction::Value(path, _) => path,
            };
            let path = self.path(raw)?;
            tree.insert(&path)?;
            paths[i] = Some(path);
        }
        let mut out: Vec<Option<UpdateAction>> = vec![None; actions.len()];
        for i in (0..actions.len()).rev() {
            let Some(path) = paths[i].take() else { continue };
            out[i] = Some(match (actions[i], kinds[i]) {
                (RAction::Set(_, value), _) => UpdateAction::Set(path, self.set_value(value)?),
                (RAction::Remove(_), _) => UpdateAction::Remove(path),
                (RAction::Value(_, token), kind) => {
                    let value = self.value(*token)?;
                    let t = value.attribute_type();
                    let sets = [AttributeType::Ss, AttributeType::Ns, AttributeType::Bs];
                    if kind == Section::Add {
                        if t != AttributeType::N && !sets.contains(&t) {
                            return Err(ExprError::ActionOperandType("ADD", long_type_name(t)));
                        }
                        UpdateAction::Add(path, value)
                    } else {
                        if !sets.contains(&t) {
                            return Err(ExprError::ActionOperandType("DELETE", long_type_name(t)));
                        }
                        UpdateAction::Delete(path, value)
                    }
                }
            });
        }
        Ok(out.into_iter().flatten().collect())
    }

    fn set_value(&mut self, value: &RSet) -> Result<SetValue, ExprError> {
        match value {
            RSet::Op(operand) => match unwrap_groups(operand) {
                ROp::Call(call) if self.function(call)? == Function::ListAppend => {
                    let mut args = call
                        .args
                        .iter()
                        .map(|a| self.update_operand(a))
                        .collect::<Result<Vec<_>, _>>()?;
                    if args.len() != 2 {
                        return Err(ExprError::OperandCount("list_append", args.len()));
                    }
                    check_types(
                        "list_append",
                        args.iter().map(update_operand_type),
                        &[AttributeType::L],
                    )?;
                    self.count_operator()?;
                    let second = args.pop();
                    match (args.pop(), second) {
                        (Some(first), Some(second)) => Ok(SetValue::ListAppend(first, second)),
                        _ => Err(ExprError::OperandCount("list_append", 0)),
                    }
                }
                _ => self.update_operand(operand).map(SetValue::Operand),
            },
            RSet::Arith(plus, a, b) => {
                let a = self.update_operand(a)?;
                let b = self.update_operand(b)?;
                let symbol = if *plus { "+" } else { "-" };
                check_types(
                    symbol,
                    [update_operand_type(&a), update_operand_type(&b)],
                    &[AttributeType::N],
                )?;
                self.count_operator()?;
                Ok(if *plus {
                    SetValue::Plus(a, b)
                } else {
                    SetValue::Minus(a, b)
                })
            }
            RSet::Group(inner) => self.set_value(inner),
        }
    }

    /// An operand of a SET value: a path, a value or `if_not_exists(path, operand)`.
    fn update_operand(&mut self, operand: &ROp) -> Result<UpdateOperand, ExprError> {
        match operand {
            ROp::Path(path) => self.path(path).map(UpdateOperand::Path),
            ROp::Value(token) => self.value(*token).map(UpdateOperand::Value),
            ROp::Group(inner) => self.update_operand(inner),
            ROp::Call(call) => {
                let function = self.function(call)?;
                if function != Function::IfNotExists {
                    return Err(ExprError::FunctionContext(function.name().to_owned()));
                }
                let mut args = call
                    .args
                    .iter()
                    .map(|a| self.update_operand(a))
                    .collect::<Result<Vec<_>, _>>()?;
                if args.len() != 2 {
                    return Err(ExprError::OperandCount("if_not_exists", args.len()));
                }
                let second = args.pop();
                let first = args.pop();
                if let (Some(UpdateOperand::Path(a)), Some(UpdateOperand::Path(b))) = (&first, &second)
                    && a == b
                {
                    return Err(ExprError::NotDistinct("if_not_exists", a.clone()));
                }
                let operand = match (first, second) {
                    (Some(UpdateOperand::Path(path)), Some(second)) => {
                        UpdateOperand::IfNotExists(path, Box::new(second))
                    }
                    _ => return Err(ExprError::RequiresPath("if_not_exists")),
                };
                self.count_operator()?;
                Ok(operand)
            }
        }
    }

    /// The paths of a projection, checked for overlaps from the last back to the first.
    fn projection(&mut self, raw: &[RPath]) -> Result<Vec<Path>, ExprError> {
        let mut paths: Vec<Option<Path>> = vec![None; raw.len()];
        let mut tree = PathTree::default();
        for i in (0..raw.len()).rev() {
            let path = self.path(&raw[i])?;
            tree.insert(&path)?;
            paths[i] = Some(path);
        }
        Ok(paths.into_iter().flatten().collect())
    }
}

fn unwrap_groups(mut operand: &ROp) -> &ROp {
    while let ROp::Group(inner) = operand {
        operand = inner;
    }
    operand
}

/// The second operand of `attribute_type`: a `:value` naming one of the ten types.
fn attribute_type_operand(operand: &Operand) -> Result<AttributeType, ExprError> {
    match operand {
        Operand::Value(AttributeValue::S(name)) => {
            AttributeType::parse(name).ok_or_else(|| ExprError::AttributeTypeName(name.clone()))
        }
        Operand::Value(other) => Err(ExprError::OperandType(
            "attribute_type",
            other.attribute_type().as_str(),
        )),
        Operand::Size(_) => Err(ExprError::OperandType("attribute_type", "N")),
        Operand::Path(_) => Err(ExprError::OperandType("attribute_type", ANY_TYPE)),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Overlapping paths

/// The paths of an update or projection as a tree, built the way AWS builds it so that its overlap and conflict
/// errors name the same two paths.
#[derive(Default)]
struct PathTree {
    root: TreeNode,
}

#[derive(Default)]
struct TreeNode {
    /// Children in insertion order; `None` where a path ends.
    children: Vec<(PathElement, Option<TreeNode>)>,
}

impl PathTree {
    fn insert(&mut self, path: &Path) -> Result<(), ExprError> {
        insert_at(&mut self.root, path, 0)
    }
}

fn insert_at(node: &mut TreeNode, path: &Path, depth: usize) -> Result<(), ExprError> {
    let elements = path.elements();
    let Some(element) = elements.get(depth) else {
        return Ok(());
    };
    let Some(position) = node.children.iter().position(|(e, _)| e == element) else {
        if let Some((first, _)) = node.children.first()
            && matches!(first, PathElement::Index(_)) != matches!(element, PathElement::Index(_))
        {
            return Err(ExprError::Conflict(
                path.clone(),
                leaf_path(elements, depth, node),
            ));
        }
        node.children
            .push((element.clone(), chain(&elements[depth + 1..])));
        return Ok(());
    };
    let more = depth + 1 < elements.len();
    if more && let Some(child) = node.children[position].1.as_mut() {
        return insert_at(child, path, depth + 1);
    }
    // The overlapping path is the one already in the tree under this element.
    let mut other: Vec<PathElement> = elements[..=depth].to_vec();
    if let Some(child) = node.children[position].1.as_ref() {
        other.extend(leaf_elements(child));
    }
    let other = Path::from_elements(other).unwrap_or_else(|| Path::attribute(""));
    Err(ExprError::Overlap(path.clone(), other))
}

/// A node chain for the rest of a path, `None` when nothing is left.
fn chain(rest: &[PathElement]) -> Option<TreeNode> {
    let (first, tail) = rest.split_first()?;
    Some(TreeNode {
        children: vec![(first.clone(), chain(tail))],
    })
}

/// The path AWS names as "path two": the new path's first `depth` elements, then the tree followed down its
/// first child (in Java hash map order) to a leaf.
fn leaf_path(elements: &[PathElement], depth: usize, node: &TreeNode) -> Path {
    let mut out: Vec<PathElement> = elements[..depth].to_vec();
    out.extend(leaf_elements(node));
    Path::from_elements(out).unwrap_or_else(|| Path::attribute(""))
}

/// The elements from `node` down its first children (in Java hash map order) to a leaf.
fn leaf_elements(node: &TreeNode) -> Vec<PathElement> {
    let mut out = Vec::new();
    let mut current = Some(node);
    while let Some(node) = current {
        let Some((element, child)) = java_first(&node.children) else {
            break;
        };
        out.push(element.clone());
        current = child.as_ref().filter(|c| !c.children.is_empty());
    }
    out
}

/// The child a Java `HashMap` iterator yields first: lowest bucket of the element's hash, then insertion order.
fn java_first(children: &[(PathElement, Option<TreeNode>)]) -> Option<&(PathElement, Option<TreeNode>)> {
    let capacity = super::java_table_size(children.len(), 16);
    children
        .iter()
        .enumerate()
        .min_by_key(|(i, (element, _))| {
            // NB: AWS hashes path elements with commons-lang's HashCodeBuilder(8191, 127).
            let base = 8191i32.wrapping_mul(127);
            let hash = match element {
                PathElement::Attribute(name) => base.wrapping_add(super::java_string_hash(name)),
                PathElement::Index(index) => base.wrapping_add(*index as i32),
            };
            (super::java_bucket(hash, capacity), *i)
        })
        .map(|(_, child)| child)
}
