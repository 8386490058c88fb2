//! Runs a [`QueryPlan`] over the index term at a time: each word's postings are read
//! once and its BM25 added into one score per passage, and the proximity pairs, which
//! need positions, are scored only on the passages that can still reach the top. The
//! passages and scores are those of tantivy running [`QueryPlan::to_query`] (the tests
//! check it), in a fraction of the time: tantivy's union of dozens of scorers weighs
//! every matching passage through a heap of scorers, and cannot skip any (a disjunction
//! max per word is not something block-max WAND can bound).

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::{
    Bm25Weight, BoostQuery, DisjunctionMaxQuery, EnableScoring, Query, Scorer, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{
    DocAddress, DocId, DocSet, Score, Searcher, SeekDangerResult, SegmentReader, Term, TERMINATED,
};

use crate::query::{Clause, QueryPlan};

/// A passage that matched some clause, with what it scored so far.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    /// Its score without the pairs.
    partial: Score,
    /// The most it can score with them.
    bound: Score,
    /// Which question words its body holds, by their place in the question (bit i for
    /// word i): a pair can only be found in a body holding both of its words.
    in_body: u64,
    segment: u32,
    doc: DocId,
}

/// The `limit` best passages for `plan`, best first; equal scores go by address.
///
/// # Errors
/// When tantivy cannot read a posting list or a field's norms.
pub fn top_passages(
    searcher: &Searcher,
    plan: &QueryPlan,
    body: Field,
    limit: usize,
) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let scoring = EnableScoring::enabled_from_searcher(searcher);
    let words = plan
        .clauses
        .iter()
        .filter(|clause| clause.tokens.len() == 1)
        .map(|clause| WordWeights::new(searcher, clause, body))
        .collect::<tantivy::Result<Vec<_>>>()?;
    let phrases = plan
        .clauses
        .iter()
        .filter(|clause| clause.tokens.len() > 1)
        .map(|clause| phrase_clause(clause, plan.tie_breaker).weight(scoring))
        .collect::<tantivy::Result<Vec<_>>>()?;
    let pairs = plan
        .pairs
        .iter()
        .map(|pair| {
            let query = BoostQuery::new(Box::new(pair.phrase(body)), pair.boost);
            let terms = [
                Term::from_field_text(body, &pair.tokens.0),
                Term::from_field_text(body, &pair.tokens.1),
            ];
            let most = Bm25Weight::for_terms(searcher, &terms)?
                .boost_by(pair.boost)
                .max_score();
            let both = (1u64 << pair.terms.0) | (1u64 << pair.terms.1);
            Ok((query.weight(scoring)?, both, most))
        })
        .collect::<tantivy::Result<Vec<_>>>()?;

    let mut pool: Vec<Candidate> = Vec::new();
    let mut scores: Vec<Score> = Vec::new();
    let mut in_body: Vec<u64> = Vec::new();
    for (segment, reader) in searcher.segment_readers().iter().enumerate() {
        let max_doc = reader.max_doc() as usize;
        scores.clear();
        scores.resize(max_doc, 0.0);
        in_body.clear();
        in_body.resize(if pairs.is_empty() { 0 } else { max_doc }, 0);
        for word in &words {
            word.add(reader, plan.tie_breaker, &mut scores, &mut in_body)?;
        }
        for phrase in &phrases {
            let mut scorer = phrase.scorer(reader, 1.0)?;
            let mut doc = scorer.doc();
            while doc != TERMINATED {
                scores[doc as usize] += scorer.score();
                doc = scorer.advance();
            }
        }
        let alive = reader.alive_bitset();
        for (doc, &partial) in scores.iter().enumerate() {
            let doc = doc as DocId;
            if partial <= 0.0 || alive.is_some_and(|alive| !alive.is_alive(doc)) {
                continue;
            }
            let held = in_body.get(doc as usize).copied().unwrap_or(0);
            let bound = partial
                + pairs
                    .iter()
                    .filter(|(_, both, _)| held & both == *both)
                    .map(|(_, _, most)| most)
                    .sum::<Score>();
            pool.push(Candidate {
                partial,
                bound,
                in_body: held,
                segment: segment as u32,
                doc,
            });
        }
    }

    // Score the pairs on the candidates with the highest bounds, a batch at a time,
    // until no candidate left can reach the `limit`-th score found.
    let mut scored: Vec<(Score, DocAddress)> = Vec::new();
    let mut rest: &mut [Candidate] = &mut pool;
    let batch = if pairs.is_empty() {
        limit
    } else {
        limit * 2
    };
    while !rest.is_empty() {
        let take = batch.min(rest.len());
        if take < rest.len() {
            rest.select_nth_unstable_by(take - 1, |a, b| b.bound.total_cmp(&a.bound));
        }
        let (chosen, others) = std::mem::take(&mut rest).split_at_mut(take);
        rest = others;
        chosen.sort_unstable_by_key(|c| (c.segment, c.doc));
        score_pairs(searcher, &pairs, chosen, &mut scored)?;
        if scored.len() >= limit {
            let nth = limit - 1;
            scored.select_nth_unstable_by(nth, |a, b| b.0.total_cmp(&a.0));
            let threshold = scored[nth].0;
            scored.truncate(limit);
            // Equal to the threshold could still tie into the top: go on while it can.
            if rest.iter().all(|c| c.bound < threshold) {
                break;
            }
        }
    }
    scored.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.truncate(limit);
    Ok(scored)
}

