//! The report as tokens, with offsets back into the text as sent.
//!
//! Matching works on NFC-normalised, lower-cased tokens (so decomposed
//! Vietnamese from PDFs matches the lexicon), but every offset handed out is
//! counted in Unicode scalar values of the *original* text, and every quote
//! is cut from the original, so the client can highlight exactly what it sent.

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::UnicodeNormalization;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A run of letters.
    Word,
    /// Digits, with `.` or `,` allowed between digits (`27.701`, `975,9`).
    Number,
    /// Any other single non-space character.
    Punct(char),
    /// A line break: reports put headings and captions on lines of their own.
    Break,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub kind: Kind,
    /// Lower-cased, NFC text (empty for a break).
    pub text: String,
    /// Whether the word is written in capitals in the source (`NQ`, `TW`).
    pub upper: bool,
    /// Whether the word starts with a capital (a name: "Số 18 Hoàng Diệu").
    pub capital: bool,
    /// Offsets in the normalised characters.
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn is_word(&self, word: &str) -> bool {
        self.kind == Kind::Word && self.text == word
    }

    pub fn is_punct(&self, c: char) -> bool {
        self.kind == Kind::Punct(c)
    }

    /// A year as reports write it: four digits in 1900..=2999.
    pub fn year(&self) -> Option<i32> {
        if self.kind != Kind::Number || self.text.len() != 4 {
            return None;
        }
        self.text.parse().ok().filter(|y| (1900..=2999).contains(y))
    }

    /// A small plain integer (no separators), such as a month or a quarter.
    pub fn small(&self, max: u32) -> Option<u32> {
        if self.kind != Kind::Number || self.text.len() > 2 {
            return None;
        }
        self.text.parse().ok().filter(|n| (1..=max).contains(n))
    }
}

pub struct Text<'a> {
    original: &'a str,
    /// Byte offset of every original character, plus the length at the end.
    original_bytes: Vec<usize>,
    /// For every normalised character, the index of the original character it came from.
    origin: Vec<usize>,
    pub tokens: Vec<Token>,
    /// For every token, the index of the first token of its sentence.
    pub sentence_start: Vec<usize>,
    /// For every token, the index of the first token of its clause (`;` and `:` end clauses).
    pub clause_start: Vec<usize>,
}

/// Ends a sentence.
fn ends_sentence(kind: Kind) -> bool {
    matches!(kind, Kind::Break | Kind::Punct('.' | '!' | '?' | '…'))
}

/// Ends a clause inside a sentence.
fn ends_clause(kind: Kind) -> bool {
    ends_sentence(kind) || matches!(kind, Kind::Punct(';' | ':'))
}

impl<'a> Text<'a> {
    pub fn new(original: &'a str) -> Self {
        let mut original_bytes: Vec<usize> = original.char_indices().map(|(at, _)| at).collect();
        let original_len = original_bytes.len();
        original_bytes.push(original.len());

        // Normalise one base character with its combining marks at a time, so
        // each normalised character knows the original character it came from.
        let mut normalised: Vec<char> = Vec::with_capacity(original_len);
        let mut origin: Vec<usize> = Vec::with_capacity(original_len);
        let chars: Vec<char> = original.chars().collect();
        let mut at = 0;
        while at < chars.len() {
            let mut end = at + 1;
            while end < chars.len() && canonical_combining_class(chars[end]) != 0 {
                end += 1;
            }
            if end == at + 1 && chars[at].is_ascii() {
                normalised.push(chars[at]);
                origin.push(at);
            } else {
                for c in chars[at..end].iter().copied().nfc() {
                    normalised.push(c);
                    origin.push(at);
                }
            }
            at = end;
        }

        let tokens = tokenise(&normalised);
        let mut sentence_start = Vec::with_capacity(tokens.len());
        let mut clause_start = Vec::with_capacity(tokens.len());
        let (mut sentence, mut clause) = (0, 0);
        for (index, token) in tokens.iter().enumerate() {
            sentence_start.push(sentence);
            clause_start.push(clause);
            if ends_sentence(token.kind) {
                sentence = index + 1;
            }
            if ends_clause(token.kind) {
                clause = index + 1;
            }
        }
        Self {
            original,
            original_bytes,
            origin,
            tokens,
            sentence_start,
            clause_start,
        }
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// The span of tokens `first..=last` in original characters, `[start, end)`.
    pub fn span(&self, first: usize, last: usize) -> (usize, usize) {
        let start = self.origin[self.tokens[first].start];
        let end_normalised = self.tokens[last].end;
        let end = match self.origin.get(end_normalised) {
            Some(&next) => next,
            None => self.original_bytes.len() - 1,
        };
        (start, end.max(start))
    }

    /// The original text of tokens `first..=last`, verbatim.
    pub fn quote(&self, first: usize, last: usize) -> String {
        let (start, end) = self.span(first, last);
        self.original[self.original_bytes[start]..self.original_bytes[end]].to_owned()
    }

    /// Whether tokens `at..` read as the words of `phrase` (single spaces).
    pub fn words_at(&self, at: usize, phrase: &str) -> bool {
        let mut index = at;
        for word in phrase.split(' ') {
            match self.tokens.get(index) {
                Some(token) if token.kind == Kind::Word && token.text == word => index += 1,
                Some(token)
                    if word.len() == 1 && token.is_punct(word.chars().next().unwrap_or(' ')) =>
                {
                    index += 1
                }
                _ => return false,
            }
        }
        true
    }

    /// Whether tokens ending just before `end` (exclusive) read as `phrase`.
    pub fn words_before(&self, end: usize, phrase: &str) -> bool {
        let count = phrase.split(' ').count();
        end >= count && self.words_at(end - count, phrase)
    }

    /// The first of `phrases` that tokens `at..` read as, with its length in tokens.
    pub fn first_phrase_at<'p>(&self, at: usize, phrases: &[&'p str]) -> Option<(&'p str, usize)> {
        phrases
            .iter()
            .find(|phrase| self.words_at(at, phrase))
            .map(|phrase| (*phrase, phrase.split(' ').count()))
    }
}

