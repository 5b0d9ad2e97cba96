//! The common library every business area uses: database access, errors, extractors, ids,
//! money, pagination, time and validation. It knows no business area.

pub mod db;
pub mod errors;
pub mod extract;
pub mod ids;
pub mod migrations;
pub mod money;
pub mod pagination;
pub mod time;
pub mod validation;
