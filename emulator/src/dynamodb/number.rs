//! DynamoDB numbers: up to 38 significant digits, magnitudes from 1E-130 to below 1E126, kept in AWS's canonical
//! decimal text (no sign for positives, no leading or trailing zeros, no exponent).
//!
//! Parsing and formatting follow DynamoDB's rules, which no decimal crate encodes; arithmetic (the `+` and `-` of
//! update expressions and `ADD`) goes through `bigdecimal` and back through the same normaliser.

use std::{cmp::Ordering, fmt, str::FromStr};

use bigdecimal::BigDecimal;

/// Most significant digits a DynamoDB number may carry.
pub const MAX_DIGITS: usize = 38;
/// A number's magnitude must be below 10^126 ...
const MAX_EXPONENT: i64 = 126;
/// ... and at least 10^-130.
const MIN_EXPONENT: i64 = -130;

/// Why a text is not a DynamoDB number; `Display` gives AWS's message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// The empty string.
    #[error("The parameter cannot be converted to a numeric value")]
    Empty,
    /// Not numeric text at all.
    #[error("The parameter cannot be converted to a numeric value: {0}")]
    NotNumeric(String),
    /// More than 38 significant digits.
    #[error("Attempting to store more than 38 significant digits in a Number")]
    TooPrecise,
    /// Magnitude of 1E126 or more.
    #[error("Number overflow. Attempting to store a number with magnitude larger than supported range")]
    Overflow,
    /// Magnitude below 1E-130.
    #[error("Number underflow. Attempting to store a number with magnitude smaller than supported range")]
    Underflow,
}

/// A validated DynamoDB number in canonical text form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number(Box<str>);

