//! Property tests that fuzz the two parsers of untrusted text: SQL extraction and route
//! extraction. Inputs are random bytes-as-text and random but well-formed router trees; the
//! properties are "never panics" and, for router trees, "finds exactly the routes built".
//! Crashers found are kept as named regression tests at the end of this file.

use proptest::prelude::*;

use crate::extract::{
    bracket_depth, count_lines_and_openings, extract_file, extract_parsed_file, nesting_beyond,
};
use crate::facts::RawRouteFragment;
use crate::model::SqlDialect;
use crate::sql::{analyze, analyze_whole, is_whole_sql, split_statements};

fn dialect() -> impl Strategy<Value = SqlDialect> {
    prop_oneof![
        Just(SqlDialect::Sqlite),
        Just(SqlDialect::Postgres),
        Just(SqlDialect::Mysql),
        Just(SqlDialect::Generic),
    ]
}

/// SQL-looking token soup: keywords, names, quotes, comments, dollar quotes, placeholders.
fn sql_soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("SELECT"),
        Just("INSERT INTO"),
        Just("UPDATE"),
        Just("DELETE FROM"),
        Just("FROM"),
        Just("JOIN"),
        Just("WITH"),
        Just("AS"),
        Just("CREATE TABLE"),
        Just("ALTER TABLE"),
        Just("BEGIN"),
        Just("END"),
        Just("CREATE TRIGGER"),
        Just("VALUES"),
        Just("("),
        Just(")"),
        Just(","),
        Just(";"),
        Just("'"),
        Just("\""),
        Just("`"),
        Just("--"),
        Just("/*"),
        Just("*/"),
        Just("$$"),
        Just("$tag$"),
        Just("$1"),
        Just("?"),
        Just(":name"),
        Just("\n"),
        Just("t"),
        Just("users"),
        Just("a.b"),
        Just("*"),
        Just("="),
        Just("REFERENCES"),
        Just("PRIMARY KEY"),
    ];
    proptest::collection::vec(token, 0..40).prop_map(|tokens| tokens.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn sql_analysis_never_panics_on_any_text(text in ".{0,200}", dialect in dialect()) {
        let _ = analyze(&text, dialect);
        let _ = is_whole_sql(&text, dialect);
    }

    /// A literal taken as whole SQL is analyzed as it is tested (each statement parsed once),
    /// and that analysis is exactly what `analyze` gives for the text.
    #[test]
    fn whole_sql_analysis_is_the_plain_analysis(text in sql_soup(), dialect in dialect()) {
        let text = format!("SELECT {text}");
        match analyze_whole(&text, dialect) {
            Some(whole) => prop_assert_eq!(whole, analyze(&text, dialect)),
            None => prop_assert!(!is_whole_sql(&text, dialect)),
        }
    }

    #[test]
    fn sql_analysis_never_panics_on_sql_soup(text in sql_soup(), dialect in dialect()) {
        let analysis = analyze(&text, dialect);
        prop_assert!(analysis.parsed_statements <= analysis.statements);
        let lines = u32::try_from(text.lines().count()).unwrap_or(u32::MAX);
        for piece in split_statements(&text) {
            prop_assert!(text.contains(piece.text));
            prop_assert!(!piece.text.trim().is_empty());
            prop_assert!(piece.line_offset <= lines);
        }
    }

    #[test]
    fn rust_extraction_never_panics_on_any_text(text in ".{0,300}") {
        let _ = extract_file(&text, SqlDialect::Sqlite, 2_000);
    }

    #[test]
    fn rust_extraction_never_panics_on_router_soup(text in router_soup()) {
        let _ = extract_file(&text, SqlDialect::Sqlite, 2_000);
    }

    #[test]
    fn items_visited_while_parsing_give_the_whole_file_facts(
        text in router_soup(),
        start in prop_oneof![Just(""), Just("\u{feff}"), Just("#!/usr/bin/env run\n"), Just("#![allow(dead_code)]\n")],
        tail in prop_oneof![
            Just(""),
            Just("\nfn broken( {"),
            Just("\nstruct S;\nfn g() { sqlx::query!(\"SELECT 1\"); }"),
            Just("\n/// Tests.\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() { sqlx::query!(\"SELECT 1\"); }\n}\nfn h() {}"),
            Just("\n#[cfg(all(test, unix))]\npub mod unix_tests {}\n#[allow(dead_code)]\nmod kept { fn k() {} }"),
        ],
    ) {
        let source = format!("{start}{text}{tail}");
        let facts = extract_file(&source, SqlDialect::Sqlite, 2_000);
        match extract_parsed_file(&source, SqlDialect::Sqlite) {
            Some(whole) => prop_assert_eq!(format!("{facts:?}"), format!("{whole:?}")),
            None => {
                prop_assert!(!facts.parsed);
                prop_assert!(facts.items.is_empty());
                let error = syn::parse_file(&source).err().map(|error| format!("Rust syntax error: {error}"));
                prop_assert_eq!(facts.problems.last().map(|(_, message)| message.clone()), error);
            }
        }
    }

    #[test]
    fn axum_router_trees_give_exactly_their_routes(tree in router_tree()) {
        let mut expected = Vec::new();
        tree.expected("", &mut expected);
        expected.sort();
        let source = format!("fn app() -> Router {{ {} }}", tree.source());
        let facts = extract_file(&source, SqlDialect::Sqlite, 2_000);
        prop_assert!(facts.parsed, "{source}");
        let mut found: Vec<(String, String)> = facts.items[0]
            .extras()
            .routes
            .iter()
            .filter_map(|fragment| match fragment {
                RawRouteFragment::Route { method, path, .. } => Some((method.clone(), path.clone())),
                RawRouteFragment::Include { .. } => None,
            })
            .collect();
        found.sort();
        prop_assert_eq!(found, expected, "{}", source);
    }
}

