//! SQL text to table accesses and table declarations.
//!
//! Every piece of SQL the analyzer meets (a literal in code, a migration file) goes through
//! here: it is split into statements, each statement is parsed on its own with `sqlparser`
//! so that one statement the parser rejects costs only that statement, and a keyword scan
//! recovers table names from the rejected ones.

mod scan;
mod split;

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use sqlparser::ast::{
    AlterTableOperation, ColumnOption, CreateTable, Delete, FromTable, ObjectName, ObjectNamePart,
    Query, Statement, TableConstraint, TableFactor, TableObject, Visit, Visitor,
};
use sqlparser::dialect::{GenericDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use crate::model::{Access, Column, ForeignKey, SqlDialect, StatementKind};

pub(crate) use split::split_statements;

/// One table touched by one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableAccess {
    pub table: String,
    pub access: Access,
    pub statement: StatementKind,
    /// Line of the statement inside the analyzed text, 0-based.
    pub line_offset: u32,
}

/// A table declaration (or an alteration of one) found in DDL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableDeclaration {
    pub name: String,
    pub columns: Vec<Column>,
    pub foreign_keys: Vec<ForeignKey>,
    /// `CREATE TABLE` (true) or `ALTER TABLE` (false).
    pub creates: bool,
    pub line_offset: u32,
}

/// A statement that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqlProblem {
    pub line_offset: u32,
    pub message: String,
}

/// What one SQL text holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SqlAnalysis {
    pub accesses: Vec<TableAccess>,
    pub declarations: Vec<TableDeclaration>,
    pub problems: Vec<SqlProblem>,
    /// Number of statements sqlparser accepted.
    pub parsed_statements: usize,
    /// Number of non-empty statements in the text.
    pub statements: usize,
}

/// Parses one statement with the chosen dialect, then with the generic one.
fn parse_statement(text: &str, dialect: SqlDialect) -> Result<Vec<Statement>, String> {
    let parsed = match dialect {
        SqlDialect::Sqlite => Parser::parse_sql(&SQLiteDialect {}, text),
        SqlDialect::Postgres => Parser::parse_sql(&PostgreSqlDialect {}, text),
        SqlDialect::Mysql => Parser::parse_sql(&MySqlDialect {}, text),
        SqlDialect::Generic => Parser::parse_sql(&GenericDialect {}, text),
    };
    match parsed {
        Ok(statements) => Ok(statements),
        Err(first) if dialect != SqlDialect::Generic => {
            Parser::parse_sql(&GenericDialect {}, text).map_err(|_| first.to_string())
        }
        Err(error) => Err(error.to_string()),
    }
}

/// Analyzes a SQL text of any number of statements. Statements the parser rejects are
/// reported in `problems` and scanned for table names.
pub(crate) fn analyze(text: &str, dialect: SqlDialect) -> SqlAnalysis {
    let mut analysis = SqlAnalysis::default();
    for piece in split_statements(text) {
        analysis.statements += 1;
        match parse_statement(piece.text, dialect) {
            Ok(statements) => {
                analysis.parsed_statements += 1;
                for statement in &statements {
                    describe_statement(statement, piece.line_offset, &mut analysis);
                }
            }
            Err(message) => {
                analysis.problems.push(SqlProblem {
                    line_offset: piece.line_offset,
                    message,
                });
                scan::scan_statement(piece.text, piece.line_offset, &mut analysis);
            }
        }
    }
    analysis
}

/// Whether a literal found outside any query-like call is SQL: it must start with a statement
/// keyword and sqlparser must accept every statement in it. Log messages and doc strings that
/// merely start with "Select" fail the second test.
#[cfg(test)]
pub(crate) fn is_whole_sql(text: &str, dialect: SqlDialect) -> bool {
    analyze_whole(text, dialect).is_some()
}

/// [`analyze`] of a literal that passes the test of [`is_whole_sql`], or `None` when it does
/// not: each statement is parsed once, for the test and the analysis alike (what `analyze`
/// gives for a text whose every statement parses).
pub(crate) fn analyze_whole(text: &str, dialect: SqlDialect) -> Option<SqlAnalysis> {
    if !starts_with_statement_keyword(text) {
        return None;
    }
    let pieces = split_statements(text);
    if pieces.is_empty() {
        return None;
    }
    let mut analysis = SqlAnalysis::default();
    for piece in pieces {
        let statements = parse_statement(piece.text, dialect)
            .ok()
            .filter(|statements| !statements.is_empty())?;
        analysis.statements += 1;
        analysis.parsed_statements += 1;
        for statement in &statements {
            describe_statement(statement, piece.line_offset, &mut analysis);
        }
    }
    Some(analysis)
}

