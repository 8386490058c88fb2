//! The English analyzer shared by the index and the query side, and the memo that makes
//! it fast: each thread remembers the term it made of every word it has seen.

use std::cell::RefCell;

use rustc_hash::{FxBuildHasher, FxHashMap};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer,
    Stemmer, StopWordFilter, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};

/// The analyzer for titles, sections and bodies: words, lowercased, folded to ASCII,
/// English stop words dropped, Porter-stemmed. Changing it changes every term in the
/// index, so bump [`crate::index::INDEX_FORMAT`] with it.
pub fn english_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(MemoizedNormalizer)
        .build()
}

/// What [`MemoizedNormalizer`] does to one word, with tantivy's own filters.
fn word_normalizer() -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::new(Language::English).expect("tantivy ships English stop words"))
        .filter(Stemmer::new(Language::English))
        .build()
}

/// Words remembered per thread before the memo starts afresh: more than the distinct
/// words of the public evaluation sets, a few megabytes at most.
const MAX_REMEMBERED_WORDS: usize = 100_000;

thread_local! {
    /// Word as written → its term, or `None` for a stop word. Per thread rather than per
    /// analyzer: tantivy and the query side clone analyzers for every segment, snippet and
    /// question, and a memo that outlives the clones is what makes it pay on the query
    /// side, where each answer analyzes a few passages. No locks: a thread only ever
    /// reads its own.
    static MEMO: RefCell<FxHashMap<String, Option<String>>> =
        const { RefCell::new(FxHashMap::with_hasher(FxBuildHasher)) };
}

/// Lowercasing, ASCII folding, stop-word removal and English stemming of each word, as
/// tantivy's filters do them, remembered word by word: text repeats its words, and
/// stemming alone was most of the cost of indexing.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoizedNormalizer;

impl TokenFilter for MemoizedNormalizer {
    type Tokenizer<T: Tokenizer> = MemoizedNormalizerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> MemoizedNormalizerFilter<T> {
        MemoizedNormalizerFilter { inner: tokenizer }
    }
}

/// The tokenizer [`MemoizedNormalizer`] wraps around the one before it. Holds nothing
/// but the tokenizer before it, so cloning the analyzer (once per question, sentence or
/// snippet on the query side) costs one allocation.
#[derive(Clone)]
pub struct MemoizedNormalizerFilter<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for MemoizedNormalizerFilter<T> {
    type TokenStream<'a> = MemoizedNormalizerStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        MemoizedNormalizerStream {
            tail: self.inner.token_stream(text),
        }
    }
}

/// Token stream of [`MemoizedNormalizerFilter`].
pub struct MemoizedNormalizerStream<T> {
    tail: T,
}

/// The term of a word the memo has not seen, made by tantivy's filters.
fn normalize(word: &str) -> Option<String> {
    thread_local! {
        static NORMALIZER: RefCell<TextAnalyzer> = RefCell::new(word_normalizer());
    }
    NORMALIZER.with_borrow_mut(|normalizer| {
        let mut stream = normalizer.token_stream(word);
        stream.next().map(|token| token.text.clone())
    })
}

impl<T: TokenStream> TokenStream for MemoizedNormalizerStream<T> {
    fn advance(&mut self) -> bool {
        MEMO.with_borrow_mut(|memo| {
            while self.tail.advance() {
                let token = self.tail.token_mut();
                let term = match memo.get(token.text.as_str()) {
                    Some(term) => term.as_deref(),
                    None => {
                        let term = normalize(&token.text);
                        if memo.len() >= MAX_REMEMBERED_WORDS {
                            memo.clear();
                        }
                        memo.entry(token.text.clone()).or_insert(term).as_deref()
                    }
                };
                if let Some(term) = term {
                    token.text.clear();
                    token.text.push_str(term);
                    return true;
                }
            }
            false
        })
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize)> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push((token.text.clone(), token.position, token.offset_from));
        }
        out
    }

    /// The chain of tantivy filters the memo stands for.
    fn unmemoized() -> TextAnalyzer {
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .filter(StopWordFilter::new(Language::English).unwrap())
            .filter(Stemmer::new(Language::English))
            .build()
    }

    #[test]
    fn memoized_terms_positions_and_offsets_equal_tantivys_filters() {
        let text = "The Running stations DOCKED; the station docks running modules. \
                    Agencies agreed, AGREEING to agreements: Zürich, Ørsted and Ĉapek. \
                    This is it, and THE end";
        let mut plain = unmemoized();
        let mut memoized = english_analyzer();
        // Twice through the same instance: the second pass is served from the memo.
        for _ in 0..2 {
            assert_eq!(tokens(&mut memoized, text), tokens(&mut plain, text));
        }
        let words: Vec<String> = tokens(&mut memoized, "The docking stations")
            .into_iter()
            .map(|(term, _, _)| term)
            .collect();
        assert_eq!(words, ["dock", "station"]);
    }

    #[test]
    fn a_full_memo_starts_afresh_and_keeps_giving_the_same_terms() {
        let text: String = (0..MAX_REMEMBERED_WORDS + 10)
            .map(|n| format!("w{n}ing "))
            .collect();
        let mut memoized = english_analyzer();
        let first = tokens(&mut memoized, &text);
        assert_eq!(first.len(), MAX_REMEMBERED_WORDS + 10);
        assert_eq!(first, tokens(&mut unmemoized(), &text));
        assert_eq!(tokens(&mut memoized, &text), first);
    }
}