/// Rust-looking token soup around router calls.
fn router_soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("Router::new()"),
        Just(".route(\"/a\", get(h))"),
        Just(".nest(\"/n\", "),
        Just(".merge("),
        Just(")"),
        Just("("),
        Just("web::scope(\"/s\")"),
        Just(".service("),
        Just("web::resource(\"/r\")"),
        Just(".to(h)"),
        Just("#[get(\"/x\")]"),
        Just("fn f() {"),
        Just("}"),
        Just("let a = "),
        Just(";"),
        Just("a"),
        Just("routes![f]"),
        Just(".mount(\"/m\", "),
        Just("\"SELECT * FROM t\""),
        Just("conn.execute("),
        Just("sqlx::query!("),
        Just(","),
    ];
    proptest::collection::vec(token, 0..40)
        .prop_map(|tokens| format!("fn app() {{ {} }}", tokens.join(" ")))
}

/// A random axum router: routes and nested routers under prefixes.
#[derive(Debug, Clone)]
enum RouterTree {
    Router(Vec<RouterPart>),
}

#[derive(Debug, Clone)]
enum RouterPart {
    Route(String, Vec<&'static str>),
    Nest(String, RouterTree),
    Merge(RouterTree),
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,6}".prop_map(|s| format!("/{s}")),
        "[a-z]{1,4}".prop_map(|s| format!("/{{{s}}}")),
        "[a-z]{1,4}".prop_map(|s| format!("/:{s}")),
    ]
}

fn router_tree() -> impl Strategy<Value = RouterTree> {
    let methods =
        proptest::sample::subsequence(vec!["get", "post", "put", "delete", "patch"], 1..4);
    let leaf = proptest::collection::vec((segment(), methods.clone()), 0..4).prop_map(|routes| {
        RouterTree::Router(
            routes
                .into_iter()
                .map(|(p, m)| RouterPart::Route(p, m))
                .collect(),
        )
    });
    leaf.prop_recursive(3, 24, 4, move |inner| {
        let methods = methods.clone();
        proptest::collection::vec(
            prop_oneof![
                (segment(), methods).prop_map(|(p, m)| RouterPart::Route(p, m)),
                (segment(), inner.clone()).prop_map(|(p, t)| RouterPart::Nest(p, t)),
                inner.prop_map(RouterPart::Merge),
            ],
            0..4,
        )
        .prop_map(RouterTree::Router)
    })
}

