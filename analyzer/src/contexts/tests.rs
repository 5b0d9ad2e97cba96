//! Proposals on small hand-written monoliths, one rule per test.

use super::*;
use crate::fixture::{Monolith, cinema};

#[test]
fn layered_areas_become_contexts_across_layers() {
    let m = cinema();
    let p = m.propose(&ProposalOptions::default());
    let mut names: Vec<&str> = p.contexts.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["bookings", "customers", "movies", "reviews"]);
    for area in ["movies", "customers", "reviews", "bookings"] {
        for layer in ["handlers", "services", "repo"] {
            assert_eq!(
                m.context_of(&p, &format!("src/{layer}/{area}.rs"))
                    .as_deref(),
                Some(area),
                "{layer}/{area}"
            );
        }
    }
}

#[test]
fn common_library_and_router_are_the_shared_kernel() {
    let m = cinema();
    let p = m.propose(&ProposalOptions::default());
    let reason = |path: &str| match p.placement[m.files[path]] {
        Placement::Shared(r) => Some(r),
        Placement::Context(_) => None,
    };
    assert_eq!(reason("src/common/db.rs"), Some(SharedReason::Declared));
    assert_eq!(reason("src/common/error.rs"), Some(SharedReason::Declared));
    assert_eq!(reason("src/main.rs"), Some(SharedReason::CompositionRoot));
    assert_eq!(reason("src/handlers/mod.rs"), Some(SharedReason::Uncoupled));
}

#[test]
fn each_table_has_its_heaviest_writer_as_owner() {
    let m = cinema();
    let p = m.propose(&ProposalOptions::default());
    for (table, owner) in [
        ("movies", "movies"),
        ("showtimes", "movies"),
        ("customers", "customers"),
        ("reviews", "reviews"),
        ("bookings", "bookings"),
    ] {
        let usage = &p.tables[m.tables[table]];
        assert_eq!(
            usage.owner.map(|c| p.contexts[c].name.as_str()),
            Some(owner),
            "{table}"
        );
    }
    // movies is written by two contexts: a shared table.
    assert_eq!(p.tables[m.tables["movies"]].writers.len(), 2);
}

#[test]
fn routes_follow_their_handlers() {
    let m = cinema();
    let p = m.propose(&ProposalOptions::default());
    for (r, route) in m.input.routes.iter().enumerate() {
        let area = route.path.split('/').nth(2).unwrap();
        let holder = p.contexts.iter().find(|c| c.routes.contains(&r)).unwrap();
        assert_eq!(holder.name, area, "{}", route.path);
    }
}

#[test]
fn a_function_pulled_elsewhere_is_a_move() {
    let m = cinema();
    let p = m.propose(&ProposalOptions::default());
    let f = m.functions["src/services/movies.rs::review_summary"];
    let found = p.moves.iter().find(|mv| mv.function == f).expect("move");
    assert_eq!(p.contexts[found.to].name, "reviews");
    assert_eq!(
        found.from.map(|c| p.contexts[c].name.as_str()),
        Some("movies")
    );
    assert!(found.reason.contains("reads reviews"), "{}", found.reason);
    assert!(p.contexts[found.to].moved_in.contains(&f));
    // The rest of the file stays home: no other move out of movies.
    assert_eq!(p.moves.len(), 1, "{:?}", p.moves);
}

#[test]
fn pins_override_the_clustering_and_name_the_context() {
    let m = cinema();
    let mut options = ProposalOptions::default();
    options
        .pins
        .insert("src/handlers/reviews.rs".into(), "feedback".into());
    options
        .pins
        .insert("src/repo/customers.rs".into(), "feedback".into());
    let p = m.propose(&options);
    assert_eq!(
        m.context_of(&p, "src/handlers/reviews.rs").as_deref(),
        Some("feedback")
    );
    assert_eq!(
        m.context_of(&p, "src/repo/customers.rs").as_deref(),
        Some("feedback")
    );
}

#[test]
fn target_count_merges_the_closest_contexts() {
    let m = cinema();
    let options = ProposalOptions {
        target_contexts: Some(3),
        ..Default::default()
    };
    let p = m.propose(&options);
    let names: Vec<_> = p.contexts.iter().map(|c| &c.name).collect();
    assert_eq!(p.contexts.len(), 3, "{names:?}");
}

#[test]
fn extraction_order_is_easiest_first_and_deterministic() {
    let m = cinema();
    let a = m.propose(&ProposalOptions::default());
    let b = m.propose(&ProposalOptions::default());
    let names = |p: &Proposal| {
        p.contexts
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&a), names(&b));
    // Ordered by label (easy, moderate, hard), then by difficulty within a label.
    let graph = CouplingGraph::build(&m.input);
    let key = |c: usize| {
        (
            DifficultyLabel::of(cohesion(&graph, &a.placement, &a.tables, c)),
            a.difficulty[c],
        )
    };
    assert!((1..a.contexts.len()).all(|c| key(c - 1) <= key(c)));
    // customers is only read by others: easier than bookings, which reads and calls across.
    let position = |name: &str| names(&a).iter().position(|n| n == name).unwrap();
    assert!(position("customers") < position("bookings"));
}

#[test]
fn an_empty_monolith_proposes_nothing() {
    let m = Monolith::default();
    let p = m.propose(&ProposalOptions::default());
    assert!(p.contexts.is_empty());
}
