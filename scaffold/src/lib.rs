//! Scaffold renders one proposed bounded context as a new service crate: a map from relative
//! path to file contents. It writes nothing itself; the CLI puts the files on disk.
#![deny(clippy::print_stdout, clippy::print_stderr)]
