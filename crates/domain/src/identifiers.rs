//! Identifiers that are checked once, when they enter the system.
//!
//! Each type here can only be built through its `parse` function (or by
//! deserialising, which calls `parse`), so a value of the type is proof that the
//! text has the right shape. Code further in can rely on that and never checks
//! again. Input is normalised on the way in (surrounding whitespace trimmed, case
//! fixed, postcode spacing repaired) so equal identifiers compare equal.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How much of a rejected input an error message repeats. Identifiers are not
/// clinical content, so echoing them helps the user; the cap stops a pasted
/// paragraph ending up in a log line.
const ECHO_LIMIT: usize = 40;

/// Why a piece of text was refused as an identifier. Each variant names the
/// identifier, the rule it broke and (cut to 40 characters) what was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    /// The text is not shaped like a prison number (A1234BC).
    #[error(
        "prison number must be one letter, four digits and two letters, like A1234BC (got {got:?})"
    )]
    PrisonNumber {
        /// The rejected input, cut to 40 characters.
        got: String,
    },
    /// The text is not shaped like a UK postcode.
    #[error(
        "postcode must be a UK postcode: an outward code like ME14, CT1 or SW1A, then a digit and two letters, like ME14 1XQ (got {got:?})"
    )]
    Postcode {
        /// The rejected input, cut to 40 characters.
        got: String,
    },
    /// The text is not a three-letter establishment code.
    #[error("establishment code must be exactly three letters, like MDI (got {got:?})")]
    EstablishmentCode {
        /// The rejected input, cut to 40 characters.
        got: String,
    },
    /// The staff username is shorter than 3 or longer than 64 characters.
    #[error("staff username must be 3 to 64 characters long (got {length} characters: {got:?})")]
    StaffUsernameLength {
        /// How many characters were given, after trimming.
        length: usize,
        /// The rejected input, cut to 40 characters.
        got: String,
    },
    /// The staff username contains a character outside the allowed set.
    #[error("staff username may contain only letters, digits, '.', '-' and '_' (got {got:?})")]
    StaffUsernameCharacters {
        /// The rejected input, cut to 40 characters.
        got: String,
    },
}

/// Cuts rejected input to [`ECHO_LIMIT`] characters (not bytes, so a multi-byte
/// character is never split) and marks the cut with an ellipsis.
fn echo(input: &str) -> String {
    let mut chars = input.chars();
    let mut shown: String = chars.by_ref().take(ECHO_LIMIT).collect();
    if chars.next().is_some() {
        shown.push('…');
    }
    shown
}