impl Number {
    /// Parses DynamoDB number text (`3`, `-7.1234`, `+3`, `.123`, `1e+5`, ...) into canonical form.
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        if text.is_empty() {
            return Err(NumberError::Empty);
        }
        let not_numeric = || NumberError::NotNumeric(text.to_owned());
        let bytes = text.as_bytes();
        let mut i = 0;
        let negative = match bytes[0] {
            b'-' => {
                i = 1;
                true
            }
            b'+' => {
                i = 1;
                false
            }
            _ => false,
        };
        // Collect all mantissa digits, remembering where the decimal point was.
        let mut digits = Vec::with_capacity(bytes.len());
        let mut point: Option<usize> = None;
        let mut seen_digit = false;
        while i < bytes.len() {
            match bytes[i] {
                b @ b'0'..=b'9' => {
                    digits.push(b);
                    seen_digit = true;
                }
                b'.' if point.is_none() => point = Some(digits.len()),
                b'e' | b'E' => break,
                _ => return Err(not_numeric()),
            }
            i += 1;
        }
        if !seen_digit {
            return Err(not_numeric());
        }
        let mut exponent: i64 = 0;
        if i < bytes.len() {
            // bytes[i] is 'e' or 'E'
            let exp_text = &text[i + 1..];
            let exp_digits = exp_text.strip_prefix(['+', '-']).unwrap_or(exp_text);
            if exp_digits.is_empty() || !exp_digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(not_numeric());
            }
            // Saturate absurd exponents; the range check below rejects them (or they multiply zero).
            let magnitude: i64 = exp_digits.parse().unwrap_or(i64::MAX / 4).min(i64::MAX / 4);
            exponent = if exp_text.starts_with('-') {
                -magnitude
            } else {
                magnitude
            };
        }
        let point = point.unwrap_or(digits.len()) as i64;
        Self::from_parts(negative, &digits, point + exponent)
    }

    /// Builds a number from sign, ASCII digits and the position of the decimal point relative to the first digit
    /// (value = 0.d1d2d3... x 10^point).
    fn from_parts(negative: bool, digits: &[u8], point: i64) -> Result<Self, NumberError> {
        let leading = digits.iter().take_while(|&&d| d == b'0').count();
        let digits = &digits[leading..];
        let point = point - leading as i64;
        let trailing = digits.iter().rev().take_while(|&&d| d == b'0').count();
        let digits = &digits[..digits.len() - trailing];
        if digits.is_empty() {
            return Ok(Self("0".into()));
        }
        if digits.len() > MAX_DIGITS {
            return Err(NumberError::TooPrecise);
        }
        // The value's magnitude is in [10^(point-1), 10^point).
        if point > MAX_EXPONENT {
            return Err(NumberError::Overflow);
        }
        if point - 1 < MIN_EXPONENT {
            return Err(NumberError::Underflow);
        }
        let mut out = String::with_capacity(digits.len() + 3 + point.unsigned_abs() as usize);
        if negative {
            out.push('-');
        }
        let len = digits.len() as i64;
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.push_str(ascii(digits));
        } else if point >= len {
            out.push_str(ascii(digits));
            out.extend(std::iter::repeat_n('0', (point - len) as usize));
        } else {
            out.push_str(ascii(&digits[..point as usize]));
            out.push('.');
            out.push_str(ascii(&digits[point as usize..]));
        }
        Ok(Self(out.into()))
    }

    /// The canonical text, as AWS returns it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is negative (zero is not).
    pub fn is_negative(&self) -> bool {
        self.0.starts_with('-')
    }

    /// Sign, significant digits (ASCII, no leading or trailing zeros) and scientific exponent
    /// (value = d.ddd x 10^exponent); `None` for zero.
    fn scientific(&self) -> Option<(bool, Vec<u8>, i64)> {
        if self.0.as_ref() == "0" {
            return None;
        }
        let unsigned = self.0.trim_start_matches('-');
        let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let exponent = if integer != "0" {
            integer.len() as i64 - 1
        } else {
            -(fraction.bytes().take_while(|&b| b == b'0').count() as i64) - 1
        };
        let mut digits: Vec<u8> = integer
            .bytes()
            .chain(fraction.bytes())
            .skip_while(|&b| b == b'0')
            .collect::<Vec<u8>>();
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        Some((self.is_negative(), digits, exponent))
    }

    /// Size in bytes as DynamoDB counts it for items: one byte per two significant digits, one more when the
    /// digits do not align on a base-100 boundary, one for a negative sign, plus one.
    pub fn size(&self) -> usize {
        let Some((negative, digits, exponent)) = self.scientific() else {
            return 1;
        };
        let misaligned = digits.len().is_multiple_of(2) && exponent.rem_euclid(2) == 0;
        1 + digits.len().div_ceil(2) + usize::from(misaligned) + usize::from(negative)
    }

    /// Appends an encoding whose bytewise order is the numbers' numeric order (for keys): a sign class, the
    /// biased exponent, the digits and a terminator, all inverted for negative numbers.
    pub fn encode_ordered(&self, out: &mut Vec<u8>) {
        let Some((negative, digits, exponent)) = self.scientific() else {
            out.push(0x02);
            return;
        };
        // NB: exponents lie in -130..=125, so the bias keeps them positive and within two bytes.
        let biased = (exponent + 1000) as u16;
        let start = out.len();
        out.push(0x03);
        out.extend_from_slice(&biased.to_be_bytes());
        out.extend_from_slice(&digits);
        out.push(0x00);
        if negative {
            for byte in &mut out[start..] {
                *byte = !*byte;
            }
            out[start] = 0x01;
        }
    }

    fn to_decimal(&self) -> BigDecimal {
        // NB: canonical text always parses; the fallback is unreachable.
        BigDecimal::from_str(&self.0).unwrap_or_default()
    }

    /// `self + other`, with DynamoDB's range and precision checks on the result.
    pub fn add(&self, other: &Number) -> Result<Number, NumberError> {
        Self::from_decimal(self.to_decimal() + other.to_decimal())
    }

    /// `self - other`, with DynamoDB's range and precision checks on the result.
    pub fn sub(&self, other: &Number) -> Result<Number, NumberError> {
        Self::from_decimal(self.to_decimal() - other.to_decimal())
    }

    /// NB: AWS reports an arithmetic result beyond 38 digits with the overflow text too (`1e50 + 1`).
    fn from_decimal(value: BigDecimal) -> Result<Number, NumberError> {
        let (mantissa, scale) = value.as_bigint_and_exponent();
        let text = mantissa.to_string();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.as_str()),
        };
        // value = digits x 10^-scale = 0.digits x 10^(len - scale)
        Self::from_parts(negative, digits.as_bytes(), digits.len() as i64 - scale).map_err(|err| match err {
            NumberError::TooPrecise => NumberError::Overflow,
            other => other,
        })
    }
}

fn ascii(digits: &[u8]) -> &str {
    // NB: only ASCII digits are ever collected.
    std::str::from_utf8(digits).unwrap_or_default()
}

