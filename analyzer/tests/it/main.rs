//! Integration tests of the code model: fixture trees in, the model (or a readable summary of
//! it) out. One test binary keeps link times down.

mod bad_input;
mod fixtures;
mod sample_monolith;
mod summary;