/// Adds the conversions every identifier shares: `Display`, `AsRef<str>`,
/// `FromStr`, `TryFrom<String>` (used by serde to validate on deserialise) and
/// `From<Self> for String` (used by serde to serialise as a plain string).
macro_rules! string_identifier {
    ($name:ident) => {
        impl $name {
            /// The identifier as text, in its normalised form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdentifierError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdentifierError;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

/// A person's prison number (their identifier in the prison system): one
/// letter, four digits and two letters, such as `A1234BC`. Stored upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PrisonNumber(String);

impl PrisonNumber {
    /// Checks and normalises a prison number: surrounding whitespace is
    /// trimmed and lower case is accepted, but the value is stored upper case.
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        let candidate = input.trim().to_ascii_uppercase();
        let b = candidate.as_bytes();
        let well_formed = match b {
            [l1, d1, d2, d3, d4, l2, l3] => {
                l1.is_ascii_uppercase()
                    && [d1, d2, d3, d4].iter().all(|d| d.is_ascii_digit())
                    && l2.is_ascii_uppercase()
                    && l3.is_ascii_uppercase()
            }
            _ => false,
        };
        if well_formed {
            Ok(Self(candidate))
        } else {
            Err(IdentifierError::PrisonNumber { got: echo(input) })
        }
    }
}

string_identifier!(PrisonNumber);

/// A UK postcode, such as a person's home postcode (KM 4.28.2). Stored upper
/// case as outward code, one space, inward code: `ME14 1XQ`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Postcode(String);

impl Postcode {
    /// Checks and normalises a UK postcode. Lower case is accepted, and the
    /// space between the outward and inward codes may be missing or repeated
    /// (`ct11aa` and `CT1   1AA` both become `CT1 1AA`). Whitespace anywhere
    /// else inside the postcode is refused. `GIR 0AA` is accepted.
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        Self::normalise(input)
            .map(Self)
            .ok_or_else(|| IdentifierError::Postcode { got: echo(input) })
    }

    /// The outward code (the part before the space), e.g. `ME14` for
    /// `ME14 1XQ`: the postal district, enough for area-level reporting.
    pub fn outward(&self) -> &str {
        self.0
            .split_once(' ')
            .map_or(self.0.as_str(), |(outward, _)| outward)
    }

    /// The inward code (the part after the space), e.g. `1XQ` for `ME14 1XQ`.
    pub fn inward(&self) -> &str {
        self.0.split_once(' ').map_or("", |(_, inward)| inward)
    }

    /// Returns the normalised `OUTWARD INWARD` text, or `None` if the input is
    /// not a postcode.
    fn normalise(input: &str) -> Option<String> {
        let parts: Vec<&str> = input.split_whitespace().collect();
        let compact = match parts.as_slice() {
            [joined] => joined.to_ascii_uppercase(),
            // With a space, it must fall between outward and inward codes.
            [outward, inward] if inward.len() == 3 => {
                format!("{outward}{inward}").to_ascii_uppercase()
            }
            _ => return None,
        };
        if !compact.is_ascii() || !(5..=7).contains(&compact.len()) {
            return None;
        }
        // The inward code is always the last three characters.
        let (outward, inward) = compact.split_at(compact.len() - 3);
        if outward == "GIR" && inward == "0AA" {
            return Some(String::from("GIR 0AA"));
        }
        if is_outward_code(outward.as_bytes()) && is_inward_code(inward.as_bytes()) {
            Some(format!("{outward} {inward}"))
        } else {
            None
        }
    }
}

string_identifier!(Postcode);

/// Letters never used first in a postcode area (Q, V, X).
fn is_postcode_first_letter(c: u8) -> bool {
    c.is_ascii_uppercase() && !b"QVX".contains(&c)
}

/// Letters never used second in a postcode area (I, J, Z).
fn is_postcode_second_letter(c: u8) -> bool {
    c.is_ascii_uppercase() && !b"IJZ".contains(&c)
}

/// Checks an upper-case outward code against the six shapes A9, A99, AA9,
/// AA99, A9A and AA9A, with the standard letter restrictions for each place.
fn is_outward_code(b: &[u8]) -> bool {
    let digit = |c: &u8| c.is_ascii_digit();
    match b {
        // A9, A99
        [a, d] => is_postcode_first_letter(*a) && digit(d),
        [a, d1, d2] if digit(d1) && digit(d2) => is_postcode_first_letter(*a),
        // A9A: only some letters may end a district like W1A.
        [a, d, l] if digit(d) => is_postcode_first_letter(*a) && b"ABCDEFGHJKPSTUW".contains(l),
        // AA9
        [a1, a2, d] => is_postcode_first_letter(*a1) && is_postcode_second_letter(*a2) && digit(d),
        // AA99
        [a1, a2, d1, d2] if digit(d2) => {
            is_postcode_first_letter(*a1) && is_postcode_second_letter(*a2) && digit(d1)
        }
        // AA9A: only some letters may end a district like SW1A.
        [a1, a2, d, l] => {
            is_postcode_first_letter(*a1)
                && is_postcode_second_letter(*a2)
                && digit(d)
                && b"ABEHMNPRVWXY".contains(l)
        }
        _ => false,
    }
}

/// Checks an upper-case inward code: a digit then two letters, never C, I, K,
/// M, O or V (they are not used in inward codes).
fn is_inward_code(b: &[u8]) -> bool {
    let inward_letter = |c: &u8| c.is_ascii_uppercase() && !b"CIKMOV".contains(c);
    matches!(b, [d, l1, l2] if d.is_ascii_digit() && inward_letter(l1) && inward_letter(l2))
}

/// The three-letter code of a prison or immigration removal centre, such as
/// `MDI`. Stored upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EstablishmentCode(String);

impl EstablishmentCode {
    /// Checks and normalises an establishment code: exactly three ASCII
    /// letters once surrounding whitespace is trimmed, stored upper case.
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        let candidate = input.trim().to_ascii_uppercase();
        if candidate.len() == 3 && candidate.bytes().all(|c| c.is_ascii_uppercase()) {
            Ok(Self(candidate))
        } else {
            Err(IdentifierError::EstablishmentCode { got: echo(input) })
        }
    }
}