/// Cheap filter before parsing a literal of unknown purpose.
pub(crate) fn starts_with_statement_keyword(text: &str) -> bool {
    const KEYWORDS: [&str; 10] = [
        "select", "insert", "update", "delete", "with", "replace", "create", "alter", "merge",
        "upsert",
    ];
    let trimmed = text.trim_start();
    let length = trimmed
        .bytes()
        .position(|b| !b.is_ascii_alphabetic())
        .unwrap_or(trimmed.len());
    let (word, rest) = trimmed.split_at(length);
    KEYWORDS.iter().any(|k| word.eq_ignore_ascii_case(k))
        && rest.starts_with(|c: char| c.is_whitespace() || c == '(')
}

/// Table name as the model keys it: last part, lower case, quotes removed.
pub(crate) fn table_name(name: &ObjectName) -> Option<String> {
    match name.0.last()? {
        ObjectNamePart::Identifier(ident) => Some(ident.value.to_lowercase()),
        ObjectNamePart::Function(_) => None,
    }
}

/// Collects every relation a statement names, with multiplicity, and the CTE names it defines.
#[derive(Default)]
struct RelationCollector {
    relations: BTreeMap<String, usize>,
    cte_names: Vec<String>,
}

impl Visitor for RelationCollector {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.cte_names.push(cte.alias.name.value.to_lowercase());
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        if let Some(name) = table_name(relation) {
            *self.relations.entry(name).or_default() += 1;
        }
        ControlFlow::Continue(())
    }
}

fn factor_table(factor: &TableFactor) -> Option<String> {
    match factor {
        TableFactor::Table { name, .. } => table_name(name),
        _ => None,
    }
}

/// Write targets of a DELETE, and whether the visitor saw them as relations.
fn delete_targets(delete: &Delete) -> Vec<(String, bool)> {
    if !delete.tables.is_empty() {
        return delete
            .tables
            .iter()
            .filter_map(table_name)
            .map(|name| (name, false))
            .collect();
    }
    let from = match &delete.from {
        FromTable::WithFromKeyword(tables) | FromTable::WithoutKeyword(tables) => tables,
    };
    from.iter()
        .filter_map(|t| factor_table(&t.relation))
        .map(|name| (name, true))
        .collect()
}

fn describe_statement(statement: &Statement, line_offset: u32, out: &mut SqlAnalysis) {
    // (table, whether that occurrence is among the visited relations)
    let (kind, targets): (StatementKind, Vec<(String, bool)>) = match statement {
        Statement::Query(_) => (StatementKind::Select, Vec::new()),
        Statement::Insert(insert) => {
            let target = match &insert.table {
                TableObject::TableName(name) => table_name(name).map(|n| (n, true)),
                _ => None,
            };
            (StatementKind::Insert, target.into_iter().collect())
        }
        Statement::Update(update) => (
            StatementKind::Update,
            factor_table(&update.table.relation)
                .map(|n| (n, true))
                .into_iter()
                .collect(),
        ),
        Statement::Delete(delete) => (StatementKind::Delete, delete_targets(delete)),
        Statement::Merge(merge) => (
            StatementKind::Merge,
            factor_table(&merge.table)
                .map(|n| (n, true))
                .into_iter()
                .collect(),
        ),
        Statement::CreateTable(create) => {
            out.declarations
                .push(create_table_declaration(create, line_offset));
            if let Some(query) = &create.query {
                read_relations(query.as_ref(), line_offset, StatementKind::Select, out);
            }
            return;
        }
        Statement::AlterTable(alter) => {
            if let Some(declaration) = alter_table_declaration(alter, line_offset) {
                out.declarations.push(declaration);
            }
            return;
        }
        // DDL other than tables, transactions, pragmas: nothing to record.
        _ => return,
    };
    let mut collector = RelationCollector::default();
    let _ = statement.visit(&mut collector);
    let mut relations = collector.relations;
    for (target, visited) in &targets {
        out.accesses.push(TableAccess {
            table: target.clone(),
            access: Access::Write,
            statement: kind,
            line_offset,
        });
        if *visited && let Some(count) = relations.get_mut(target) {
            *count = count.saturating_sub(1);
        }
    }
    for (name, count) in relations {
        if count > 0 && !collector.cte_names.contains(&name) {
            out.accesses.push(TableAccess {
                table: name,
                access: Access::Read,
                statement: kind,
                line_offset,
            });
        }
    }
}

