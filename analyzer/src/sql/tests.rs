//! The SQL rules, one statement shape per test.

use super::*;

/// `table:R|W:kind` strings, sorted, for compact assertions.
fn accesses(sql: &str, dialect: SqlDialect) -> Vec<String> {
    let mut found: Vec<String> = analyze(sql, dialect)
        .accesses
        .iter()
        .map(|a| {
            let rw = match a.access {
                Access::Read => "R",
                Access::Write => "W",
            };
            format!("{}:{rw}:{:?}", a.table, a.statement)
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

#[test]
fn select_with_join_and_subquery_reads_every_table() {
    assert_eq!(
        accesses(
            "SELECT b.id FROM bookings b JOIN customers c ON c.id = b.customer_id \
             WHERE b.movie_id IN (SELECT id FROM movies WHERE title LIKE ?)",
            SqlDialect::Sqlite
        ),
        ["bookings:R:Select", "customers:R:Select", "movies:R:Select"]
    );
}

#[test]
fn insert_select_writes_the_target_and_reads_the_source() {
    assert_eq!(
        accesses(
            "INSERT INTO archive (id) SELECT id FROM bookings WHERE at < $1",
            SqlDialect::Postgres
        ),
        ["archive:W:Insert", "bookings:R:Insert"]
    );
}

#[test]
fn update_reading_its_own_table_in_a_subquery_both_reads_and_writes_it() {
    assert_eq!(
        accesses(
            "UPDATE movies SET rating = (SELECT AVG(stars) FROM reviews WHERE movie_id = :id) \
             WHERE id = :id",
            SqlDialect::Sqlite
        ),
        ["movies:W:Update", "reviews:R:Update"]
    );
    assert_eq!(
        accesses(
            "DELETE FROM seats WHERE id IN (SELECT id FROM seats WHERE held = 1)",
            SqlDialect::Sqlite
        ),
        ["seats:R:Delete", "seats:W:Delete"]
    );
}

#[test]
fn cte_names_are_not_tables() {
    assert_eq!(
        accesses(
            "WITH recent AS (SELECT * FROM orders) SELECT * FROM recent JOIN customers ON true",
            SqlDialect::Generic
        ),
        ["customers:R:Select", "orders:R:Select"]
    );
}

#[test]
fn schema_qualified_and_quoted_names_become_lower_case_table_names() {
    assert_eq!(
        accesses(
            r#"DELETE FROM public."Users" WHERE id = $1"#,
            SqlDialect::Postgres
        ),
        ["users:W:Delete"]
    );
}

#[test]
fn every_placeholder_style_parses() {
    for sql in [
        "SELECT * FROM t WHERE a = ?",
        "SELECT * FROM t WHERE a = ?1",
        "SELECT * FROM t WHERE a = $1",
        "SELECT * FROM t WHERE a = :name",
        "SELECT * FROM t WHERE a = @name",
    ] {
        let analysis = analyze(sql, SqlDialect::Sqlite);
        assert!(
            analysis.problems.is_empty(),
            "{sql}: {:?}",
            analysis.problems
        );
        assert_eq!(accesses(sql, SqlDialect::Sqlite), ["t:R:Select"], "{sql}");
    }
}

#[test]
fn ddl_gives_columns_primary_keys_and_foreign_keys() {
    let analysis = analyze(
        "CREATE TABLE bookings (
            id INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            showtime_id INTEGER,
            FOREIGN KEY (showtime_id) REFERENCES showtimes (id)
        );
        ALTER TABLE bookings ADD COLUMN fare_id INTEGER REFERENCES fares(id);",
        SqlDialect::Sqlite,
    );
    assert!(analysis.accesses.is_empty(), "DDL is no read or write");
    let [create, alter] = analysis.declarations.as_slice() else {
        panic!("two declarations: {:?}", analysis.declarations)
    };
    assert_eq!(create.name, "bookings");
    let columns: Vec<(&str, bool)> = create
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.primary_key))
        .collect();
    assert_eq!(
        columns,
        [("id", true), ("customer_id", false), ("showtime_id", false)]
    );
    let targets: Vec<&str> = create
        .foreign_keys
        .iter()
        .map(|k| k.to_table.as_str())
        .collect();
    assert_eq!(targets, ["customers", "showtimes"]);
    assert_eq!(alter.line_offset, 6);
    assert_eq!(alter.foreign_keys[0].to_table, "fares");
}

