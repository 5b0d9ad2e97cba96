//! Bad input never panics: each problem is a diagnostic and the rest of the tree is analyzed.
