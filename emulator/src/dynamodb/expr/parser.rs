//! The parser of the three expression grammars: text to a parse tree, with AWS's syntax errors.
//!
//! AWS parses with an ANTLR grammar, then checks the tree (see [`super::check`]). Here are the parse-time
//! errors: syntax errors, reported at the token where every reading of the text fails and quoting the text from
//! the token before to the token after it, and redundant parentheses, reported as soon as the outer pair closes.
//! The tree keeps token indexes; nothing is resolved yet.

use std::collections::HashMap;

use super::{
    ast::{Comparator, Path},
    lexer::{Tok, Token, tokenize},
};

/// Most operators (comparisons, functions, AND, OR, NOT, `+`, `-`) one expression may hold.
pub(super) const MAX_OPERATORS: usize = 300;
/// Deepest nesting of parentheses and function calls the parser follows. AWS has no such limit, but practically
/// any expression this deep breaks its operator limit or has redundant parentheses; the guard keeps the stack
/// safe (NOT chains need no stack and are not counted).
const MAX_NESTING: usize = 128;
/// The types `attribute_type` accepts, as AWS lists them.
const TYPE_NAMES: &str = "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}";

/// Why an expression is invalid. `Display` is AWS's text after the `Invalid <Parameter>: ` prefix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ExprError {
    /// The empty string.
    #[error("The expression can not be empty;")]
    Empty,
    /// More than 4 KB (condition-like expressions say how long).
    #[error("Expression size has exceeded the maximum allowed size; expression size: {0}")]
    TooLargeWithSize(usize),
    /// More than 4 KB (update and projection expressions do not say how long).
    #[error("Expression size has exceeded the maximum allowed size;")]
    TooLarge,
    /// No reading of the text continues past `token`.
    #[error("Syntax error; token: \"{token}\", near: \"{near}\"")]
    Syntax {
        /// The offending token (`<EOF>` at the end).
        token: String,
        /// The text from the token before to the token after.
        near: String,
    },
    /// Two pairs of parentheses around the same thing.
    #[error("The expression has redundant parentheses;")]
    RedundantParentheses,
    /// A bare attribute name that is a reserved word.
    #[error("Attribute name is a reserved keyword; reserved keyword: {0}")]
    ReservedKeyword(String),
    /// A list index above 2^31 - 1.
    #[error("List index is not within the allowable range; index: [{0}]")]
    ListIndex(String),
    /// A function that does not exist.
    #[error("Invalid function name; function: {0}")]
    InvalidFunction(String),
    /// `if_not_exists` or `list_append` in a condition.
    #[error("The function is not allowed in a condition expression; function: {0}")]
    ConditionFunction(String),
    /// A condition function in an update.
    #[error("The function is not allowed in an update expression; function: {0}")]
    UpdateFunction(String),
    /// A function where its result cannot be used.
    #[error("The function is not allowed to be used this way in an expression; function: {0}")]
    FunctionContext(String),
    /// A second SET, REMOVE, ADD or DELETE section.
    #[error("The \"{0}\" section can only be used once in an update expression;")]
    DuplicateSection(&'static str),
    /// A path of more than 32 elements.
    #[error("The document path has too many nesting levels; nesting levels: {0}")]
    PathTooDeep(usize),
    /// A `:value` inside a document path.
    #[error("The document path cannot contain attribute value parameters; attribute value: {0}")]
    ValueInPath(String),
    /// A `#name` missing from ExpressionAttributeNames.
    #[error("An expression attribute name used in the document path is not defined; attribute name: {0}")]
    UndefinedName(String),
    /// A `:value` missing from ExpressionAttributeValues.
    #[error("An expression attribute value used in expression is not defined; attribute value: {0}")]
    UndefinedValue(String),
    /// A function or operator with the wrong number of operands.
    #[error(
        "Incorrect number of operands for operator or function; operator or function: {0}, number of operands: {1}"
    )]
    OperandCount(&'static str, usize),
    /// An operand whose type the function or operator cannot take.
    #[error("Incorrect operand type for operator or function; operator or function: {0}, operand type: {1}")]
    OperandType(&'static str, &'static str),
    /// An ADD or DELETE value of the wrong type.
    #[error(
        "Incorrect operand type for operator or function; operator: {0}, operand type: {1}, typeSet: \
         ALLOWED_FOR_{0}_OPERAND"
    )]
    ActionOperandType(&'static str, &'static str),
    /// A function that needs a document path got something else.
    #[error("Operator or function requires a document path; operator or function: {0}")]
    RequiresPath(&'static str),
    /// The same path as first and a later operand.
    #[error(
        "The first operand must be distinct from the remaining operands for this operator or function; operator: \
         {0}, first operand: {1}"
    )]
    NotDistinct(&'static str, Path),
    /// `attribute_type` with an unknown type name.
    #[error("Invalid attribute type name found; type: {0}, valid types: {TYPE_NAMES}")]
    AttributeTypeName(String),
    /// BETWEEN bounds of different types.
    #[error(
        "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: {0}, upper \
         bound operand: {1}"
    )]
    BetweenTypes(String, String),
    /// BETWEEN bounds in the wrong order.
    #[error(
        "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound \
         operand: {0}, upper bound operand: {1}"
    )]
    BetweenOrder(String, String),
    /// More than 100 values in an IN list.
    #[error("The IN operator is provided with too many operands; number of operands: {0}")]
    TooManyInOperands(usize),
    /// More than 300 operators.
    #[error("The expression contains too many operators; operator count: {0}")]
    TooManyOperators(usize),
    /// Two update or projection paths where one contains the other.
    #[error(
        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {0}, path \
         two: {1}"
    )]
    Overlap(Path, Path),
    /// Two update or projection paths that use one attribute as a map and as a list.
    #[error(
        "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {0}, \
         path two: {1}"
    )]
    Conflict(Path, Path),
}

