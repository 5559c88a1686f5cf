//! The hit collector: top-K by any mix of `_score`, `_doc` and field sorts, with
//! ES's missing-value rules (`_last` by default, `_first`, or a substitute value),
//! multi-valued fields sorted by min (asc) or max (desc), `min_score`,
//! `search_after`, and the total count.
//!
//! Per segment it keeps the best candidates keyed with segment-local values
//! (string columns as term ordinals, which sort like the strings), then turns the
//! survivors' ordinals into strings so segments and indices can be merged.

use searchgate_core::model::Order;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::Weight;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

/// What a sort key reads.
#[derive(Debug, Clone)]
pub enum KeySource {
    Score,
    Doc,
    I64(String),
    F64(String),
    Bool(String),
    Str(String),
    /// A field that is unmapped in this index (`unmapped_type`): always missing.
    Missing,
}

#[derive(Debug, Clone)]
pub struct KeySpec {
    pub source: KeySource,
    pub order: Order,
    pub missing_first: bool,
    /// A substitute for missing values (`"missing": 0`).
    pub missing_value: Option<SortValue>,
}

/// A sort value, comparable across segments and indices.
#[derive(Debug, Clone, PartialEq)]
pub enum SortValue {
    Missing,
    I64(i64),
    F64(f64),
    Str(String),
    Score(f32),
    /// Global document position: (index ordinal, segment, doc).
    Doc(u64),
}