fn tokenise(chars: &[char]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        if matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}') {
            if tokens.last().map(|t: &Token| t.kind) != Some(Kind::Break) {
                tokens.push(Token {
                    kind: Kind::Break,
                    text: String::new(),
                    upper: false,
                    capital: false,
                    start: at,
                    end: at + 1,
                });
            }
            at += 1;
        } else if c.is_whitespace() {
            at += 1;
        } else if c.is_ascii_digit() {
            let mut end = at + 1;
            loop {
                while end < chars.len() && chars[end].is_ascii_digit() {
                    end += 1;
                }
                // A separator belongs to the number only between digits.
                if end + 1 < chars.len()
                    && matches!(chars[end], '.' | ',')
                    && chars[end + 1].is_ascii_digit()
                {
                    end += 1;
                } else {
                    break;
                }
            }
            tokens.push(Token {
                kind: Kind::Number,
                text: chars[at..end].iter().collect(),
                upper: false,
                capital: false,
                start: at,
                end,
            });
            at = end;
        } else if c.is_alphabetic() {
            let mut end = at + 1;
            while end < chars.len() && chars[end].is_alphabetic() {
                end += 1;
            }
            let word: String = chars[at..end].iter().collect();
            let lower = word.to_lowercase();
            tokens.push(Token {
                kind: Kind::Word,
                upper: lower != word && word.chars().all(|c| !c.is_lowercase()),
                capital: c.is_uppercase(),
                text: lower,
                start: at,
                end,
            });
            at = end;
        } else {
            // Non-breaking and other odd spaces are whitespace above; dashes
            // are told apart by the recognisers.
            tokens.push(Token {
                kind: Kind::Punct(c),
                text: c.to_string(),
                upper: false,
                capital: false,
                start: at,
                end: at + 1,
            });
            at += 1;
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_separators_but_not_a_full_stop() {
        let text = Text::new("Doanh thu 27.701 tỷ đồng, tăng 7,7%. Năm 2021.");
        let numbers: Vec<&str> = text
            .tokens
            .iter()
            .filter(|t| t.kind == Kind::Number)
            .map(|t| t.text.as_str())
            .collect();
        assert_eq!(numbers, ["27.701", "7,7", "2021"]);
    }

    #[test]
    fn offsets_count_characters_of_the_text_as_sent() {
        // "ư" + combining hook, as NFD text from a PDF carries it.
        let decomposed = "Lợi nhuận đạt 5 tỷ đồng".nfd().collect::<String>();
        let text = Text::new(&decomposed);
        let five = text.tokens.iter().position(|t| t.text == "5").unwrap();
        let (start, end) = text.span(five, five);
        let chars: Vec<char> = decomposed.chars().collect();
        assert_eq!(chars[start..end].iter().collect::<String>(), "5");
        assert!(text.words_at(0, "lợi nhuận đạt"));
        assert_eq!(text.quote(0, 1), "Lợi nhuận".nfd().collect::<String>());
    }

    #[test]
    fn sentences_and_clauses() {
        let text = Text::new("A 1; b 2. C 3\nD");
        let starts: Vec<(usize, usize)> = (0..text.len())
            .map(|i| (text.sentence_start[i], text.clause_start[i]))
            .collect();
        // A 1 ; b 2 . C 3 \n D
        assert_eq!(starts[3], (0, 3));
        assert_eq!(starts[6], (6, 6));
        assert_eq!(starts[9], (9, 9));
    }

    #[test]
    fn capitals_are_remembered() {
        let text = Text::new("01-NQ/TU Covid");
        assert!(text.tokens[2].upper);
        assert!(!text.tokens[5].upper);
    }
}