// ---------------------------------------------------------------------------------------------------------------
// The parse tree: token indexes into the parser's token list, nothing resolved yet.

/// A document path as written.
pub(super) struct RPath {
    /// An `Id` or `NameSub` token.
    pub(super) head: usize,
    pub(super) steps: Vec<RStep>,
}

pub(super) enum RStep {
    /// `.` and an `Id` or `NameSub` token.
    Key(usize),
    /// `.` and a `ValueSub` token (the grammar allows it; validation refuses it).
    Value(usize),
    /// `[` `Index` `]`.
    Index(usize),
}

/// An operand as written.
pub(super) enum ROp {
    Path(RPath),
    /// A `ValueSub` token.
    Value(usize),
    Call(RCall),
    /// `( operand )`.
    Group(Box<ROp>),
}

pub(super) struct RCall {
    /// The `Id` token of the name.
    pub(super) name: usize,
    pub(super) args: Vec<ROp>,
}

/// A condition as written.
pub(super) enum RCond {
    Cmp(Comparator, ROp, ROp),
    Between(ROp, ROp, ROp),
    In(ROp, Vec<ROp>),
    Call(RCall),
    Not(Box<RCond>),
    And(Vec<RCond>),
    Or(Vec<RCond>),
    /// `( condition )`.
    Group(Box<RCond>),
}

/// The right-hand side of a SET action as written.
pub(super) enum RSet {
    Op(ROp),
    /// `a + b` (true) or `a - b` (false).
    Arith(bool, ROp, ROp),
    /// `( a + b )`.
    Group(Box<RSet>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    Set,
    Remove,
    Add,
    Delete,
}

impl Section {
    pub(super) fn name(self) -> &'static str {
        match self {
            Section::Set => "SET",
            Section::Remove => "REMOVE",
            Section::Add => "ADD",
            Section::Delete => "DELETE",
        }
    }
}

pub(super) enum RAction {
    Set(RPath, RSet),
    Remove(RPath),
    /// ADD or DELETE with its `ValueSub` token.
    Value(RPath, usize),
}

pub(super) struct RSection {
    pub(super) kind: Section,
    pub(super) actions: Vec<RAction>,
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

/// How a parse step failed: at a token (a syntax error) or with a finished error.
pub(super) enum Fail {
    Syntax(usize),
    Error(ExprError),
}

type PResult<T> = Result<T, Fail>;

/// How far a reading of the tokens gets: `Ok(end)` when it completes, `Err(at)` where it fails.
type Reach = Result<usize, usize>;

/// The lookahead's failure when nesting is too deep to follow.
const TOO_DEEP: usize = usize::MAX;

/// Which reading of a `(` at the start of a condition to follow.
enum Choice {
    /// `( condition )`.
    Group,
    /// A comparison whose first operand is parenthesised.
    Comparison,
}

/// A recursive-descent parser over the tokens of one expression, with the memoised lookahead that settles
/// the two readings of a `(` in a condition.
pub(super) struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    /// Depth of the lookahead recogniser, guarded separately.
    look_depth: usize,
    /// Memoised reach of both readings of a `(` that starts a condition, by token index.
    alternatives: HashMap<usize, (Reach, Reach)>,
    /// Memoised reach of a parenthesised operand, by token index.
    groups: HashMap<usize, Reach>,
}

