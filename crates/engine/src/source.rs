//! `_source` handling: filtering by `includes`/`excludes` patterns, and the deep
//! merge of a partial document (`_update` with `doc`).

use searchgate_core::model::SourceFilter;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// Applies a source filter to stored source bytes. `None`: no `_source` in the hit.
pub fn filter_source(bytes: &[u8], filter: &SourceFilter) -> Option<Box<RawValue>> {
    match filter {
        SourceFilter::None => None,
        SourceFilter::All => raw(bytes),
        SourceFilter::Filter { includes, excludes } => {
            let v: Value = serde_json::from_slice(bytes).ok()?;
            let Value::Object(obj) = v else {
                return raw(bytes);
            };
            let filtered = filter_object(&obj, "", includes, excludes);
            RawValue::from_string(Value::Object(filtered).to_string()).ok()
        }
    }
}

fn raw(bytes: &[u8]) -> Option<Box<RawValue>> {
    let s = std::str::from_utf8(bytes).ok()?;
    RawValue::from_string(s.to_string()).ok()
}

fn pattern_match(pattern: &str, path: &str) -> bool {
    crate::fields::wildcard_match(pattern, path)
}

/// Whether `path` or something under it can match an include pattern.
fn may_include(includes: &[String], path: &str) -> bool {
    includes.is_empty()
        || includes.iter().any(|p| {
            pattern_match(p, path)
                || p.starts_with(&format!("{path}."))
                || (p.contains('*')
                    && pattern_match(
                        p.split('.').next().unwrap_or(p),
                        path.split('.').next().unwrap_or(path),
                    ))
        })
}

fn included(includes: &[String], path: &str) -> bool {
    includes.is_empty()
        || includes.iter().any(|p| {
            pattern_match(p, path) || {
                // `a` includes `a.b`
                let mut prefix = path;
                let mut hit = false;
                while let Some((parent, _)) = prefix.rsplit_once('.') {
                    if pattern_match(p, parent) {
                        hit = true;
                        break;
                    }
                    prefix = parent;
                }
                hit
            }
        })
}

fn excluded(excludes: &[String], path: &str) -> bool {
    excludes.iter().any(|p| pattern_match(p, path))
}

fn filter_object(
    obj: &Map<String, Value>,
    prefix: &str,
    inc: &[String],
    exc: &[String],
) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in obj {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if excluded(exc, &path) {
            continue;
        }
        match v {
            Value::Object(inner) => {
                if included(inc, &path) && exc.is_empty() {
                    out.insert(k.clone(), v.clone());
                } else if may_include(inc, &path) {
                    let sub = filter_object(
                        inner,
                        &path,
                        if included(inc, &path) { &[] } else { inc },
                        exc,
                    );
                    if !sub.is_empty() || (included(inc, &path) && inner.is_empty()) {
                        out.insert(k.clone(), Value::Object(sub));
                    }
                }
            }
            Value::Array(items) if items.iter().any(Value::is_object) => {
                if !may_include(inc, &path) {
                    continue;
                }
                let whole = included(inc, &path);
                let kept: Vec<Value> = items
                    .iter()
                    .filter_map(|i| match i {
                        Value::Object(o) => {
                            let sub = filter_object(o, &path, if whole { &[] } else { inc }, exc);
                            (!sub.is_empty()).then_some(Value::Object(sub))
                        }
                        other => whole.then(|| other.clone()),
                    })
                    .collect();
                if !kept.is_empty() {
                    out.insert(k.clone(), Value::Array(kept));
                }
            }
            _ => {
                if included(inc, &path) {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
    }
    out
}

/// Merges `patch` into `target` as ES's partial update does: objects merge
/// recursively, anything else replaces. Returns whether `target` changed.
pub fn merge(target: &mut Map<String, Value>, patch: &Map<String, Value>) -> bool {
    let mut changed = false;
    for (k, v) in patch {
        match (target.get_mut(k), v) {
            (Some(Value::Object(t)), Value::Object(p)) => changed |= merge(t, p),
            (Some(existing), _) if existing == v => {}
            _ => {
                target.insert(k.clone(), v.clone());
                changed = true;
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(src: Value, inc: &[&str], exc: &[&str]) -> Value {
        let filter = SourceFilter::Filter {
            includes: inc.iter().map(|s| s.to_string()).collect(),
            excludes: exc.iter().map(|s| s.to_string()).collect(),
        };
        let raw = filter_source(src.to_string().as_bytes(), &filter).unwrap();
        serde_json::from_str(raw.get()).unwrap()
    }

    #[test]
    fn includes_excludes() {
        let src = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [{"f": 1, "g": 2}]});
        assert_eq!(f(src.clone(), &["a"], &[]), json!({"a": 1}));
        assert_eq!(f(src.clone(), &["b.c"], &[]), json!({"b": {"c": 2}}));
        assert_eq!(f(src.clone(), &["b"], &[]), json!({"b": {"c": 2, "d": 3}}));
        assert_eq!(
            f(src.clone(), &["b.*"], &[]),
            json!({"b": {"c": 2, "d": 3}})
        );
        assert_eq!(
            f(src.clone(), &[], &["b"]),
            json!({"a": 1, "e": [{"f": 1, "g": 2}]})
        );
        assert_eq!(
            f(src.clone(), &[], &["b.d", "e.g"]),
            json!({"a": 1, "b": {"c": 2}, "e": [{"f": 1}]})
        );
        assert_eq!(f(src, &["e.f"], &[]), json!({"e": [{"f": 1}]}));
    }

    #[test]
    fn merging() {
        let mut t = json!({"a": 1, "o": {"x": 1}}).as_object().unwrap().clone();
        assert!(merge(&mut t, json!({"o": {"y": 2}}).as_object().unwrap()));
        assert_eq!(
            Value::Object(t.clone()),
            json!({"a": 1, "o": {"x": 1, "y": 2}})
        );
        assert!(!merge(&mut t, json!({"a": 1}).as_object().unwrap()));
    }
}
