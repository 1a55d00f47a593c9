//! The expression lexer, shared by the three grammars: it cuts the text into the tokens AWS's grammar knows
//! (names, `#name` and `:value` placeholders, list indexes, keywords, operators) and keeps their byte spans so
//! syntax errors can quote the text around the offending token as AWS does.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tok {
    Comma,
    LParen,
    RParen,
    Dot,
    LBracket,
    RBracket,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    In,
    Between,
    Not,
    And,
    Or,
    Set,
    Add,
    Delete,
    Remove,
    /// A list index: `0`, or digits without a leading zero.
    Index,
    /// A name: a letter, then letters, digits and `_`.
    Id,
    /// `#` and one or more letters, digits or `_`.
    NameSub,
    /// `:` and one or more letters, digits or `_`.
    ValueSub,
    /// Any other single character.
    Unknown,
    /// The end of the text.
    Eof,
}

/// A token and where it is in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

/// The keywords, matched without regard to case and only as whole words.
const KEYWORDS: [(&str, Tok); 9] = [
    ("IN", Tok::In),
    ("BETWEEN", Tok::Between),
    ("NOT", Tok::Not),
    ("AND", Tok::And),
    ("OR", Tok::Or),
    ("SET", Tok::Set),
    ("ADD", Tok::Add),
    ("DELETE", Tok::Delete),
    ("REMOVE", Tok::Remove),
];

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Cuts `src` into tokens, skipping whitespace (space, tab, CR, LF), and ends them with [`Tok::Eof`].
pub(super) fn tokenize(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::with_capacity(src.len() / 2 + 1);
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let b = bytes[i];
        let kind = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b',' => one(&mut i, Tok::Comma),
            b'(' => one(&mut i, Tok::LParen),
            b')' => one(&mut i, Tok::RParen),
            b'.' => one(&mut i, Tok::Dot),
            b'[' => one(&mut i, Tok::LBracket),
            b']' => one(&mut i, Tok::RBracket),
            b'=' => one(&mut i, Tok::Eq),
            b'+' => one(&mut i, Tok::Plus),
            b'-' => one(&mut i, Tok::Minus),
            b'<' => match bytes.get(i + 1) {
                Some(b'>') => two(&mut i, Tok::Ne),
                Some(b'=') => two(&mut i, Tok::Le),
                _ => one(&mut i, Tok::Lt),
            },
            b'>' => match bytes.get(i + 1) {
                Some(b'=') => two(&mut i, Tok::Ge),
                _ => one(&mut i, Tok::Gt),
            },
            b'0' => one(&mut i, Tok::Index),
            b'1'..=b'9' => {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                Tok::Index
            }
            b'a'..=b'z' | b'A'..=b'Z' => {
                i += 1;
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    i += 1;
                }
                let word = &src[start..i];
                KEYWORDS
                    .iter()
                    .find(|(keyword, _)| keyword.eq_ignore_ascii_case(word))
                    .map_or(Tok::Id, |&(_, kind)| kind)
            }
            b'#' | b':' if bytes.get(i + 1).copied().is_some_and(is_word_byte) => {
                i += 1;
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    i += 1;
                }
                if b == b'#' { Tok::NameSub } else { Tok::ValueSub }
            }
            _ => {
                // NB: one whole character, so spans stay on char boundaries for the error text.
                i += src[i..].chars().next().map_or(1, char::len_utf8);
                Tok::Unknown
            }
        };
        tokens.push(Token { kind, start, end: i });
    }
    tokens.push(Token {
        kind: Tok::Eof,
        start: src.len(),
        end: src.len(),
    });
    tokens
}

fn one(i: &mut usize, kind: Tok) -> Tok {
    *i += 1;
    kind
}

fn two(i: &mut usize, kind: Tok) -> Tok {
    *i += 2;
    kind
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        tokenize(src).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn keywords_are_case_insensitive_whole_words() {
        assert_eq!(
            kinds("and AnD andy in_"),
            [Tok::And, Tok::And, Tok::Id, Tok::Id, Tok::Eof]
        );
        assert_eq!(
            kinds("set REMOVE Add delete"),
            [Tok::Set, Tok::Remove, Tok::Add, Tok::Delete, Tok::Eof]
        );
    }

    #[test]
    fn placeholders_need_a_word_character() {
        assert_eq!(
            kinds("#a1 :_ # :"),
            [Tok::NameSub, Tok::ValueSub, Tok::Unknown, Tok::Unknown, Tok::Eof]
        );
    }

    #[test]
    fn indexes_do_not_keep_leading_zeros() {
        assert_eq!(
            kinds("007 12"),
            [Tok::Index, Tok::Index, Tok::Index, Tok::Index, Tok::Eof]
        );
    }

    #[test]
    fn comparators_take_the_longest_match() {
        assert_eq!(
            kinds("<><=>=< >"),
            [Tok::Ne, Tok::Le, Tok::Ge, Tok::Lt, Tok::Gt, Tok::Eof]
        );
    }

    #[test]
    fn underscore_and_non_ascii_are_unknown_single_characters() {
        let tokens = tokenize("_ü");
        assert_eq!(tokens[0].kind, Tok::Unknown);
        assert_eq!((tokens[1].start, tokens[1].end), (1, 3));
    }
}