string_identifier!(EstablishmentCode);

/// The name a member of staff signs in with: 3 to 64 characters of lower-case
/// ASCII letters, digits, `.`, `-` and `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StaffUsername(String);

impl StaffUsername {
    /// Shortest allowed username, in characters.
    pub const MIN_LENGTH: usize = 3;
    /// Longest allowed username, in characters.
    pub const MAX_LENGTH: usize = 64;

    /// Checks and normalises a staff username: surrounding whitespace is
    /// trimmed and ASCII letters are lower-cased, so `J.Smith` and `j.smith`
    /// are the same user.
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        let candidate = input.trim().to_ascii_lowercase();
        let length = candidate.chars().count();
        if !(Self::MIN_LENGTH..=Self::MAX_LENGTH).contains(&length) {
            return Err(IdentifierError::StaffUsernameLength {
                length,
                got: echo(input),
            });
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c);
        if candidate.chars().all(allowed) {
            Ok(Self(candidate))
        } else {
            Err(IdentifierError::StaffUsernameCharacters { got: echo(input) })
        }
    }
}

string_identifier!(StaffUsername);

#[cfg(test)]
mod tests {
    use super::*;

    // --- prison numbers ---

    #[test]
    fn prison_number_accepts_canonical_form() {
        let n = PrisonNumber::parse("A1234BC").unwrap();
        assert_eq!(n.as_str(), "A1234BC");
    }

    #[test]
    fn prison_number_lower_case_is_accepted_and_upper_cased() {
        let n = PrisonNumber::parse("a1234bc").unwrap();
        assert_eq!(n.as_str(), "A1234BC");
    }

    #[test]
    fn prison_number_surrounding_whitespace_is_trimmed() {
        let n = PrisonNumber::parse("  g5678hj\n").unwrap();
        assert_eq!(n.as_str(), "G5678HJ");
    }

    #[test]
    fn prison_number_too_short_is_rejected() {
        assert!(PrisonNumber::parse("A123BC").is_err());
    }

    #[test]
    fn prison_number_too_long_is_rejected() {
        assert!(PrisonNumber::parse("A12345BC").is_err());
    }

    #[test]
    fn prison_number_with_digits_in_wrong_place_is_rejected() {
        assert!(PrisonNumber::parse("12345BC").is_err());
        assert!(PrisonNumber::parse("A1234B5").is_err());
        assert!(PrisonNumber::parse("AB234BC").is_err());
    }

    #[test]
    fn prison_number_empty_is_rejected() {
        assert!(PrisonNumber::parse("").is_err());
        assert!(PrisonNumber::parse("   ").is_err());
    }

    #[test]
    fn prison_number_with_inner_spaces_is_rejected() {
        assert!(PrisonNumber::parse("A 1234 BC").is_err());
        assert!(PrisonNumber::parse("A1234 BC").is_err());
    }

    #[test]
    fn prison_number_with_non_ascii_is_rejected() {
        assert!(PrisonNumber::parse("Á1234BC").is_err());
        assert!(PrisonNumber::parse("A１234BC").is_err());
    }

    #[test]
    fn prison_number_error_names_the_rule_and_echoes_input() {
        let err = PrisonNumber::parse("A12").unwrap_err();
        assert_eq!(
            err.to_string(),
            "prison number must be one letter, four digits and two letters, like A1234BC (got \"A12\")"
        );
    }

    #[test]
    fn error_echo_is_cut_to_forty_characters() {
        let long = "x".repeat(100);
        let err = PrisonNumber::parse(&long).unwrap_err();
        assert_eq!(
            err,
            IdentifierError::PrisonNumber {
                got: format!("{}…", "x".repeat(40))
            }
        );
    }

    #[test]
    fn error_echo_cut_does_not_split_multibyte_characters() {
        let long = "é".repeat(50);
        let err = PrisonNumber::parse(&long).unwrap_err();
        assert_eq!(
            err,
            IdentifierError::PrisonNumber {
                got: format!("{}…", "é".repeat(40))
            }
        );
    }

    #[test]
    fn prison_number_displays_as_its_text() {
        let n = PrisonNumber::parse("a1234bc").unwrap();
        assert_eq!(n.to_string(), "A1234BC");
    }

