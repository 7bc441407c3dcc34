//! The page a person gets who opens the address in a browser.

use crate::export::table;
use crate::track::Snapshot;

/// A small page for a person who opens the address in a browser: where
/// the data is, and the client table.
pub(super) fn landing_page(snapshot: &Snapshot) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let clients = snapshot.clients.len();
    let table = escape_html(&table::render_table(snapshot));
    format!(
        "<!DOCTYPE html>
<html lang=\"en\">
<head><meta charset=\"utf-8\"><title>lanwatch</title></head>
<body>
<h1>lanwatch</h1>
<ul>
<li><a href=\"/metrics\">/metrics</a> &mdash; Prometheus metrics</li>
<li><a href=\"/api/v1/clients\">/api/v1/clients</a> &mdash; clients as JSON</li>
<li><a href=\"/api/v1/health\">/api/v1/health</a> &mdash; lanwatch&#39;s own health as JSON</li>
</ul>
<h2>Clients ({clients})</h2>
<pre>
{table}</pre>
<p>lanwatch {version}</p>
</body>
</html>
"
    )
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_covers_markup_characters() {
        assert_eq!(
            escape_html(r#"<b>"Tom" & 'Jerry'</b>"#),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
    }
}
