//! `throughcare`: the server and command-line interface.

fn main() {}