    #[test]
    fn prison_number_serialises_as_a_string() {
        let n = PrisonNumber::parse("A1234BC").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"A1234BC\"");
    }

    #[test]
    fn prison_number_deserialising_normalises() {
        let n: PrisonNumber = serde_json::from_str("\"a1234bc\"").unwrap();
        assert_eq!(n.as_str(), "A1234BC");
    }

    #[test]
    fn prison_number_deserialising_rejects_bad_value() {
        let err = serde_json::from_str::<PrisonNumber>("\"1234ABC\"").unwrap_err();
        assert!(err.to_string().contains("prison number must be"), "{err}");
    }

    #[test]
    fn prison_number_parses_via_from_str() {
        let n: PrisonNumber = "a1234bc".parse().unwrap();
        assert_eq!(n.as_str(), "A1234BC");
    }

    // --- postcodes ---

    fn postcode(s: &str) -> String {
        Postcode::parse(s).unwrap().as_str().to_owned()
    }

    #[test]
    fn postcode_accepts_a9_outward() {
        assert_eq!(postcode("M1 1AE"), "M1 1AE");
    }

    #[test]
    fn postcode_accepts_a99_outward() {
        assert_eq!(postcode("M60 1NW"), "M60 1NW");
    }

    #[test]
    fn postcode_accepts_aa9_outward() {
        assert_eq!(postcode("CR2 6XH"), "CR2 6XH");
    }

    #[test]
    fn postcode_accepts_aa99_outward() {
        assert_eq!(postcode("DN55 1PT"), "DN55 1PT");
    }

    #[test]
    fn postcode_accepts_a9a_outward() {
        assert_eq!(postcode("W1A 1HQ"), "W1A 1HQ");
    }

    #[test]
    fn postcode_accepts_aa9a_outward() {
        assert_eq!(postcode("EC1A 1BB"), "EC1A 1BB");
    }

    #[test]
    fn postcode_accepts_gir_0aa() {
        assert_eq!(postcode("gir0aa"), "GIR 0AA");
    }

    #[test]
    fn postcode_lower_case_is_upper_cased() {
        assert_eq!(postcode("me14 1xq"), "ME14 1XQ");
    }

    #[test]
    fn postcode_missing_space_is_inserted() {
        assert_eq!(postcode("CT11AA"), "CT1 1AA");
    }

    #[test]
    fn postcode_extra_spaces_are_collapsed() {
        assert_eq!(postcode("  ME14   1XQ "), "ME14 1XQ");
    }

    #[test]
    fn postcode_outward_returns_district() {
        let p = Postcode::parse("me141xq").unwrap();
        assert_eq!(p.outward(), "ME14");
    }

    #[test]
    fn postcode_inward_returns_sector_and_unit() {
        let p = Postcode::parse("me141xq").unwrap();
        assert_eq!(p.inward(), "1XQ");
    }

    #[test]
    fn postcode_empty_is_rejected() {
        assert!(Postcode::parse("").is_err());
        assert!(Postcode::parse("  ").is_err());
    }

    #[test]
    fn postcode_without_inward_code_is_rejected() {
        assert!(Postcode::parse("ME14").is_err());
    }

    #[test]
    fn postcode_too_long_is_rejected() {
        assert!(Postcode::parse("ME145 1XQ").is_err());
    }

    #[test]
    fn postcode_with_space_in_wrong_place_is_rejected() {
        assert!(Postcode::parse("ME1 41XQ").is_err());
        assert!(Postcode::parse("M E14 1XQ").is_err());
    }

    #[test]
    fn postcode_with_bad_inward_shape_is_rejected() {
        assert!(Postcode::parse("ME14 XQ1").is_err());
        assert!(Postcode::parse("ME14 11Q").is_err());
    }

    #[test]
    fn postcode_starting_with_digit_is_rejected() {
        assert!(Postcode::parse("1E14 1XQ").is_err());
    }

    #[test]
    fn postcode_with_unused_letters_is_rejected() {
        // Q is never first, Z never second, C never in the inward code,
        // and I never ends an A9A district.
        assert!(Postcode::parse("QE14 1XQ").is_err());
        assert!(Postcode::parse("MZ14 1XQ").is_err());
        assert!(Postcode::parse("ME14 1CQ").is_err());
        assert!(Postcode::parse("W1I 1HQ").is_err());
    }

    #[test]
    fn postcode_with_punctuation_is_rejected() {
        assert!(Postcode::parse("ME14-1XQ").is_err());
    }

    #[test]
    fn postcode_with_non_ascii_is_rejected() {
        assert!(Postcode::parse("MÉ14 1XQ").is_err());
        assert!(Postcode::parse("ÉÉÉ").is_err());
    }

    #[test]
    fn postcode_serde_round_trip_keeps_normalised_form() {
        let p = Postcode::parse("ct11aa").unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, "\"CT1 1AA\"");
        assert_eq!(serde_json::from_str::<Postcode>(&json).unwrap(), p);
    }

    #[test]
    fn postcode_deserialising_rejects_bad_value() {
        assert!(serde_json::from_str::<Postcode>("\"NOT A POSTCODE\"").is_err());
    }

    // --- establishment codes ---

    #[test]
    fn establishment_code_is_upper_cased() {
        assert_eq!(EstablishmentCode::parse("mdi").unwrap().as_str(), "MDI");
    }

    #[test]
    fn establishment_code_two_or_four_letters_is_rejected() {
        assert!(EstablishmentCode::parse("MD").is_err());
        assert!(EstablishmentCode::parse("MDIX").is_err());
    }

    #[test]
    fn establishment_code_with_digit_is_rejected() {
        assert!(EstablishmentCode::parse("MD1").is_err());
    }

    #[test]
    fn establishment_code_with_non_ascii_letter_is_rejected() {
        assert!(EstablishmentCode::parse("MDÉ").is_err());
    }

    #[test]
    fn establishment_code_error_message_names_the_rule() {
        let err = EstablishmentCode::parse("M-D").unwrap_err();
        assert_eq!(
            err.to_string(),
            "establishment code must be exactly three letters, like MDI (got \"M-D\")"
        );
    }

    #[test]
    fn establishment_code_serde_round_trip() {
        let code = EstablishmentCode::parse("SWI").unwrap();
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, "\"SWI\"");
        assert_eq!(
            serde_json::from_str::<EstablishmentCode>(&json).unwrap(),
            code
        );
    }

    #[test]
    fn establishment_code_deserialising_rejects_bad_value() {
        assert!(serde_json::from_str::<EstablishmentCode>("\"M1\"").is_err());
    }

    // --- staff usernames ---

    #[test]
    fn staff_username_is_trimmed_and_lower_cased() {
        let u = StaffUsername::parse("  J.Smith_2-a ").unwrap();
        assert_eq!(u.as_str(), "j.smith_2-a");
    }

    #[test]
    fn staff_username_of_three_characters_is_accepted() {
        assert!(StaffUsername::parse("abc").is_ok());
    }

    #[test]
    fn staff_username_of_two_characters_is_rejected_for_length() {
        assert!(matches!(
            StaffUsername::parse("ab"),
            Err(IdentifierError::StaffUsernameLength { length: 2, .. })
        ));
    }

    #[test]
    fn staff_username_of_sixty_four_characters_is_accepted() {
        assert!(StaffUsername::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn staff_username_of_sixty_five_characters_is_rejected_for_length() {
        assert!(matches!(
            StaffUsername::parse(&"a".repeat(65)),
            Err(IdentifierError::StaffUsernameLength { length: 65, .. })
        ));
    }

    #[test]
    fn staff_username_with_disallowed_character_is_rejected() {
        for bad in ["j smith", "j@smith", "jsmith!", "jsmïth", "j/smith"] {
            assert!(
                matches!(
                    StaffUsername::parse(bad),
                    Err(IdentifierError::StaffUsernameCharacters { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn staff_username_serde_round_trip() {
        let u = StaffUsername::parse("keyworker.one").unwrap();
        let json = serde_json::to_string(&u).unwrap();
        assert_eq!(json, "\"keyworker.one\"");
        assert_eq!(serde_json::from_str::<StaffUsername>(&json).unwrap(), u);
    }

    #[test]
    fn staff_username_deserialising_rejects_bad_value() {
        assert!(serde_json::from_str::<StaffUsername>("\"a b\"").is_err());
    }

    #[test]
    fn identifier_deserialising_rejects_non_string() {
        assert!(serde_json::from_str::<PrisonNumber>("1234").is_err());
        assert!(serde_json::from_str::<Postcode>("null").is_err());
    }
}
