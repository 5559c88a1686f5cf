//! Analyzers: the `standard` analyzer of Elasticsearch (Unicode word boundaries as
//! in UAX #29, then lowercase) and the raw `keyword` analyzer, registered in tantivy
//! under the names the mapping uses.

use tantivy::tokenizer::{
    RawTokenizer, TextAnalyzer, Token, TokenStream, Tokenizer, TokenizerManager,
};
use unicode_segmentation::UnicodeSegmentation;

/// ES's `standard` tokenizer emits tokens up to 255 characters.
const MAX_TOKEN_LENGTH: usize = 255;

/// The `standard` analyzer: UAX #29 word segmentation, tokens that hold a letter or
/// digit, lowercased.
#[derive(Clone, Default)]
pub struct StandardTokenizer;

pub struct StandardTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for StandardTokenizer {
    type TokenStream<'a> = StandardTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> StandardTokenStream {
        StandardTokenStream {
            tokens: standard_tokens(text),
            next: 0,
        }
    }
}

impl TokenStream for StandardTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// Splits `text` as ES's standard analyzer does.
pub fn standard_tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    for (offset, word) in text.unicode_word_indices() {
        let mut word = word;
        if word.chars().count() > MAX_TOKEN_LENGTH {
            let end = word
                .char_indices()
                .nth(MAX_TOKEN_LENGTH)
                .map(|(i, _)| i)
                .unwrap_or(word.len());
            word = &word[..end];
        }
        let position = out.len();
        out.push(Token {
            offset_from: offset,
            offset_to: offset + word.len(),
            position,
            text: word.to_lowercase(),
            position_length: 1,
        });
    }
    out
}

/// The analyzer names searchgate registers: `standard` (also used for `default`,
/// `simple`, `english` until those get their own), and `keyword`.
pub fn tokenizer_manager() -> TokenizerManager {
    let manager = TokenizerManager::default();
    manager.register("standard", TextAnalyzer::from(StandardTokenizer));
    manager.register("keyword", TextAnalyzer::from(RawTokenizer::default()));
    manager
}

/// The analyzer for a text field's `analyzer` mapping parameter.
pub fn analyzer_name(requested: Option<&str>) -> &'static str {
    match requested {
        Some("keyword") => "keyword",
        _ => "standard",
    }
}

/// Analyzes `text` with the named analyzer into its terms.
pub fn analyze(analyzer: &str, text: &str) -> Vec<String> {
    match analyzer {
        "keyword" => vec![text.to_string()],
        _ => standard_tokens(text).into_iter().map(|t| t.text).collect(),
    }
}

/// Like [`analyze`], with positions (for phrases).
pub fn analyze_with_positions(analyzer: &str, text: &str) -> Vec<(usize, String)> {
    match analyzer {
        "keyword" => vec![(0, text.to_string())],
        _ => standard_tokens(text)
            .into_iter()
            .map(|t| (t.position, t.text))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_like_es() {
        let t: Vec<String> = analyze(
            "standard",
            "The QUICK brown-fox's 3.5 jumps, e-mail: a@b.com",
        );
        assert_eq!(
            t,
            vec!["the", "quick", "brown", "fox's", "3.5", "jumps", "e", "mail", "a", "b.com"]
        );
    }

    #[test]
    fn positions() {
        let t = analyze_with_positions("standard", "a, b c");
        assert_eq!(t, vec![(0, "a".into()), (1, "b".into()), (2, "c".into())]);
    }
}
