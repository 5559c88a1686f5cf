//! The field table of an index: every mapped leaf (and multi-field) of the ES
//! mapping, with the tantivy field that holds it; plus the internal fields
//! (`_id`, `_source`, `_seq_no`, `_version`, `_field_names`).
//!
//! Tantivy fields are named `f0`, `f1`, … in the order they were added, and the
//! ES path → name table is persisted with the index, so a mapping can grow
//! (dynamic mapping, `PUT _mapping`) by appending fields to the tantivy schema.

use crate::analysis::analyzer_name;
use searchgate_core::model::{FieldMapping, FieldType, Mapping};
use std::collections::{BTreeMap, HashMap};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, SchemaBuilder, TextFieldIndexing,
    TextOptions, FAST, INDEXED, STORED, STRING,
};

pub const ID: &str = "_id";
pub const SOURCE: &str = "_source";
pub const SEQ_NO: &str = "_seq_no";
pub const VERSION: &str = "_version";
pub const FIELD_NAMES: &str = "_field_names";

/// One mapped leaf field.
#[derive(Debug, Clone)]
pub struct FieldInfo {
    pub path: String,
    pub ty: FieldType,
    /// `None` for types searchgate stores only in `_source` (geo_point, binary, …).
    pub field: Option<Field>,
    pub analyzer: &'static str,
    pub search_analyzer: &'static str,
    pub ignore_above: Option<u32>,
    pub format: Option<String>,
    pub null_value: Option<serde_json::Value>,
    pub index: bool,
}

impl FieldInfo {
    pub fn is_text(&self) -> bool {
        self.ty == FieldType::Text
    }
}

#[derive(Debug, Clone)]
pub struct FieldTable {
    pub by_path: HashMap<String, FieldInfo>,
    pub id: Field,
    pub source: Field,
    pub seq_no: Field,
    pub version: Field,
    pub field_names: Field,
    pub schema: Schema,
}

/// Whether a field type gets a tantivy field.
fn indexable(ty: FieldType) -> bool {
    !matches!(
        ty,
        FieldType::Object
            | FieldType::Nested
            | FieldType::GeoPoint
            | FieldType::Binary
            | FieldType::Flattened
            | FieldType::Ip
    )
}

/// Every leaf of a mapping, with its full path (multi-fields included).
pub fn leaves(mapping: &Mapping) -> Vec<(String, &FieldMapping)> {
    fn walk<'a>(
        prefix: &str,
        props: &'a BTreeMap<String, FieldMapping>,
        out: &mut Vec<(String, &'a FieldMapping)>,
    ) {
        for (name, f) in props {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            walk(&path, &f.properties, out);
            for (sub, sf) in &f.fields {
                out.push((format!("{path}.{sub}"), sf));
            }
            if f.ty != FieldType::Object && f.ty != FieldType::Nested {
                out.push((path, f));
            }
        }
    }
    let mut out = Vec::new();
    walk("", &mapping.properties, &mut out);
    out
}

fn add_tantivy_field(b: &mut SchemaBuilder, name: &str, f: &FieldMapping) -> Field {
    let numeric = || NumericOptions::default().set_indexed().set_fast();
    match f.ty {
        FieldType::Text => {
            let indexing = TextFieldIndexing::default()
                .set_tokenizer(analyzer_name(f.analyzer.as_deref()))
                .set_index_option(IndexRecordOption::WithFreqsAndPositions)
                .set_fieldnorms(true);
            b.add_text_field(name, TextOptions::default().set_indexing_options(indexing))
        }
        FieldType::Keyword => b.add_text_field(name, STRING | FAST),
        t if t.is_integer() || t.is_date() => b.add_i64_field(name, numeric()),
        t if t.is_float() => b.add_f64_field(name, numeric()),
        FieldType::Boolean => b.add_bool_field(name, numeric()),
        _ => b.add_i64_field(name, numeric()),
    }
}

/// Checks what the engine must understand in a mapping (date formats).
pub fn validate_mapping(mapping: &Mapping) -> searchgate_core::Result<()> {
    for (path, f) in leaves(mapping) {
        if let Some(fmt) = &f.format {
            if f.ty.is_date() && !crate::dates::valid_format(fmt) {
                return Err(searchgate_core::Error::mapper_parsing(format!(
                    "Invalid format: [{fmt}]: Unknown pattern letter or format name for field [{path}]"
                )));
            }
        }
    }
    Ok(())
}

