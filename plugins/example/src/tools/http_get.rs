//! `http_get`: one GET on a granted endpoint (the http capability).

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::{http, text};

#[derive(Deserialize, JsonSchema)]
struct HttpGetArgs {
    /// Path and query below the endpoint's base URL, such as `/status?verbose=1`.
    path: String,
    /// The endpoint to call; the manifest asks for `web`.
    #[serde(default = "web")]
    endpoint: String,
}

fn web() -> String {
    "web".into()
}

#[derive(Serialize, JsonSchema)]
struct HttpAnswer {
    status: u16,
    body: String,
}

fn http_get(args: HttpGetArgs) -> Result<Answer<HttpAnswer>, ToolError> {
    let response = http::fetch(&http::Request {
        endpoint: args.endpoint.clone(),
        method: http::Method::Get,
        path_and_query: args.path.clone(),
        headers: Vec::new(),
        body: None,
    })?;
    let (body, cut) = text::truncate_chars(&response.text(), 4000);
    let mut out = format!(
        "HTTP {} from endpoint `{}` {}\n\n{body}",
        response.status, args.endpoint, args.path
    );
    if cut > 0 {
        out.push_str(&format!("\n\n({cut} more characters left out)"));
    }
    let answer = HttpAnswer {
        status: response.status,
        body: response.text(),
    };
    Ok(Answer::new(out, answer))
}

pub fn def() -> ToolDef {
    tool(
        "http_get",
        "GET a path on a granted HTTP endpoint and show status and body.",
        http_get,
    )
    .title("HTTP GET")
    .read_only()
    .open_world()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::prelude::*;
    use plue_plugin_sdk::testing;

    use crate::plugin;

    #[test]
    fn http_get_reports_status() {
        testing::fake_http(|req| {
            assert_eq!(req.path_and_query, "/status");
            Ok(testing::response(503, "down"))
        });
        let out = testing::call(&plugin(), "http_get", json!({"path": "/status"})).unwrap();
        assert!(out.text_content().starts_with("HTTP 503"));
    }
}
