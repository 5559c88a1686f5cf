//! `filter_path`: ES's response filtering.
//!
//! A comma list of dotted paths. `*` inside a segment matches any characters,
//! a `**` segment matches any number of segments, and a leading `-` makes the path
//! an exclusion. Arrays are transparent (a path applies to each element). Objects
//! and arrays left empty by the filter disappear; a filter that matches nothing
//! gives `{}`. Inclusions apply first, then exclusions.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    /// `**`: any number of segments, including none.
    Any,
    /// A name, possibly with `*` wildcards.
    Name(String),
}

#[derive(Debug, Clone, Default)]
pub struct FilterPath {
    includes: Vec<Vec<Seg>>,
    excludes: Vec<Vec<Seg>>,
}

impl FilterPath {
    /// Parses the parameter value; `None` when it filters nothing (empty).
    pub fn parse(s: &str) -> Option<FilterPath> {
        let mut f = FilterPath::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (exclude, path) = match part.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, part),
            };
            let segs: Vec<Seg> = path
                .split('.')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    if s == "**" {
                        Seg::Any
                    } else {
                        Seg::Name(s.to_string())
                    }
                })
                .collect();
            if segs.is_empty() {
                continue;
            }
            if exclude {
                f.excludes.push(segs);
            } else {
                f.includes.push(segs);
            }
        }
        if f.includes.is_empty() && f.excludes.is_empty() {
            None
        } else {
            Some(f)
        }
    }

    pub fn apply(&self, v: Value) -> Value {
        let mut v = if self.includes.is_empty() {
            v
        } else {
            let pats: Vec<&[Seg]> = self.includes.iter().map(Vec::as_slice).collect();
            include(&v, &pats).unwrap_or_else(|| Value::Object(Map::new()))
        };
        if !self.excludes.is_empty() {
            let pats: Vec<&[Seg]> = self.excludes.iter().map(Vec::as_slice).collect();
            exclude(&mut v, &pats);
        }
        v
    }
}

/// Matches a name against a segment pattern with `*` wildcards.
fn glob(pattern: &str, name: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == name;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// What a set of patterns says about one key: it matches whole (keep/drop the
/// entire value), and/or these patterns continue below it.
fn step<'a>(pats: &[&'a [Seg]], key: &str) -> (bool, Vec<&'a [Seg]>) {
    let mut full = false;
    let mut next: Vec<&'a [Seg]> = Vec::new();
    let mut todo: Vec<&'a [Seg]> = pats.to_vec();
    while let Some(p) = todo.pop() {
        match p.first() {
            None => {}
            Some(Seg::Any) => {
                // `**` consumes this key and stays active, or matches nothing.
                if p.len() == 1 {
                    full = true;
                } else {
                    next.push(p);
                    todo.push(&p[1..]);
                }
            }
            Some(Seg::Name(n)) if glob(n, key) => {
                if p.len() == 1 {
                    full = true;
                } else {
                    next.push(&p[1..]);
                }
            }
            Some(Seg::Name(_)) => {}
        }
    }
    (full, next)
}

fn include(v: &Value, pats: &[&[Seg]]) -> Option<Value> {
    match v {
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, child) in o {
                let (full, next) = step(pats, k);
                if full {
                    out.insert(k.clone(), child.clone());
                } else if !next.is_empty() {
                    if let Some(c) = include(child, &next) {
                        out.insert(k.clone(), c);
                    }
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(a) => {
            let out: Vec<Value> = a.iter().filter_map(|x| include(x, pats)).collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        _ => None,
    }
}

fn exclude(v: &mut Value, pats: &[&[Seg]]) {
    match v {
        Value::Object(o) => {
            o.retain(|k, child| {
                let (full, next) = step(pats, k);
                if full {
                    return false;
                }
                if !next.is_empty() {
                    exclude(child, &next);
                }
                true
            });
        }
        Value::Array(a) => a.iter_mut().for_each(|x| exclude(x, pats)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(p: &str, v: Value) -> Value {
        FilterPath::parse(p).unwrap().apply(v)
    }

    fn search() -> Value {
        json!({"took": 1, "_shards": {"total": 1}, "hits": {"total": {"value": 2, "relation": "eq"},
            "hits": [{"_id": "a", "_index": "i", "_source": {"n": 1, "t": "x"}},
                     {"_id": "b", "_index": "i", "_source": {"t": "y"}}]}})
    }

    #[test]
    fn includes() {
        assert_eq!(
            f("hits.hits._id", search()),
            json!({"hits": {"hits": [{"_id": "a"}, {"_id": "b"}]}})
        );
        assert_eq!(
            f("hits.hits.*id", search()),
            json!({"hits": {"hits": [{"_id": "a"}, {"_id": "b"}]}})
        );
        assert_eq!(
            f("hits.hits._source.n", search()),
            json!({"hits": {"hits": [{"_source": {"n": 1}}]}})
        );
        assert_eq!(
            f("took,hits.total", search()),
            json!({"took": 1, "hits": {"total": {"value": 2, "relation": "eq"}}})
        );
        assert_eq!(f("nothing", search()), json!({}));
    }

    #[test]
    fn double_star() {
        assert_eq!(
            f("**._id", search()),
            json!({"hits": {"hits": [{"_id": "a"}, {"_id": "b"}]}})
        );
        assert_eq!(
            f("**.total", search()),
            json!({"_shards": {"total": 1}, "hits": {"total": {"value": 2, "relation": "eq"}}})
        );
        assert_eq!(f("***", json!({"a": 1})), json!({"a": 1}));
    }

    #[test]
    fn excludes() {
        assert_eq!(f("-hits,-_shards", search()), json!({"took": 1}));
        let v = f("-hits.hits._source", search());
        assert_eq!(v["hits"]["hits"][0], json!({"_id": "a", "_index": "i"}));
        assert_eq!(
            f("hits.hits,-hits.hits._source,-**._index", search()),
            json!({"hits": {"hits": [{"_id": "a"}, {"_id": "b"}]}})
        );
    }

    #[test]
    fn globs() {
        assert!(glob("*", "x"));
        assert!(glob("a*c", "abbc"));
        assert!(!glob("a*c", "ab"));
        assert!(glob("*id", "_id"));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(!glob("ab*ba", "aba"));
    }
}
