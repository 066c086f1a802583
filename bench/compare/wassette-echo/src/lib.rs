//! The peer side of the echo comparison: Wassette turns each exported function of a
//! component into a tool, so this component exports one, `echo`, that does what the example
//! plugin's `echo` does and nothing else.

wit_bindgen::generate!({ world: "echo", path: "wit" });

struct Echo;

impl Guest for Echo {
    fn echo(text: String) -> String {
        text
    }
}

export!(Echo);
