//! Rebuild when a template changes: include_dir embeds `templates/` at compile
//! time but cannot tell cargo to watch it on stable Rust.
fn main() {
    println!("cargo:rerun-if-changed=templates");
}