impl<'s> Parser<'s> {
    pub(super) fn new(src: &'s str) -> Self {
        Self {
            src,
            toks: tokenize(src),
            pos: 0,
            depth: 0,
            look_depth: 0,
            alternatives: HashMap::new(),
            groups: HashMap::new(),
        }
    }

    /// Parses the whole text with `rule`, which must end at the end of the text.
    pub(super) fn run<T>(&mut self, rule: impl FnOnce(&mut Self) -> PResult<T>) -> Result<T, ExprError> {
        let result = rule(self).and_then(|value| match self.kind() {
            Tok::Eof => Ok(value),
            _ => Err(Fail::Syntax(self.pos)),
        });
        result.map_err(|fail| match fail {
            Fail::Syntax(at) => self.syntax_error(at),
            Fail::Error(error) => error,
        })
    }

    pub(super) fn kind_at(&self, i: usize) -> Tok {
        self.toks.get(i).map_or(Tok::Eof, |t| t.kind)
    }

    fn kind(&self) -> Tok {
        self.kind_at(self.pos)
    }

    /// The text of token `i`.
    pub(super) fn text(&self, i: usize) -> &'s str {
        self.toks
            .get(i)
            .and_then(|t| self.src.get(t.start..t.end))
            .unwrap_or("")
    }

    /// Consumes the current token (never the end) and returns its index.
    fn bump(&mut self) -> usize {
        let i = self.pos;
        if self.kind_at(i) != Tok::Eof {
            self.pos += 1;
        }
        i
    }

    fn expect(&mut self, kind: Tok) -> PResult<usize> {
        if self.kind() == kind {
            Ok(self.bump())
        } else {
            Err(Fail::Syntax(self.pos))
        }
    }

    /// AWS's syntax error at token `i`: the token, and the text from the token before it to the token after it
    /// (whitespace between them included; at the end of the text, up to the end).
    fn syntax_error(&self, i: usize) -> ExprError {
        let i = i.min(self.toks.len().saturating_sub(1));
        let kind = self.kind_at(i);
        let token = if kind == Tok::Eof {
            "<EOF>".to_owned()
        } else {
            self.text(i).to_owned()
        };
        let from = match i.checked_sub(1).and_then(|p| self.toks.get(p)) {
            Some(previous) => previous.start,
            // NB: AWS quotes the whitespace before the first token too.
            None => 0,
        };
        let to = match self.toks.get(i + 1) {
            Some(next) if kind != Tok::Eof && next.kind != Tok::Eof => next.end,
            _ => self.src.len(),
        };
        ExprError::Syntax {
            token,
            near: self.src.get(from..to).unwrap_or("").to_owned(),
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            // NB: runs of `(` this deep always hold a redundant pair; anything else holds too many operators.
            let parens = (0..3).all(|back| {
                self.pos
                    .checked_sub(back)
                    .is_some_and(|i| self.kind_at(i) == Tok::LParen)
            });
            return Err(Fail::Error(if parens {
                ExprError::RedundantParentheses
            } else {
                ExprError::TooManyOperators(MAX_OPERATORS + 1)
            }));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // --- conditions -------------------------------------------------------------------------------------------

    pub(super) fn parse_or(&mut self) -> PResult<RCond> {
        let first = self.parse_and()?;
        if self.kind() != Tok::Or {
            return Ok(first);
        }
        let mut all = vec![first];
        while self.kind() == Tok::Or {
            self.bump();
            all.push(self.parse_and()?);
        }
        Ok(RCond::Or(all))
    }

    fn parse_and(&mut self) -> PResult<RCond> {
        let first = self.parse_unary()?;
        if self.kind() != Tok::And {
            return Ok(first);
        }
        let mut all = vec![first];
        while self.kind() == Tok::And {
            self.bump();
            all.push(self.parse_unary()?);
        }
        Ok(RCond::And(all))
    }

    /// `NOT* primary`: NOT binds tighter than AND and OR.
    fn parse_unary(&mut self) -> PResult<RCond> {
        let mut nots = 0;
        while self.kind() == Tok::Not {
            self.bump();
            nots += 1;
        }
        let mut condition = self.parse_primary()?;
        for _ in 0..nots {
            condition = RCond::Not(Box::new(condition));
        }
        Ok(condition)
    }

    fn parse_primary(&mut self) -> PResult<RCond> {
        if self.kind() == Tok::LParen {
            match self.choose(self.pos)? {
                Choice::Group => {
                    self.enter()?;
                    self.bump();
                    let inner = self.parse_or()?;
                    self.expect(Tok::RParen)?;
                    self.leave();
                    if matches!(inner, RCond::Group(_)) {
                        return Err(Fail::Error(ExprError::RedundantParentheses));
                    }
                    return Ok(RCond::Group(Box::new(inner)));
                }
                Choice::Comparison => {}
            }
        }
        self.parse_comparison()
    }

    /// `operand comparator operand`, `operand BETWEEN operand AND operand`, `operand IN (operand, ...)`, or a
    /// bare function call.
    fn parse_comparison(&mut self) -> PResult<RCond> {
        let first = self.parse_operand()?;
        let comparator = match self.kind() {
            Tok::Eq => Some(Comparator::Eq),
            Tok::Ne => Some(Comparator::Ne),
            Tok::Lt => Some(Comparator::Lt),
            Tok::Le => Some(Comparator::Le),
            Tok::Gt => Some(Comparator::Gt),
            Tok::Ge => Some(Comparator::Ge),
            _ => None,
        };
        if let Some(comparator) = comparator {
            self.bump();
            let second = self.parse_operand()?;
            return Ok(RCond::Cmp(comparator, first, second));
        }
        match self.kind() {
            Tok::Between => {
                self.bump();
                let low = self.parse_operand()?;
                self.expect(Tok::And)?;
                let high = self.parse_operand()?;
                Ok(RCond::Between(first, low, high))
            }
            Tok::In => {
                self.bump();
                self.expect(Tok::LParen)?;
                let mut list = vec![self.parse_operand()?];
                while self.kind() == Tok::Comma {
                    self.bump();
                    list.push(self.parse_operand()?);
                }
                self.expect(Tok::RParen)?;
                Ok(RCond::In(first, list))
            }
            _ => match first {
                ROp::Call(call) => Ok(RCond::Call(call)),
                _ => Err(Fail::Syntax(self.pos)),
            },
        }
    }

    fn parse_operand(&mut self) -> PResult<ROp> {
        match self.kind() {
            Tok::ValueSub => Ok(ROp::Value(self.bump())),
            Tok::LParen => {
                self.enter()?;
                self.bump();
                let inner = self.parse_operand()?;
                self.expect(Tok::RParen)?;
                self.leave();
                if matches!(inner, ROp::Group(_)) {
                    return Err(Fail::Error(ExprError::RedundantParentheses));
                }
                Ok(ROp::Group(Box::new(inner)))
            }
            Tok::Id if self.kind_at(self.pos + 1) == Tok::LParen => self.parse_call().map(ROp::Call),
            Tok::Id | Tok::NameSub => self.parse_path().map(ROp::Path),
            _ => Err(Fail::Syntax(self.pos)),
        }
    }

    fn parse_call(&mut self) -> PResult<RCall> {
        let name = self.bump();
        self.expect(Tok::LParen)?;
        self.enter()?;
        let mut args = vec![self.parse_operand()?];
        while self.kind() == Tok::Comma {
            self.bump();
            args.push(self.parse_operand()?);
        }
        self.expect(Tok::RParen)?;
        self.leave();
        Ok(RCall { name, args })
    }

    fn parse_path(&mut self) -> PResult<RPath> {
        let head = match self.kind() {
            Tok::Id | Tok::NameSub => self.bump(),
            _ => return Err(Fail::Syntax(self.pos)),
        };
        let mut steps = Vec::new();
        loop {
            match self.kind() {
                Tok::Dot => {
                    self.bump();
                    match self.kind() {
                        Tok::Id | Tok::NameSub => steps.push(RStep::Key(self.bump())),
                        Tok::ValueSub => steps.push(RStep::Value(self.bump())),
                        _ => return Err(Fail::Syntax(self.pos)),
                    }
                }
                Tok::LBracket => {
                    self.bump();
                    let index = self.expect(Tok::Index)?;
                    self.expect(Tok::RBracket)?;
                    steps.push(RStep::Index(index));
                }
                _ => return Ok(RPath { head, steps }),
            }
        }
    }

    // --- the two readings of `(` in a condition ---------------------------------------------------------------
    //
    // `(` may open a parenthesised condition or the parenthesised first operand of a comparison. Like ANTLR, the
    // parser follows the reading that survives longer; when both fail at the same token that token is the syntax
    // error, and nothing inside either reading (such as redundant parentheses) is reported.

    fn choose(&mut self, at: usize) -> PResult<Choice> {
        let (group, comparison) = self.alternatives(at);
        if group == Err(TOO_DEEP) || comparison == Err(TOO_DEEP) {
            // NB: too deep to look ahead; the parse itself stops at the same depth with the right error.
            return Ok(Choice::Group);
        }
        match (self.death(group), self.death(comparison)) {
            (None, _) => Ok(Choice::Group),
            (_, None) => Ok(Choice::Comparison),
            (Some(g), Some(c)) if g > c => Ok(Choice::Group),
            (Some(g), Some(c)) if c > g => Ok(Choice::Comparison),
            (Some(g), _) => Err(Fail::Syntax(g)),
        }
    }

    /// Where a reading stops being viable: `None` when it completes and a condition may continue after it.
    fn death(&self, reach: Reach) -> Option<usize> {
        match reach {
            Ok(end) if matches!(self.kind_at(end), Tok::And | Tok::Or | Tok::RParen | Tok::Eof) => None,
            Ok(end) | Err(end) => Some(end),
        }
    }

    fn alternatives(&mut self, at: usize) -> (Reach, Reach) {
        if let Some(known) = self.alternatives.get(&at) {
            return *known;
        }
        let group = self.look_group(at);
        let comparison = self.look_comparison(at);
        self.alternatives.insert(at, (group, comparison));
        (group, comparison)
    }

    fn look_enter(&mut self, at: usize) -> Reach {
        self.look_depth += 1;
        if self.look_depth > MAX_NESTING {
            Err(TOO_DEEP)
        } else {
            Ok(at)
        }
    }

    fn look_group(&mut self, at: usize) -> Reach {
        let result = self.look_enter(at).and_then(|_| {
            let end = self.look_condition(at + 1)?;
            if self.kind_at(end) == Tok::RParen {
                Ok(end + 1)
            } else {
                Err(end)
            }
        });
        self.look_depth -= 1;
        result
    }

    fn look_condition(&mut self, mut at: usize) -> Reach {
        loop {
            while self.kind_at(at) == Tok::Not {
                at += 1;
            }
            at = self.look_primary(at)?;
            if !matches!(self.kind_at(at), Tok::And | Tok::Or) {
                return Ok(at);
            }
            at += 1;
        }
    }

    fn look_primary(&mut self, at: usize) -> Reach {
        if self.kind_at(at) != Tok::LParen {
            return self.look_comparison(at);
        }
        let (group, comparison) = self.alternatives(at);
        if group == Err(TOO_DEEP) || comparison == Err(TOO_DEEP) {
            return Err(TOO_DEEP);
        }
        match (self.death(group), self.death(comparison)) {
            (None, _) => group,
            (_, None) => comparison,
            (Some(g), Some(c)) if g > c => group,
            (Some(g), Some(c)) if c > g => comparison,
            (Some(g), _) => Err(g),
        }
    }

    fn look_comparison(&mut self, at: usize) -> Reach {
        let end = self.look_operand(at)?;
        match self.kind_at(end) {
            Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge => self.look_operand(end + 1),
            Tok::Between => {
                let end = self.look_operand(end + 1)?;
                if self.kind_at(end) != Tok::And {
                    return Err(end);
                }
                self.look_operand(end + 1)
            }
            Tok::In => {
                if self.kind_at(end + 1) != Tok::LParen {
                    return Err(end + 1);
                }
                let end = self.look_list(end + 2)?;
                if self.kind_at(end) == Tok::RParen {
                    Ok(end + 1)
                } else {
                    Err(end)
                }
            }
            _ if self.kind_at(at) == Tok::Id && self.kind_at(at + 1) == Tok::LParen => Ok(end),
            _ => Err(end),
        }
    }

    fn look_list(&mut self, at: usize) -> Reach {
        let mut end = self.look_operand(at)?;
        while self.kind_at(end) == Tok::Comma {
            end = self.look_operand(end + 1)?;
        }
        Ok(end)
    }

    fn look_operand(&mut self, at: usize) -> Reach {
        match self.kind_at(at) {
            Tok::ValueSub => Ok(at + 1),
            Tok::LParen => {
                if let Some(known) = self.groups.get(&at) {
                    return *known;
                }
                let result = self.look_enter(at).and_then(|_| {
                    let end = self.look_operand(at + 1)?;
                    if self.kind_at(end) == Tok::RParen {
                        Ok(end + 1)
                    } else {
                        Err(end)
                    }
                });
                self.look_depth -= 1;
                self.groups.insert(at, result);
                result
            }
            Tok::Id if self.kind_at(at + 1) == Tok::LParen => {
                let result = self.look_enter(at).and_then(|_| {
                    let end = self.look_list(at + 2)?;
                    if self.kind_at(end) == Tok::RParen {
                        Ok(end + 1)
                    } else {
                        Err(end)
                    }
                });
                self.look_depth -= 1;
                result
            }
            Tok::Id | Tok::NameSub => self.look_path(at + 1),
            _ => Err(at),
        }
    }

    fn look_path(&self, mut at: usize) -> Reach {
        loop {
            match self.kind_at(at) {
                Tok::Dot => match self.kind_at(at + 1) {
                    Tok::Id | Tok::NameSub | Tok::ValueSub => at += 2,
                    _ => return Err(at + 1),
                },
                Tok::LBracket => {
                    if self.kind_at(at + 1) != Tok::Index {
                        return Err(at + 1);
                    }
                    if self.kind_at(at + 2) != Tok::RBracket {
                        return Err(at + 2);
                    }
                    at += 3;
                }
                _ => return Ok(at),
            }
        }
    }

    // --- updates ----------------------------------------------------------------------------------------------

    pub(super) fn parse_update(&mut self) -> PResult<Vec<RSection>> {
        let mut sections = Vec::new();
        loop {
            let kind = match self.kind() {
                Tok::Set => Section::Set,
                Tok::Remove => Section::Remove,
                Tok::Add => Section::Add,
                Tok::Delete => Section::Delete,
                _ => return Err(Fail::Syntax(self.pos)),
            };
            self.bump();
            let mut actions = vec![self.parse_action(kind)?];
            while self.kind() == Tok::Comma {
                self.bump();
                actions.push(self.parse_action(kind)?);
            }
            sections.push(RSection { kind, actions });
            if self.kind() == Tok::Eof {
                return Ok(sections);
            }
        }
    }

    fn parse_action(&mut self, kind: Section) -> PResult<RAction> {
        let path = self.parse_path()?;
        Ok(match kind {
            Section::Set => {
                self.expect(Tok::Eq)?;
                RAction::Set(path, self.parse_set_value()?)
            }
            Section::Remove => RAction::Remove(path),
            Section::Add | Section::Delete => RAction::Value(path, self.expect(Tok::ValueSub)?),
        })
    }

    /// `operand`, `operand + operand`, `operand - operand`, or either in parentheses.
    fn parse_set_value(&mut self) -> PResult<RSet> {
        let value = if self.kind() == Tok::LParen {
            self.enter()?;
            self.bump();
            let inner = self.parse_set_value()?;
            self.expect(Tok::RParen)?;
            self.leave();
            match inner {
                RSet::Op(ROp::Group(_)) | RSet::Group(_) => {
                    return Err(Fail::Error(ExprError::RedundantParentheses));
                }
                RSet::Op(op) => RSet::Op(ROp::Group(Box::new(op))),
                arith => RSet::Group(Box::new(arith)),
            }
        } else {
            RSet::Op(self.parse_operand()?)
        };
        match (value, self.kind()) {
            (RSet::Op(first), kind @ (Tok::Plus | Tok::Minus)) => {
                self.bump();
                let second = self.parse_operand()?;
                Ok(RSet::Arith(kind == Tok::Plus, first, second))
            }
            (value, _) => Ok(value),
        }
    }

    // --- projections ------------------------------------------------------------------------------------------

    pub(super) fn parse_projection(&mut self) -> PResult<Vec<RPath>> {
        let mut paths = vec![self.parse_path()?];
        while self.kind() == Tok::Comma {
            self.bump();
            paths.push(self.parse_path()?);
        }
        Ok(paths)
    }
}
