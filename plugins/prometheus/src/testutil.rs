//! Helpers for the unit tests: Prometheus-shaped answers and reading a request's
//! query back in plain text.

/// A successful instant-vector answer: (labels as JSON object members, value).
pub fn vector(items: &[(&str, &str)]) -> String {
    let result: Vec<String> = items
        .iter()
        .map(|(labels, v)| format!(r#"{{"metric":{{{labels}}},"value":[1700000000,"{v}"]}}"#))
        .collect();
    format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{}]}}}}"#,
        result.join(",")
    )
}

/// `text` percent-decoded.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%').then(|| text.get(i + 1..i + 3)).flatten();
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
