//! The analyses the report tests render.

use analyzer::analysis::Analysis;

/// A realistic analysis of the cinema monolith: five contexts, shared tables, a shared kernel,
/// a move and diagnostics.
pub fn cinema() -> Analysis {
    let json = include_str!("../fixtures/analysis-cinema.json");
    serde_json::from_str(json).expect("the cinema fixture is a valid analysis")
}

/// The cinema analysis with one context renamed to markup, quotes and Markdown syntax, to check
/// that every format escapes what it shows. The table of the same name is renamed too.
pub fn hostile() -> Analysis {
    let json = include_str!("../fixtures/analysis-cinema.json");
    let name = r#""<script>alert(\"x\")</script> | *reviews* `{{x}}` & [a](b)""#;
    serde_json::from_str(&json.replace("\"reviews\"", name)).expect("still a valid analysis")
}

/// `n` contexts with different sizes, each calling the next and sharing a table with the one
/// after, to check the map's layout at the size the issue asks to stay legible at.
pub fn many(n: usize) -> Analysis {
    let mut analysis = cinema();
    let template = analysis.contexts[0].clone();
    let names: Vec<String> = (0..n).map(|i| format!("context-number-{i:02}")).collect();
    analysis.contexts = (0..n)
        .map(|i| {
            let mut context = template.clone();
            context.name = names[i].clone();
            context.extraction_order = i + 1;
            context.lines = 100 + (i * 7919) % 3000;
            context.modules = vec![format!("src/{}/mod.rs", names[i])];
            context.calls = vec![names[(i + 1) % n].clone()];
            context.called_by = vec![names[(i + n - 1) % n].clone()];
            context
        })
        .collect();
    analysis.seams = (0..n)
        .map(|i| analyzer::analysis::SeamReport {
            from: names[i].clone(),
            to: names[(i + 1) % n].clone(),
            caller: format!("src/{}/mod.rs::a", names[i]),
            callee: format!("src/{}/mod.rs::b", names[(i + 1) % n]),
            at: format!("src/{}/mod.rs:1", names[i]),
        })
        .collect();
    analysis.tables = (0..n)
        .map(|i| analyzer::analysis::TableReport {
            name: format!("table_{i:02}"),
            owner: Some(names[i].clone()),
            readers: vec![names[i].clone(), names[(i + 2) % n].clone()],
            writers: vec![names[i].clone()],
            shared: true,
            advice: "expose a read API".into(),
        })
        .collect();
    analysis.summary.contexts = n;
    analysis
}