#[test]
fn a_rejected_statement_costs_only_itself_and_is_scanned_for_tables() {
    let analysis = analyze(
        "CREATE TABLE a (id INTEGER);
         DO $$ BEGIN INSERT INTO b VALUES (1); END $$;
         CREATE TABLE c (id INTEGER) WITH SOMETHING ODD ((;
         SELECT * FROM a;",
        SqlDialect::Postgres,
    );
    assert_eq!(analysis.statements, 4);
    assert_eq!(analysis.parsed_statements, 2);
    assert_eq!(analysis.problems.len(), 2);
    let declared: Vec<&str> = analysis
        .declarations
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(declared, ["a", "c"]);
    assert!(
        analysis
            .accesses
            .iter()
            .any(|a| a.table == "b" && a.access == Access::Write),
        "the scan finds the insert inside the DO block: {:?}",
        analysis.accesses
    );
}

#[test]
fn splitting_respects_quotes_comments_dollar_quotes_and_trigger_bodies() {
    let text = "INSERT INTO t VALUES ('a;b'); -- trailing; comment\n\
                /* block; comment */ SELECT \"x;y\" FROM t;\n\
                CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n\
                CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE u SET n = n + 1; DELETE FROM v; END;\n\
                SELECT 1";
    let pieces: Vec<&str> = split_statements(text).iter().map(|p| p.text).collect();
    assert_eq!(pieces.len(), 5, "{pieces:#?}");
    assert!(pieces[0].ends_with("('a;b')"));
    assert!(pieces[3].starts_with("CREATE TRIGGER") && pieces[3].ends_with("END"));
    let lines: Vec<u32> = split_statements(text)
        .iter()
        .map(|p| p.line_offset)
        .collect();
    assert_eq!(lines, [0, 1, 2, 3, 4]);
}

#[test]
fn only_whole_statements_count_as_sql_outside_query_calls() {
    assert!(is_whole_sql("SELECT id FROM movies", SqlDialect::Sqlite));
    assert!(is_whole_sql(
        "  update movies set rating = 1",
        SqlDialect::Sqlite
    ));
    assert!(!is_whole_sql(
        "Select the database file",
        SqlDialect::Sqlite
    ));
    assert!(!is_whole_sql("selection of movies", SqlDialect::Sqlite));
    assert!(!is_whole_sql(
        "Deleted 3 rows from the cache",
        SqlDialect::Sqlite
    ));
    assert!(!is_whole_sql("", SqlDialect::Sqlite));
}

#[test]
fn a_whole_sql_literal_is_analyzed_as_it_is_tested() {
    let text = "SELECT m.id FROM movies m JOIN reviews r ON r.movie_id = m.id;\n\
                UPDATE movies SET rating = (SELECT AVG(stars) FROM reviews)";
    let whole = analyze_whole(text, SqlDialect::Sqlite).expect("whole SQL");
    assert_eq!(whole, analyze(text, SqlDialect::Sqlite));
    assert_eq!(whole.parsed_statements, 2);
    assert_eq!(
        analyze_whole("SELECT id FROM movies; Deleted 3 rows", SqlDialect::Sqlite),
        None
    );
}

#[test]
fn mysql_backticks_and_sqlite_replace_are_understood() {
    assert_eq!(
        accesses(
            "REPLACE INTO `seat_holds` (id) VALUES (1)",
            SqlDialect::Mysql
        ),
        ["seat_holds:W:Insert"]
    );
    assert_eq!(
        accesses(
            "INSERT OR REPLACE INTO prices (id) VALUES (?)",
            SqlDialect::Sqlite
        ),
        ["prices:W:Insert"]
    );
}