/// Adds the pairs' scores to candidates sorted by address and moves them to `scored`.
fn score_pairs(
    searcher: &Searcher,
    pairs: &[(Box<dyn Weight>, u64, Score)],
    chosen: &[Candidate],
    scored: &mut Vec<(Score, DocAddress)>,
) -> tantivy::Result<()> {
    for segment in chosen.chunk_by(|a, b| a.segment == b.segment) {
        let segment_ord = segment[0].segment;
        let reader = searcher.segment_reader(segment_ord);
        let mut totals: Vec<Score> = segment.iter().map(|c| c.partial).collect();
        for (weight, both, _) in pairs {
            // Positioned at each candidate in turn, never scanning on to the next match
            // in between: a sloppy phrase reads positions at every document it passes.
            let mut scorer: Option<Box<dyn Scorer>> = None;
            let mut not_before: DocId = 0;
            for (candidate, total) in segment.iter().zip(&mut totals) {
                if candidate.in_body & both != *both || candidate.doc < not_before {
                    continue;
                }
                let found = match &mut scorer {
                    Some(scorer) => scorer.seek_danger(candidate.doc),
                    None => {
                        let (found, created) = weight.scorer_danger(reader, candidate.doc, 1.0)?;
                        scorer = Some(created);
                        found
                    }
                };
                match found {
                    SeekDangerResult::Found => {
                        *total += scorer.as_mut().expect("created above").score();
                    }
                    SeekDangerResult::SeekLowerBound(TERMINATED) => break,
                    SeekDangerResult::SeekLowerBound(next) => not_before = next,
                }
            }
        }
        scored.extend(
            segment
                .iter()
                .zip(totals)
                .map(|(c, total)| (total, DocAddress::new(segment_ord, c.doc))),
        );
    }
    Ok(())
}

/// A phrase clause as tantivy scores it: a disjunction max of its fields' phrases.
fn phrase_clause(clause: &Clause, tie_breaker: f32) -> Box<dyn Query> {
    let per_field: Vec<Box<dyn Query>> = clause
        .fields
        .iter()
        .map(|&(field, boost)| {
            let terms = clause
                .tokens
                .iter()
                .map(|token| Term::from_field_text(field, token))
                .collect();
            Box::new(BoostQuery::new(
                Box::new(tantivy::query::PhraseQuery::new(terms)),
                boost,
            )) as Box<dyn Query>
        })
        .collect();
    Box::new(DisjunctionMaxQuery::with_tie_breaker(per_field, tie_breaker))
}

