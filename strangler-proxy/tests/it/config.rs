//! A refused config names the file, the line and the reason; a good one loads.

use strangler_proxy::ValidConfig;

fn refuse(text: &str) -> String {
    match ValidConfig::from_toml_str(text, "strangler.toml") {
        Ok(_) => panic!("config accepted:\n{text}"),
        Err(error) => error.to_string(),
    }
}

const UPSTREAMS: &str = r#"listen = "127.0.0.1:8080"
[upstreams.monolith]
endpoints = ["http://127.0.0.1:3000"]
[upstreams.reviews]
endpoints = ["http://127.0.0.1:4001"]
[default]
primary = "monolith"
"#;

#[test]
fn the_documented_example_is_valid() {
    let text = format!(
        "{UPSTREAMS}{}",
        r#"
[[routes]]
name = "reviews"
match = { prefix = "/api/reviews", methods = ["GET", "POST"] }
primary = "monolith"
candidate = "reviews"
weight = 0
sticky = { header = "x-user-id" }
"#
    );
    let config = ValidConfig::from_toml_str(&text, "strangler.toml").expect("valid");
    assert_eq!(config.route_names().collect::<Vec<_>>(), ["reviews"]);
    assert_eq!(config.admin().to_string(), "127.0.0.1:9090");
}

#[test]
fn an_unknown_upstream_is_refused_at_its_line() {
    let text = format!(
        "{UPSTREAMS}{}",
        "[[routes]]\nname = \"r\"\nmatch = { prefix = \"/r\" }\nprimary = \"monolith\"\ncandidate = \"ghost\"\n"
    );
    let message = refuse(&text);
    assert!(
        message.starts_with("strangler.toml:12:13: candidate = `ghost` names no upstream"),
        "{message}"
    );
}

#[test]
fn a_weight_out_of_range_is_refused_at_its_line() {
    let text = format!(
        "{UPSTREAMS}{}",
        "[[routes]]\nname = \"r\"\nmatch = { prefix = \"/r\" }\nprimary = \"monolith\"\ncandidate = \"reviews\"\nweight = 130\n"
    );
    let message = refuse(&text);
    assert!(
        message.starts_with("strangler.toml:13:10: weight = 130"),
        "{message}"
    );
}

#[test]
fn a_syntax_error_is_refused_at_its_line() {
    let message = refuse("listen = \"127.0.0.1:8080\"\n[upstreams.x\n");
    assert!(message.starts_with("strangler.toml:2:"), "{message}");
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let text = r#"listen = "nowhere"
admin = "0.0.0.0:9090"
[upstreams.m]
endpoints = ["https://127.0.0.1:3000"]
[[routes]]
name = "r"
match = { prefix = "/r", pattern = "/x/{id}" }
primary = "m"
sticky = { header = "a", cookie = "b" }
[[routes]]
name = "r"
match = { prefix = "/s" }
primary = "m"
"#;
    let message = refuse(text);
    let lines: Vec<&str> = message.lines().collect();
    assert!(
        lines[0].starts_with("strangler.toml: missing [default]"),
        "{message}"
    );
    assert!(
        lines[1].starts_with("strangler.toml:1:10: listen = `nowhere`"),
        "{message}"
    );
    assert!(
        lines[2].contains(":2:") && lines[2].contains("admin_token"),
        "{message}"
    );
    assert!(
        lines[3].contains(":4:") && lines[3].contains("only `http://`"),
        "{message}"
    );
    assert!(
        lines[4].contains(":7:") && lines[4].contains("exactly one of"),
        "{message}"
    );
    assert!(
        lines[5].contains(":9:") && lines[5].contains("sticky"),
        "{message}"
    );
    assert!(
        lines[6].contains(":11:") && lines[6].contains("defined twice"),
        "{message}"
    );
}

#[test]
fn unknown_keys_are_refused_so_typos_do_not_pass_silently() {
    let message = refuse(&format!(
        "{UPSTREAMS}[[routes]]\nname = \"r\"\nmatch = {{ prefix = \"/r\" }}\nprimary = \"monolith\"\nwieght = 5\n"
    ));
    assert!(
        message.contains(":12:1: unknown field `wieght`"),
        "{message}"
    );
}

#[test]
fn a_non_loopback_admin_is_accepted_with_a_token() {
    let text = format!("admin = \"0.0.0.0:9090\"\nadmin_token = \"s3cret\"\n{UPSTREAMS}");
    let config = ValidConfig::from_toml_str(&text, "strangler.toml").expect("valid");
    assert_eq!(config.admin_token(), Some("s3cret"));
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let error = ValidConfig::load(std::path::Path::new("/nonexistent/strangler.toml"))
        .expect_err("no file");
    assert!(
        error
            .to_string()
            .starts_with("/nonexistent/strangler.toml: cannot read"),
        "{error}"
    );
}