impl FromStr for Number {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "N({})", self.0)
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.is_negative(), other.is_negative()) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => cmp_magnitude(&self.0, &other.0),
            (true, true) => cmp_magnitude(&other.0[1..], &self.0[1..]),
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two unsigned canonical decimals: integer parts by length then digits, fractions lexically (canonical
/// fractions have no trailing zeros, so lexical order is numeric order).
fn cmp_magnitude(a: &str, b: &str) -> Ordering {
    let (ai, af) = a.split_once('.').unwrap_or((a, ""));
    let (bi, bf) = b.split_once('.').unwrap_or((b, ""));
    let ai = if ai == "0" { "" } else { ai };
    let bi = if bi == "0" { "" } else { bi };
    ai.len()
        .cmp(&bi.len())
        .then_with(|| ai.cmp(bi))
        .then_with(|| af.cmp(bf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        Number::parse(s).unwrap().to_string()
    }

    #[test]
    fn accepted_forms_normalise_as_aws_prints_them() {
        assert_eq!(canon("3"), "3");
        assert_eq!(canon("+3"), "3");
        assert_eq!(canon("-7.1234"), "-7.1234");
        assert_eq!(canon("-17e5"), "-1700000");
        assert_eq!(canon(".123"), "0.123");
        assert_eq!(canon("0001.230"), "1.23");
        assert_eq!(canon("1e+5"), "100000");
        assert_eq!(canon("0e1000"), "0");
        assert_eq!(canon("-0"), "0");
        assert_eq!(canon("1.5e-3"), "0.0015");
        assert_eq!(canon("5."), "5");
        assert_eq!(canon("100"), "100");
    }

    #[test]
    fn rejected_forms_give_aws_messages() {
        assert_eq!(Number::parse("").unwrap_err(), NumberError::Empty);
        for bad in [
            "NaN", "Infinity", "dog", " 1", "1 ", "1e", "e5", ".", "-", "1..2", "1e5.5",
        ] {
            assert_eq!(
                Number::parse(bad).unwrap_err(),
                NumberError::NotNumeric(bad.into()),
                "{bad}"
            );
        }
        assert_eq!(
            Number::parse("b").unwrap_err().to_string(),
            "The parameter cannot be converted to a numeric value: b"
        );
    }

    #[test]
    fn limits_are_aws_limits() {
        assert!(Number::parse(&"9".repeat(38)).is_ok());
        assert_eq!(
            Number::parse(&"9".repeat(39)).unwrap_err(),
            NumberError::TooPrecise
        );
        assert!(Number::parse("0.0000000000000000000000000000000000000000123").is_ok());
        assert!(Number::parse("9.9999999999999999999999999999999999999E+125").is_ok());
        assert_eq!(Number::parse("1E126").unwrap_err(), NumberError::Overflow);
        assert!(Number::parse("1E-130").is_ok());
        assert_eq!(Number::parse("1E-131").unwrap_err(), NumberError::Underflow);
        assert_eq!(Number::parse("-1E126").unwrap_err(), NumberError::Overflow);
    }

    #[test]
    fn ordering_is_numeric() {
        let mut values: Vec<Number> = [
            "10", "9", "-1", "-10", "0", "0.5", "0.05", "-0.5", "100.25", "100.3", "1e-130", "-2.5",
        ]
        .iter()
        .map(|s| Number::parse(s).unwrap())
        .collect();
        values.sort();
        let text: Vec<&str> = values.iter().map(Number::as_str).collect();
        assert_eq!(
            text,
            [
                "-10", "-2.5", "-1", "-0.5", "0", text[5], "0.05", "0.5", "9", "10", "100.25", "100.3"
            ]
        );
        assert!(text[5].starts_with("0.000"));
        assert_eq!(Number::parse("1.0").unwrap(), Number::parse("1").unwrap());
    }

    #[test]
    fn arithmetic_checks_range() {
        let a = Number::parse("1.5").unwrap();
        let b = Number::parse("2.25").unwrap();
        assert_eq!(a.add(&b).unwrap().as_str(), "3.75");
        assert_eq!(a.sub(&b).unwrap().as_str(), "-0.75");
        assert_eq!(b.sub(&b).unwrap().as_str(), "0");
        let big = Number::parse("9.9999999999999999999999999999999999999E+125").unwrap();
        assert_eq!(big.add(&big).unwrap_err(), NumberError::Overflow);
        let e50 = Number::parse("1e50").unwrap();
        assert_eq!(
            e50.add(&Number::parse("1").unwrap()).unwrap_err(),
            NumberError::Overflow
        );
    }

    #[test]
    fn ordered_encoding_sorts_as_numbers_do() {
        let texts = [
            "-1e125", "-100", "-1.23", "-1.2", "-0.001", "0", "1e-130", "0.5", "1.2", "1.23", "9", "10",
            "1e125",
        ];
        let encoded: Vec<Vec<u8>> = texts
            .iter()
            .map(|t| {
                let mut out = Vec::new();
                Number::parse(t).unwrap().encode_ordered(&mut out);
                out
            })
            .collect();
        for pair in encoded.windows(2) {
            assert!(pair[0] < pair[1], "{pair:?}");
        }
    }

    #[test]
    fn size_follows_dynamodb_formula() {
        assert_eq!(Number::parse("0").unwrap().size(), 1);
        assert_eq!(Number::parse(&"9".repeat(38)).unwrap().size(), 20);
        assert_eq!(Number::parse("1e125").unwrap().size(), 2);
        assert_eq!(Number::parse("12345").unwrap().size(), 4);
        assert_eq!(Number::parse("1234567").unwrap().size(), 5);
    }
}