fn read_relations<V: Visit>(
    node: &V,
    line_offset: u32,
    kind: StatementKind,
    out: &mut SqlAnalysis,
) {
    let mut collector = RelationCollector::default();
    let _ = node.visit(&mut collector);
    for name in collector.relations.into_keys() {
        if !collector.cte_names.contains(&name) {
            out.accesses.push(TableAccess {
                table: name,
                access: Access::Read,
                statement: kind,
                line_offset,
            });
        }
    }
}

fn column_from_def(def: &sqlparser::ast::ColumnDef) -> (Column, Option<ForeignKey>) {
    let name = def.name.value.to_lowercase();
    let mut primary_key = false;
    let mut foreign_key = None;
    for option in &def.options {
        match &option.option {
            ColumnOption::PrimaryKey(_) => primary_key = true,
            ColumnOption::ForeignKey(fk) => {
                if let Some(to_table) = table_name(&fk.foreign_table) {
                    foreign_key = Some(ForeignKey {
                        columns: vec![name.clone()],
                        to_table,
                        to_columns: fk
                            .referred_columns
                            .iter()
                            .map(|c| c.value.to_lowercase())
                            .collect(),
                    });
                }
            }
            _ => {}
        }
    }
    let column = Column {
        name,
        data_type: def.data_type.to_string(),
        primary_key,
    };
    (column, foreign_key)
}

fn constraint_foreign_key(constraint: &TableConstraint) -> Option<ForeignKey> {
    match constraint {
        TableConstraint::ForeignKey(fk) => Some(ForeignKey {
            columns: fk.columns.iter().map(|c| c.value.to_lowercase()).collect(),
            to_table: table_name(&fk.foreign_table)?,
            to_columns: fk
                .referred_columns
                .iter()
                .map(|c| c.value.to_lowercase())
                .collect(),
        }),
        _ => None,
    }
}

fn constraint_primary_key(constraint: &TableConstraint) -> Vec<String> {
    match constraint {
        TableConstraint::PrimaryKey(pk) => pk
            .columns
            .iter()
            .map(|c| c.column.expr.to_string().trim_matches('"').to_lowercase())
            .collect(),
        _ => Vec::new(),
    }
}

fn create_table_declaration(create: &CreateTable, line_offset: u32) -> TableDeclaration {
    let mut columns = Vec::new();
    let mut foreign_keys = Vec::new();
    for def in &create.columns {
        let (column, fk) = column_from_def(def);
        columns.push(column);
        foreign_keys.extend(fk);
    }
    for constraint in &create.constraints {
        foreign_keys.extend(constraint_foreign_key(constraint));
        for key in constraint_primary_key(constraint) {
            if let Some(column) = columns.iter_mut().find(|c| c.name == key) {
                column.primary_key = true;
            }
        }
    }
    TableDeclaration {
        name: table_name(&create.name).unwrap_or_default(),
        columns,
        foreign_keys,
        creates: true,
        line_offset,
    }
}

fn alter_table_declaration(
    alter: &sqlparser::ast::AlterTable,
    line_offset: u32,
) -> Option<TableDeclaration> {
    let mut declaration = TableDeclaration {
        name: table_name(&alter.name)?,
        columns: Vec::new(),
        foreign_keys: Vec::new(),
        creates: false,
        line_offset,
    };
    for operation in &alter.operations {
        match operation {
            AlterTableOperation::AddColumn { column_def, .. } => {
                let (column, fk) = column_from_def(column_def);
                declaration.columns.push(column);
                declaration.foreign_keys.extend(fk);
            }
            AlterTableOperation::AddConstraint { constraint, .. } => {
                declaration
                    .foreign_keys
                    .extend(constraint_foreign_key(constraint));
            }
            _ => {}
        }
    }
    Some(declaration)
}

#[cfg(test)]
mod tests;
