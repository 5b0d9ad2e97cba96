//! The table catalogue: DDL from migration files and from literals in code, plus diesel
//! `table!` and `joinable!` declarations, merged by table name.

use std::collections::{BTreeMap, BTreeSet};

use crate::facts::FileFacts;
use crate::model::{Column, ForeignKey, Location, Table};
use crate::sql::{SqlAnalysis, TableDeclaration};

/// Diesel table names with their column names, for recognising DSL paths in bodies.
pub(crate) fn diesel_table_names(facts: &[FileFacts]) -> BTreeMap<String, BTreeSet<String>> {
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for table in facts.iter().flat_map(|f| &f.diesel_tables) {
        names
            .entry(table.name.clone())
            .or_default()
            .extend(table.columns.iter().map(|(name, _)| name.clone()));
    }
    names
}

fn merge(tables: &mut BTreeMap<String, Table>, declaration: &TableDeclaration, location: Location) {
    if declaration.name.is_empty() {
        return;
    }
    let table = tables
        .entry(declaration.name.clone())
        .or_insert_with(|| Table {
            name: declaration.name.clone(),
            columns: Vec::new(),
            foreign_keys: Vec::new(),
            declared_at: Vec::new(),
        });
    for column in &declaration.columns {
        if !table.columns.iter().any(|c| c.name == column.name) {
            table.columns.push(column.clone());
        }
    }
    for key in &declaration.foreign_keys {
        if !table.foreign_keys.contains(key) {
            table.foreign_keys.push(key.clone());
        }
    }
    if !table.declared_at.contains(&location) {
        table.declared_at.push(location);
    }
}

/// Builds the catalogue. Migrations first (in path order), then code, then diesel.
pub(crate) fn build_tables(
    rust_files: &[String],
    facts: &[FileFacts],
    sql_files: &[String],
    sql_analyses: &[SqlAnalysis],
) -> BTreeMap<String, Table> {
    let mut tables = BTreeMap::new();
    for (file, analysis) in sql_files.iter().zip(sql_analyses) {
        for declaration in &analysis.declarations {
            let location = Location {
                file: file.clone(),
                line: declaration.line_offset + 1,
            };
            merge(&mut tables, declaration, location);
        }
    }
    for (file, file_facts) in rust_files.iter().zip(facts) {
        for located in &file_facts.declarations {
            let location = Location {
                file: file.clone(),
                line: located.line,
            };
            merge(&mut tables, &located.declaration, location);
        }
        for diesel in &file_facts.diesel_tables {
            let declaration = TableDeclaration {
                name: diesel.name.clone(),
                columns: diesel
                    .columns
                    .iter()
                    .map(|(name, data_type)| Column {
                        name: name.clone(),
                        data_type: data_type.clone(),
                        primary_key: diesel.primary_key.contains(name),
                    })
                    .collect(),
                foreign_keys: Vec::new(),
                creates: true,
                line_offset: 0,
            };
            let location = Location {
                file: file.clone(),
                line: diesel.line,
            };
            merge(&mut tables, &declaration, location);
        }
    }
    for join in facts.iter().flat_map(|f| &f.diesel_joins) {
        if let Some(table) = tables.get_mut(&join.child) {
            let key = ForeignKey {
                columns: vec![join.column.clone()],
                to_table: join.parent.clone(),
                to_columns: Vec::new(),
            };
            let known = table
                .foreign_keys
                .iter()
                .any(|k| k.columns == key.columns && k.to_table == key.to_table);
            if !known {
                table.foreign_keys.push(key);
            }
        }
    }
    for table in tables.values_mut() {
        table.foreign_keys.sort();
        table.declared_at.sort();
    }
    tables
}