impl SortValue {
    fn cmp_same(&self, other: &SortValue) -> Ordering {
        match (self, other) {
            (SortValue::I64(a), SortValue::I64(b)) => a.cmp(b),
            (SortValue::F64(a), SortValue::F64(b)) => a.total_cmp(b),
            (SortValue::I64(a), SortValue::F64(b)) => (*a as f64).total_cmp(b),
            (SortValue::F64(a), SortValue::I64(b)) => a.total_cmp(&(*b as f64)),
            (SortValue::Str(a), SortValue::Str(b)) => a.cmp(b),
            (SortValue::Score(a), SortValue::Score(b)) => a.total_cmp(b),
            (SortValue::Doc(a), SortValue::Doc(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }
}

/// Compares two values under a spec: `Less` means `a` comes first.
pub fn compare(spec: &KeySpec, a: &SortValue, b: &SortValue) -> Ordering {
    match (a, b) {
        (SortValue::Missing, SortValue::Missing) => Ordering::Equal,
        (SortValue::Missing, _) => {
            if spec.missing_first {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (_, SortValue::Missing) => {
            if spec.missing_first {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        _ => {
            let o = a.cmp_same(b);
            if spec.order == Order::Desc {
                o.reverse()
            } else {
                o
            }
        }
    }
}

pub fn compare_keys(specs: &[KeySpec], a: &[SortValue], b: &[SortValue]) -> Ordering {
    for (i, spec) in specs.iter().enumerate() {
        let o = compare(spec, &a[i], &b[i]);
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// One collected hit.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub key: Vec<SortValue>,
    pub score: Score,
    pub doc: DocAddress,
}

#[derive(Debug, Default)]
pub struct SegmentFruit {
    pub hits: Vec<Candidate>,
    /// Matching documents counted; a lower bound when `pruned`.
    pub count: u64,
    pub max_score: Option<Score>,
    /// Whether counting stopped (at `exact_count_up_to`) to skip non-competitive
    /// documents.
    pub pruned: bool,
}

pub struct HitCollector {
    pub specs: Vec<KeySpec>,
    /// How many hits to keep (`from + size`).
    pub k: usize,
    pub min_score: Option<f32>,
    pub scoring: bool,
    pub search_after: Option<Vec<SortValue>>,
    /// Count matches exactly up to this many per segment (`track_total_hits`);
    /// past it, a score-sorted search skips documents that cannot make the top k
    /// (block-max WAND), as Elasticsearch does. `u64::MAX`: always count exactly.
    pub exact_count_up_to: u64,
}

impl HitCollector {
    /// Whether the sort is by score alone, so tantivy's pruning applies.
    fn can_prune(&self) -> bool {
        self.k > 0
            && self.exact_count_up_to != u64::MAX
            && self.min_score.is_none()
            && self.search_after.is_none()
            && matches!(
                self.specs.as_slice(),
                [KeySpec {
                    source: KeySource::Score,
                    order: Order::Desc,
                    ..
                }]
            )
    }

    /// Top k by score with exact counting up to `exact_count_up_to`, then pruning.
    fn collect_pruning(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFruit> {
        let mut heap: BinaryHeap<Reverse<ScoredDoc>> = BinaryHeap::with_capacity(self.k + 1);
        let mut count = 0u64;
        let mut max_score: Option<Score> = None;
        let limit = self.exact_count_up_to;
        let k = self.k;
        let alive = reader.alive_bitset();
        let mut threshold = Score::MIN;
        weight.for_each_pruning(Score::MIN, reader, &mut |doc, score| {
            if alive.map(|a| a.is_deleted(doc)).unwrap_or(false) {
                return threshold;
            }
            count += 1;
            max_score = Some(max_score.map_or(score, |m| m.max(score)));
            heap.push(Reverse(ScoredDoc { score, doc }));
            if heap.len() > k {
                heap.pop();
            }
            if count >= limit && heap.len() == k {
                threshold = heap.peek().map(|r| r.0.score).unwrap_or(Score::MIN);
            }
            threshold
        })?;
        let hits = heap
            .into_sorted_vec()
            .into_iter()
            .map(|Reverse(sd)| Candidate {
                key: vec![SortValue::Score(sd.score)],
                score: sd.score,
                doc: DocAddress::new(segment, sd.doc),
            })
            .collect();
        Ok(SegmentFruit {
            hits,
            count,
            max_score,
            pruned: count >= limit,
        })
    }
}

/// A hit of a score-sorted segment: better = higher score, then lower doc id.
#[derive(Clone, Copy, Debug)]
struct ScoredDoc {
    score: Score,
    doc: DocId,
}

impl PartialEq for ScoredDoc {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for ScoredDoc {}
impl PartialOrd for ScoredDoc {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ScoredDoc {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(other.doc.cmp(&self.doc))
    }
}

enum Col {
    None,
    I64(Column<i64>),
    F64(Column<f64>),
    Bool(Column<bool>),
    Str(StrColumn),
}

pub struct HitSegmentCollector {
    specs: Vec<KeySpec>,
    cols: Vec<Col>,
    k: usize,
    min_score: Option<f32>,
    search_after: Option<Vec<SortValue>>,
    segment: SegmentOrdinal,
    hits: Vec<Candidate>,
    count: u64,
    max_score: Option<Score>,
    /// Once `hits` has been cut to `k`, the worst key kept: a doc that is not
    /// better is skipped.
    worst: Option<Vec<SortValue>>,
    str_cache: String,
}

impl Collector for HitCollector {
    type Fruit = SegmentFruit;
    type Child = HitSegmentCollector;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<HitSegmentCollector> {
        let ff = reader.fast_fields();
        let mut cols = Vec::with_capacity(self.specs.len());
        for spec in &self.specs {
            cols.push(match &spec.source {
                KeySource::I64(name) => ff
                    .column_opt::<i64>(name)?
                    .map(Col::I64)
                    .unwrap_or(Col::None),
                KeySource::F64(name) => ff
                    .column_opt::<f64>(name)?
                    .map(Col::F64)
                    .unwrap_or(Col::None),
                KeySource::Bool(name) => ff
                    .column_opt::<bool>(name)?
                    .map(Col::Bool)
                    .unwrap_or(Col::None),
                KeySource::Str(name) => ff.str(name)?.map(Col::Str).unwrap_or(Col::None),
                _ => Col::None,
            });
        }
        Ok(HitSegmentCollector {
            specs: self.specs.clone(),
            cols,
            k: self.k,
            min_score: self.min_score,
            search_after: self.search_after.clone(),
            segment,
            hits: Vec::new(),
            count: 0,
            max_score: None,
            worst: None,
            str_cache: String::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scoring
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFruit> {
        if self.can_prune() {
            return self.collect_pruning(weight, segment, reader);
        }
        let mut child = self.for_segment(segment, reader)?;
        let alive = reader.alive_bitset();
        let is_alive = |doc: DocId| alive.map(|a| a.is_alive(doc)).unwrap_or(true);
        if self.scoring {
            weight.for_each(reader, &mut |doc, score| {
                if is_alive(doc) {
                    child.collect(doc, score);
                }
            })?;
        } else {
            weight.for_each_no_score(reader, &mut |docs| {
                for &doc in docs {
                    if is_alive(doc) {
                        child.collect(doc, 0.0);
                    }
                }
            })?;
        }
        Ok(child.harvest())
    }

    fn merge_fruits(&self, fruits: Vec<SegmentFruit>) -> tantivy::Result<SegmentFruit> {
        let mut all = SegmentFruit::default();
        for f in fruits {
            all.count += f.count;
            all.pruned |= f.pruned;
            all.max_score = match (all.max_score, f.max_score) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            all.hits.extend(f.hits);
        }
        sort_candidates(&self.specs, &mut all.hits);
        all.hits.truncate(self.k);
        Ok(all)
    }
}

/// Sorts by key, ties broken by document position (as ES breaks them by shard and doc).
pub fn sort_candidates(specs: &[KeySpec], hits: &mut [Candidate]) {
    hits.sort_by(|a, b| {
        compare_keys(specs, &a.key, &b.key)
            .then(a.doc.segment_ord.cmp(&b.doc.segment_ord))
            .then(a.doc.doc_id.cmp(&b.doc.doc_id))
    });
}

impl HitSegmentCollector {
    fn value(&mut self, i: usize, doc: DocId, score: Score) -> SortValue {
        let spec = &self.specs[i];
        let desc = spec.order == Order::Desc;
        let v = match (&spec.source, &self.cols[i]) {
            (KeySource::Score, _) => SortValue::Score(score),
            (KeySource::Doc, _) => SortValue::Doc(((self.segment as u64) << 32) | doc as u64),
            (_, Col::I64(c)) => pick(c.values_for_doc(doc), desc)
                .map(SortValue::I64)
                .unwrap_or(SortValue::Missing),
            (_, Col::F64(c)) => pick_f(c.values_for_doc(doc), desc)
                .map(SortValue::F64)
                .unwrap_or(SortValue::Missing),
            (_, Col::Bool(c)) => pick(c.values_for_doc(doc).map(i64::from), desc)
                .map(SortValue::I64)
                .unwrap_or(SortValue::Missing),
            (_, Col::Str(c)) => {
                // Segment-local: ordinals sort like the strings. Resolved later.
                pick(c.term_ords(doc).map(|o| o as i64), desc)
                    .map(SortValue::I64)
                    .unwrap_or(SortValue::Missing)
            }
            _ => SortValue::Missing,
        };
        if v == SortValue::Missing {
            if let Some(m) = &spec.missing_value {
                return match (&self.cols[i], m) {
                    // A substitute string cannot be compared as an ordinal.
                    (Col::Str(_), _) => SortValue::Missing,
                    _ => m.clone(),
                };
            }
        }
        v
    }

    /// Turns the segment-local string ordinals of a kept hit into strings.
    fn globalize(&mut self, key: &mut [SortValue]) {
        for (i, v) in key.iter_mut().enumerate() {
            if let (Col::Str(c), SortValue::I64(ord)) = (&self.cols[i], &*v) {
                self.str_cache.clear();
                let _ = c.ord_to_str(*ord as u64, &mut self.str_cache);
                *v = SortValue::Str(self.str_cache.clone());
            }
        }
    }

    fn has_str(&self) -> bool {
        self.cols.iter().any(|c| matches!(c, Col::Str(_)))
    }
}

/// Turns the segment-local ordinals in key position `i` of the kept hits into
/// strings, in one ordered pass over the term dictionary (each block is
/// decompressed once, not once per hit).
fn resolve_ords(col: &StrColumn, i: usize, hits: &mut [Candidate]) {
    let mut ords: Vec<u64> = hits
        .iter()
        .filter_map(|h| match h.key[i] {
            SortValue::I64(o) => Some(o as u64),
            _ => None,
        })
        .collect();
    ords.sort_unstable();
    ords.dedup();
    let mut terms: Vec<String> = Vec::with_capacity(ords.len());
    let found = col.dictionary().sorted_ords_to_term_cb(&ords, |bytes| {
        terms.push(String::from_utf8_lossy(bytes).into_owned())
    });
    if !matches!(found, Ok(true)) || terms.len() != ords.len() {
        return;
    }
    for h in hits.iter_mut() {
        if let SortValue::I64(o) = h.key[i] {
            if let Ok(pos) = ords.binary_search(&(o as u64)) {
                h.key[i] = SortValue::Str(terms[pos].clone());
            }
        }
    }
}

fn pick(values: impl Iterator<Item = i64>, desc: bool) -> Option<i64> {
    if desc {
        values.max()
    } else {
        values.min()
    }
}

fn pick_f(values: impl Iterator<Item = f64>, desc: bool) -> Option<f64> {
    values.reduce(|a, b| if (b > a) == desc { b } else { a })
}

impl SegmentCollector for HitSegmentCollector {
    type Fruit = SegmentFruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        if let Some(min) = self.min_score {
            if score < min {
                return;
            }
        }
        let mut key = Vec::with_capacity(self.specs.len());
        for i in 0..self.specs.len() {
            let v = self.value(i, doc, score);
            key.push(v);
        }
        if let Some(after) = self.search_after.clone() {
            // Compare with strings resolved, so the bound is exact.
            let mut full = key.clone();
            if self.has_str() {
                self.globalize(&mut full);
            }
            if compare_keys(&self.specs, &full, &after) != Ordering::Greater {
                return;
            }
        }
        self.count += 1;
        self.max_score = Some(self.max_score.map_or(score, |m| m.max(score)));
        if self.k == 0 {
            return;
        }
        if let Some(w) = &self.worst {
            if compare_keys(&self.specs, &key, w) != Ordering::Less {
                return;
            }
        }
        self.hits.push(Candidate {
            key,
            score,
            doc: DocAddress::new(self.segment, doc),
        });
        if self.hits.len() >= self.k * 2 + 64 {
            let specs = self.specs.clone();
            sort_candidates(&specs, &mut self.hits);
            self.hits.truncate(self.k);
            self.worst = self.hits.last().map(|c| c.key.clone());
        }
    }

    fn harvest(mut self) -> SegmentFruit {
        let specs = self.specs.clone();
        sort_candidates(&specs, &mut self.hits);
        self.hits.truncate(self.k);
        let mut hits = std::mem::take(&mut self.hits);
        for (i, col) in self.cols.iter().enumerate() {
            if let Col::Str(c) = col {
                resolve_ords(c, i, &mut hits);
            }
        }
        SegmentFruit {
            hits,
            count: self.count,
            max_score: self.max_score,
            pruned: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(order: Order, missing_first: bool) -> KeySpec {
        KeySpec {
            source: KeySource::I64("x".into()),
            order,
            missing_first,
            missing_value: None,
        }
    }

    #[test]
    fn missing_last_both_ways() {
        let asc = spec(Order::Asc, false);
        let desc = spec(Order::Desc, false);
        assert_eq!(
            compare(&asc, &SortValue::I64(1), &SortValue::Missing),
            Ordering::Less
        );
        assert_eq!(
            compare(&desc, &SortValue::I64(1), &SortValue::Missing),
            Ordering::Less
        );
        assert_eq!(
            compare(&desc, &SortValue::I64(1), &SortValue::I64(2)),
            Ordering::Greater
        );
        let first = spec(Order::Asc, true);
        assert_eq!(
            compare(&first, &SortValue::Missing, &SortValue::I64(1)),
            Ordering::Less
        );
    }

    #[test]
    fn float_pick() {
        assert_eq!(pick_f([1.0, 3.0, 2.0].into_iter(), true), Some(3.0));
        assert_eq!(pick_f([1.0, 3.0, 2.0].into_iter(), false), Some(1.0));
    }
}