/// The schema of a new index: the internal fields only.
pub fn base_schema() -> Schema {
    let mut b = Schema::builder();
    b.add_text_field(ID, STRING | STORED | FAST);
    b.add_bytes_field(SOURCE, STORED);
    b.add_i64_field(SEQ_NO, STORED | FAST | INDEXED);
    b.add_i64_field(VERSION, STORED | FAST);
    b.add_text_field(FIELD_NAMES, STRING);
    b.build()
}

/// Extends `schema` with tantivy fields for the leaves of `mapping` that have none
/// yet in `names`; records new names in `names`. Returns `None` if nothing changed.
pub fn extend_schema(
    schema: &Schema,
    mapping: &Mapping,
    names: &mut BTreeMap<String, String>,
) -> Option<Schema> {
    let missing: Vec<(String, &FieldMapping)> = leaves(mapping)
        .into_iter()
        .filter(|(p, f)| indexable(f.ty) && !names.contains_key(p))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let mut b = Schema::builder();
    for (_, entry) in schema.fields() {
        b.add_field(entry.clone());
    }
    for (next, (path, f)) in (schema.num_fields()..).zip(missing) {
        let name = format!("f{next}");
        add_tantivy_field(&mut b, &name, f);
        names.insert(path, name);
    }
    Some(b.build())
}

impl FieldTable {
    pub fn build(
        schema: &Schema,
        mapping: &Mapping,
        names: &BTreeMap<String, String>,
    ) -> FieldTable {
        let get = |n: &str| schema.get_field(n).expect("internal field in schema");
        let mut by_path = HashMap::new();
        for (path, f) in leaves(mapping) {
            let field = names.get(&path).and_then(|n| schema.get_field(n).ok());
            let analyzer = analyzer_name(f.analyzer.as_deref());
            by_path.insert(
                path.clone(),
                FieldInfo {
                    path,
                    ty: f.ty,
                    field,
                    analyzer,
                    search_analyzer: f
                        .search_analyzer
                        .as_deref()
                        .map(|a| analyzer_name(Some(a)))
                        .unwrap_or(analyzer),
                    ignore_above: f.ignore_above,
                    format: f.format.clone(),
                    null_value: f.null_value.clone(),
                    index: f.index,
                },
            );
        }
        FieldTable {
            by_path,
            id: get(ID),
            source: get(SOURCE),
            seq_no: get(SEQ_NO),
            version: get(VERSION),
            field_names: get(FIELD_NAMES),
            schema: schema.clone(),
        }
    }

    pub fn get(&self, path: &str) -> Option<&FieldInfo> {
        self.by_path.get(path)
    }

    /// Paths matching a pattern with `*` wildcards (for `multi_match` fields).
    pub fn matching(&self, pattern: &str) -> Vec<&FieldInfo> {
        if !pattern.contains('*') {
            return self.get(pattern).into_iter().collect();
        }
        let mut v: Vec<&FieldInfo> = self
            .by_path
            .values()
            .filter(|f| wildcard_match(pattern, &f.path))
            .collect();
        v.sort_by(|a, b| a.path.cmp(&b.path));
        v
    }

    /// The name of the fast-field column of a field.
    pub fn column_name(&self, info: &FieldInfo) -> Option<String> {
        info.field
            .map(|f| self.schema.get_field_name(f).to_string())
    }
}

/// `*` matches any run of characters.
pub fn wildcard_match(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let mut rest = s;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("a*", "abc"));
        assert!(wildcard_match("*c", "abc"));
        assert!(wildcard_match("a*c", "abc"));
        assert!(!wildcard_match("a*d", "abc"));
        assert!(wildcard_match("*", "x"));
    }

    #[test]
    fn schema_grows_by_appending() {
        let m1 = Mapping::parse(&json!({"properties": {"a": {"type": "text", "fields": {"keyword": {"type": "keyword"}}}}})).unwrap();
        let mut names = BTreeMap::new();
        let s1 = extend_schema(&base_schema(), &m1, &mut names).unwrap();
        assert_eq!(names.len(), 2);
        let m2 = Mapping::parse(&json!({"properties": {"a": {"type": "text", "fields": {"keyword": {"type": "keyword"}}}, "b": {"type": "long"}, "g": {"type": "geo_point"}}})).unwrap();
        let s2 = extend_schema(&s1, &m2, &mut names).unwrap();
        assert_eq!(s2.num_fields(), s1.num_fields() + 1);
        assert!(extend_schema(&s2, &m2, &mut names).is_none());
        let t = FieldTable::build(&s2, &m2, &names);
        assert!(t.get("a.keyword").unwrap().field.is_some());
        assert!(t.get("g").unwrap().field.is_none());
    }
}
