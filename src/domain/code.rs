//! Stable identifiers (slugs) of committees, groups, indicators and sources.

use std::fmt;

/// Why a string is not a valid code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a valid {what}: use 1 to 64 lowercase ASCII letters, digits, '-' or '_', starting with a letter or digit")]
pub struct InvalidCode {
    pub what: &'static str,
    pub input: String,
}

fn is_valid_code(input: &str) -> bool {
    let bytes = input.as_bytes();
    (1..=64).contains(&bytes.len())
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'_')
}

macro_rules! code_type {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(input: &str) -> Result<Self, InvalidCode> {
                if is_valid_code(input) {
                    Ok(Self(input.to_owned()))
                } else {
                    Err(InvalidCode { what: $what, input: input.chars().take(80).collect() })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidCode;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(code: $name) -> String {
                code.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

code_type!(
    /// Code of a committee, e.g. `haiphong-business-bloc`.
    CommitteeCode,
    "committee code"
);
code_type!(
    /// Code of a group of committees, e.g. `northern-business-blocs`.
    GroupCode,
    "group code"
);
code_type!(
    /// Code of an indicator, e.g. `revenue`.
    IndicatorCode,
    "indicator code"
);
code_type!(
    /// Code of a source document, e.g. `000_9bb696cf0f5cc08b`.
    SourceCode,
    "source code"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_slugs_and_rejects_everything_else() {
        for good in [
            "revenue",
            "haiphong-business-bloc",
            "000_9bb696cf0f5cc08b",
            "a",
            &"x".repeat(64),
        ] {
            assert_eq!(CommitteeCode::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "-lead",
            "_lead",
            "Upper",
            "có-dấu",
            "with space",
            "a/b",
            &"x".repeat(65),
        ] {
            let error = IndicatorCode::parse(bad).unwrap_err();
            assert_eq!(error.what, "indicator code");
        }
    }

    #[test]
    fn deserialising_validates() {
        let code: SourceCode = serde_json::from_str("\"004_28daa8c0953f086d\"").unwrap();
        assert_eq!(code.to_string(), "004_28daa8c0953f086d");
        assert!(serde_json::from_str::<GroupCode>("\"Bad Code\"").is_err());
    }
}