impl RouterTree {
    fn source(&self) -> String {
        let RouterTree::Router(parts) = self;
        let mut text = "Router::new()".to_string();
        for part in parts {
            match part {
                RouterPart::Route(path, methods) => {
                    let (first, rest) = methods.split_first().expect("at least one method");
                    let mut router = format!("{first}(handler)");
                    for method in rest {
                        router.push_str(&format!(".{method}(handler)"));
                    }
                    text.push_str(&format!(".route(\"{path}\", {router})"));
                }
                RouterPart::Nest(path, tree) => {
                    text.push_str(&format!(".nest(\"{path}\", {})", tree.source()));
                }
                RouterPart::Merge(tree) => text.push_str(&format!(".merge({})", tree.source())),
            }
        }
        text
    }

    fn expected(&self, prefix: &str, out: &mut Vec<(String, String)>) {
        let RouterTree::Router(parts) = self;
        for part in parts {
            match part {
                RouterPart::Route(path, methods) => {
                    for method in methods {
                        out.push((method.to_uppercase(), format!("{prefix}{path}")));
                    }
                }
                RouterPart::Nest(path, tree) => tree.expected(&format!("{prefix}{path}"), out),
                RouterPart::Merge(tree) => tree.expected(prefix, out),
            }
        }
    }
}

/// The fast text counts used before parsing agree with the plain definitions they replace.
mod text_counts {
    use super::*;

    proptest! {
        #[test]
        fn lines_and_openings_match_the_plain_counts(text in "[a-z(\\[{}\\])\n\r ]{0,700}") {
            let (lines, openings) = count_lines_and_openings(&text);
            prop_assert_eq!(lines, text.lines().count());
            prop_assert_eq!(openings, text.chars().filter(|c| matches!(c, '(' | '[' | '{')).count());
            // The opening count bounds the nesting, which is what lets the exact walk be skipped.
            prop_assert!(bracket_depth(&text) <= openings);
        }

        #[test]
        fn blockwise_nesting_check_agrees_with_the_walk(
            text in "[a-z(\\[{}\\])]{0,700}",
            limit in 0usize..40,
        ) {
            let deepest = bracket_depth(&text);
            prop_assert_eq!(nesting_beyond(&text, limit), (deepest > limit).then_some(deepest));
        }

        #[test]
        fn blockwise_nesting_check_agrees_on_deep_text(
            text in "([(\\[{a]{0,150}[)\\]}a]{0,150}){1,4}",
            limit in 0usize..300,
        ) {
            let deepest = bracket_depth(&text);
            prop_assert_eq!(nesting_beyond(&text, limit), (deepest > limit).then_some(deepest));
        }

        #[test]
        fn counts_hold_for_any_text(text in ".{0,300}") {
            let (lines, _) = count_lines_and_openings(&text);
            prop_assert_eq!(lines, text.lines().count());
        }
    }

    #[test]
    fn nesting_walk_matches_a_straightforward_one() {
        for text in [
            "",
            "(",
            ")(",
            "{[()]}",
            "))((",
            "(()(()))",
            "}{][",
            "a(b[c{d}e]f)g",
        ] {
            let mut depth = 0usize;
            let mut deepest = 0usize;
            for c in text.chars() {
                match c {
                    '(' | '[' | '{' => {
                        depth += 1;
                        deepest = deepest.max(depth);
                    }
                    ')' | ']' | '}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
            assert_eq!(bracket_depth(text), deepest, "{text:?}");
        }
    }
}