/// One word's BM25 weight in each field that holds it, boosted.
struct WordWeights {
    fields: Vec<(Field, Term, Bm25Weight)>,
    /// The word's bit (its place in the question) when a pair may need it: it is a
    /// question word found in bodies.
    body_bit: Option<u64>,
    body: Field,
}

impl WordWeights {
    fn new(searcher: &Searcher, clause: &Clause, body: Field) -> tantivy::Result<WordWeights> {
        let fields = clause
            .fields
            .iter()
            .map(|&(field, boost)| {
                let term = Term::from_field_text(field, &clause.tokens[0]);
                let weight = Bm25Weight::for_terms(searcher, std::slice::from_ref(&term))?;
                Ok((field, term, weight.boost_by(boost)))
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        let in_body = clause.fields.iter().any(|&(field, _)| field == body);
        Ok(WordWeights {
            fields,
            body_bit: clause
                .term
                .filter(|_| in_body)
                .map(|place| 1u64 << place),
            body,
        })
    }

    /// Adds the word's score in one segment to `scores`, and marks the bodies holding
    /// it in `in_body` (when that is not empty).
    fn add(
        &self,
        reader: &SegmentReader,
        tie_breaker: f32,
        scores: &mut [Score],
        in_body: &mut [u64],
    ) -> tantivy::Result<()> {
        let mut cursors: Vec<Cursor> = Vec::with_capacity(self.fields.len());
        for (field, term, weight) in &self.fields {
            let Some(postings) = reader
                .inverted_index(*field)?
                .read_postings(term, IndexRecordOption::WithFreqs)?
            else {
                continue;
            };
            cursors.push(Cursor {
                postings,
                norms: reader.get_fieldnorms_reader(*field)?,
                weight,
                marks: self.body_bit.is_some() && !in_body.is_empty() && *field == self.body,
            });
        }
        let bit = self.body_bit.unwrap_or(0);
        if let [cursor] = cursors.as_mut_slice() {
            // One field: no disjunction to take, the common case in large bodies.
            let mut doc = cursor.postings.doc();
            while doc != TERMINATED {
                scores[doc as usize] += cursor.score(doc);
                if cursor.marks {
                    in_body[doc as usize] |= bit;
                }
                doc = cursor.postings.advance();
            }
            return Ok(());
        }
        loop {
            let doc = cursors
                .iter()
                .map(|c| c.postings.doc())
                .min()
                .unwrap_or(TERMINATED);
            if doc == TERMINATED {
                return Ok(());
            }
            let (mut best, mut sum) = (0.0f32, 0.0f32);
            for cursor in cursors.iter_mut().filter(|c| c.postings.doc() == doc) {
                let score = cursor.score(doc);
                best = best.max(score);
                sum += score;
                if cursor.marks {
                    in_body[doc as usize] |= bit;
                }
                cursor.postings.advance();
            }
            // As tantivy's disjunction max combines them.
            scores[doc as usize] += best + (sum - best) * tie_breaker;
        }
    }
}

/// A posting list being read, with what scores it.
struct Cursor<'w> {
    postings: SegmentPostings,
    norms: FieldNormReader,
    weight: &'w Bm25Weight,
    /// Whether this is the body, whose words the pairs need to know.
    marks: bool,
}

impl Cursor<'_> {
    fn score(&self, doc: DocId) -> Score {
        self.weight
            .score(self.norms.fieldnorm_id(doc), self.postings.term_freq())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Pair;
    use proptest::prelude::*;
    use tantivy::collector::TopDocs;
    use tantivy::schema::{Schema, STRING, TEXT};
    use tantivy::{doc, Index};

    const WORDS: &[&str] = &["orbit", "moon", "probe", "launch", "crew", "dock", "solar"];

    /// Three text fields over a small vocabulary, in three segments, some passages
    /// deleted: enough for every part of a plan to score differently per passage.
    fn index(passages: &[(String, String, String)], deleted: &[usize]) -> (Index, [Field; 3]) {
        let mut schema = Schema::builder();
        let id = schema.add_text_field("id", STRING);
        let fields = [
            schema.add_text_field("title", TEXT),
            schema.add_text_field("heading", TEXT),
            schema.add_text_field("body", TEXT),
        ];
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).expect("writer");
        for (n, chunk) in passages.chunks(passages.len().div_ceil(3)).enumerate() {
            for (i, (title, heading, body)) in chunk.iter().enumerate() {
                let key = format!("{}", n * 1000 + i);
                writer
                    .add_document(doc!(id => key, fields[0] => title.as_str(),
                        fields[1] => heading.as_str(), fields[2] => body.as_str()))
                    .expect("add");
            }
            writer.commit().expect("commit");
        }
        for &d in deleted {
            let n = d % passages.len();
            let chunk = passages.len().div_ceil(3);
            let key = format!("{}", (n / chunk) * 1000 + n % chunk);
            writer.delete_term(Term::from_field_text(id, &key));
        }
        writer.commit().expect("commit");
        (index, fields)
    }

