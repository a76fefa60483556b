//! `hcount`: see the README. All the work is in the library; this only sets the exit code.

fn main() {
    std::process::exit(hcount::cli::main());
}
