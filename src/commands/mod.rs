//! What each subcommand does: call a library, print what it returns.

pub mod proxy;
