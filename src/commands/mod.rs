//! What each subcommand does once its arguments are parsed: call a library, print the result.
//! One module per subcommand, so each stays a thin shell over its library.

pub mod analyze;
pub mod demo;
pub mod export;
pub mod plan;
pub mod proxy;
pub mod scaffold;