    fn text(max: usize) -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(WORDS), 0..max).prop_map(|w| w.join(" "))
    }

    /// A plan as `plan_query` makes them: each question word in a chosen set of fields
    /// with its boost, pairs of question words found in bodies, maybe a phrase.
    fn plan(body: Field, fields: [Field; 3], picks: &[(usize, u8, f32)], phrase: bool) -> QueryPlan {
        let mut plan = QueryPlan {
            tie_breaker: 0.2,
            ..QueryPlan::default()
        };
        for (place, &(word, mask, boost)) in picks.iter().enumerate() {
            let chosen: Vec<(Field, f32)> = fields
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, &field)| (field, boost))
                .collect();
            plan.clauses.push(Clause {
                tokens: vec![WORDS[word].to_string()],
                fields: chosen,
                term: Some(place),
            });
        }
        let in_body = |place: usize| picks[place].1 & 4 != 0;
        for place in 1..picks.len() {
            if in_body(place - 1) && in_body(place) && picks[place - 1].0 != picks[place].0 {
                plan.pairs.push(Pair {
                    terms: (place - 1, place),
                    tokens: (WORDS[picks[place - 1].0].into(), WORDS[picks[place].0].into()),
                    boost: 0.15,
                });
            }
        }
        if phrase {
            plan.clauses.push(Clause {
                tokens: vec!["solar".into(), "probe".into()],
                fields: vec![(fields[0], 0.4), (body, 0.4)],
                term: None,
            });
        }
        plan
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn the_same_passages_and_scores_as_tantivy(
            passages in prop::collection::vec((text(3), text(3), text(24)), 3..40),
            deleted in prop::collection::vec(0usize..40, 0..4),
            picks in prop::collection::vec((0..WORDS.len(), 1u8..8, 0.3f32..2.0), 1..5),
            phrase in any::<bool>(),
            limit in 1usize..12,
        ) {
            let (index, fields) = index(&passages, &deleted);
            let searcher = index.reader().expect("reader").searcher();
            let body = fields[2];
            let plan = plan(body, fields, &picks, phrase);
            let expected = searcher
                .search(&*plan.to_query(body), &TopDocs::with_limit(limit).order_by_score())
                .expect("search");
            let found = top_passages(&searcher, &plan, body, limit).expect("scoring");
            prop_assert_eq!(found.len(), expected.len());
            for (got, want) in found.iter().zip(&expected) {
                prop_assert!((got.0 - want.0).abs() <= 1e-4 * want.0.max(1.0), "{found:?} {expected:?}");
            }
            // Passages clearly above the last score kept must be the same ones.
            if let Some(&(last, _)) = expected.last() {
                let clear = |top: &[(Score, DocAddress)]| {
                    let mut kept: Vec<DocAddress> =
                        top.iter().filter(|(s, _)| *s > last + 1e-4).map(|&(_, a)| a).collect();
                    kept.sort();
                    kept
                };
                prop_assert_eq!(clear(&found), clear(&expected));
            }
        }
    }
}
