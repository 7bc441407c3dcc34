//! The report as Markdown: tables a person reads over coffee, with small
//! inline bar charts where a glance says more than a number.
//!
//! Rendering only formats what [`super::figures`] gathered; it never
//! computes a figure, so the Markdown and the JSON always agree.

use std::fmt::Write as _;

use super::figures::{Client, Dns, Period, Report};

/// Rows in each top-N table.
pub const TOP: usize = 10;

/// Width of a full inline bar, in characters.
const BAR_WIDTH: usize = 20;

/// Renders the whole report.
pub fn render(report: &Report) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let heading = match report.period {
        Period::Day => "Client activity",
        Period::Week => "Weekly client activity",
        Period::Month => "Monthly client activity",
    };
    let _ = writeln!(out, "# {heading} — {}\n", report.title);
    let _ = write!(
        out,
        "{} → {}{}",
        report.window.start_local,
        report.window.end_local,
        if report.partial { " (so far)" } else { "" }
    );
    if let Some(instance) = &report.instance {
        let _ = write!(out, " · lanwatch `{instance}`");
    }
    let _ = writeln!(
        out,
        " · from Prometheus {} · generated {}\n",
        report.prometheus, report.generated
    );

    summary(&mut out, report);
    top_clients(&mut out, report);
    dns(&mut out, report);
    protocols(&mut out, report);
    new_devices(&mut out, report);
    gone_quiet(&mut out, report);
    changes(&mut out, report);
    peak_hours(&mut out, report);
    all_clients(&mut out, report);
    out
}

fn summary(out: &mut String, r: &Report) {
    let s = &r.summary;
    out.push_str("## Summary\n\n");
    out.push_str(
        "| Downloaded | Uploaded | Active clients | New clients | Connections | DNS queries |\n",
    );
    out.push_str("|---:|---:|---:|---:|---:|---:|\n");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} |\n",
        bytes(s.download_bytes),
        bytes(s.upload_bytes),
        s.active_clients,
        s.new_clients,
        count(s.connections),
        s.dns_queries.map_or_else(|| "—".to_string(), count)
    );
}

/// A ranked table of clients by one figure, with a bar per row.
fn ranking(
    out: &mut String,
    title: &str,
    column: &str,
    clients: &[&Client],
    figure: impl Fn(&Client) -> f64,
    format: impl Fn(f64) -> String,
) {
    let _ = writeln!(out, "## {title}\n");
    let mut ranked: Vec<&Client> = clients
        .iter()
        .copied()
        .filter(|c| figure(c) > 0.0)
        .collect();
    ranked.sort_by(|a, b| {
        figure(b)
            .total_cmp(&figure(a))
            .then_with(|| a.key.cmp(&b.key))
    });
    ranked.truncate(TOP);
    if ranked.is_empty() {
        out.push_str("None.\n\n");
        return;
    }
    let max = ranked.first().map_or(0.0, |c| figure(c));
    let _ = writeln!(out, "| # | Client | IP | {column} | |");
    out.push_str("|---:|---|---|---:|---|\n");
    for (i, c) in ranked.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            i + 1,
            cell(&c.name),
            cell(&c.ip),
            format(figure(c)),
            bar(figure(c), max)
        );
    }
    out.push('\n');
}

fn top_clients(out: &mut String, r: &Report) {
    let clients: Vec<&Client> = r.clients.iter().collect();
    ranking(
        out,
        "Top downloaders",
        "Downloaded",
        &clients,
        |c| c.download_bytes,
        bytes,
    );
    ranking(
        out,
        "Top uploaders",
        "Uploaded",
        &clients,
        |c| c.upload_bytes,
        bytes,
    );
    ranking(
        out,
        "Most connections",
        "Connections",
        &clients,
        |c| c.connections,
        count,
    );
}

fn dns(out: &mut String, r: &Report) {
    out.push_str("## DNS\n\n");
    let Some(dns) = &r.dns else {
        out.push_str("No DNS figures in Prometheus for this period.\n\n");
        return;
    };
    let _ = writeln!(
        out,
        "{} queries, {} answered NXDOMAIN.\n",
        count(dns.queries),
        count(dns.nxdomain)
    );

    dns_clients(out, r);
    dns_types(out, dns);
    dns_domains(out, dns);
    dns_nxdomain(out, r);
}

/// The clients that asked most, with their NXDOMAIN answers and names.
fn dns_clients(out: &mut String, r: &Report) {
    out.push_str("### Top clients by queries\n\n");
    let mut ranked: Vec<&Client> = r.clients.iter().filter(|c| c.dns_queries > 0.0).collect();
    ranked.sort_by(|a, b| {
        b.dns_queries
            .total_cmp(&a.dns_queries)
            .then_with(|| a.key.cmp(&b.key))
    });
    ranked.truncate(TOP);
    if ranked.is_empty() {
        out.push_str("None.\n\n");
    } else {
        let max = ranked.first().map_or(0.0, |c| c.dns_queries);
        out.push_str(
            "| # | Client | Queries | NXDOMAIN | Unique names | |\n|---:|---|---:|---:|---:|---|\n",
        );
        for (i, c) in ranked.iter().enumerate() {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                i + 1,
                cell(&c.name),
                count(c.dns_queries),
                count(c.nxdomain),
                c.unique_domains.map_or_else(|| "—".to_string(), count),
                bar(c.dns_queries, max)
            );
        }
        out.push('\n');
    }
}

/// The queries by type.
fn dns_types(out: &mut String, dns: &Dns) {
    out.push_str("### Query types\n\n");
    if dns.by_type.is_empty() {
        out.push_str("None.\n\n");
    } else {
        let max = dns.by_type.first().map_or(0.0, |t| t.1);
        out.push_str("| Type | Queries | |\n|---|---:|---|\n");
        for (query_type, n) in &dns.by_type {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                cell(query_type),
                count(*n),
                bar(*n, max)
            );
        }
        out.push('\n');
    }
}

/// The domains with the most traffic.
fn dns_domains(out: &mut String, dns: &Dns) {
    out.push_str("### Top domains by traffic\n\n");
    if dns.top_domains.is_empty() {
        out.push_str("None.\n\n");
    } else {
        out.push_str("| Domain | Downloaded | Uploaded | Clients |\n|---|---:|---:|---:|\n");
        for d in dns.top_domains.iter().take(TOP) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&d.domain),
                bytes(d.download_bytes),
                bytes(d.upload_bytes),
                d.clients
            );
        }
        out.push('\n');
    }
}

/// The clients with NXDOMAIN answers, most first.
fn dns_nxdomain(out: &mut String, r: &Report) {
    out.push_str("### NXDOMAIN\n\n");
    let mut failing: Vec<&Client> = r.clients.iter().filter(|c| c.nxdomain > 0.0).collect();
    failing.sort_by(|a, b| {
        b.nxdomain
            .total_cmp(&a.nxdomain)
            .then_with(|| a.key.cmp(&b.key))
    });
    if failing.is_empty() {
        out.push_str("None.\n\n");
    } else {
        out.push_str("| Client | NXDOMAIN | Share of its queries |\n|---|---:|---:|\n");
        for c in failing.iter().take(TOP) {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                cell(&c.name),
                count(c.nxdomain),
                percent(c.nxdomain, c.dns_queries)
            );
        }
        out.push('\n');
    }
}

fn protocols(out: &mut String, r: &Report) {
    out.push_str("## Protocols\n\n");
    let total: f64 = r
        .protocols
        .iter()
        .map(|p| p.download_bytes + p.upload_bytes)
        .sum();
    if total <= 0.0 {
        out.push_str("No traffic.\n\n");
        return;
    }
    let max = r
        .protocols
        .first()
        .map_or(0.0, |p| p.download_bytes + p.upload_bytes);
    out.push_str("| Protocol | Downloaded | Uploaded | Share | |\n|---|---:|---:|---:|---|\n");
    for p in r
        .protocols
        .iter()
        .filter(|p| p.download_bytes + p.upload_bytes > 0.0)
    {
        let both = p.download_bytes + p.upload_bytes;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&p.protocol),
            bytes(p.download_bytes),
            bytes(p.upload_bytes),
            percent(both, total),
            bar(both, max)
        );
    }
    out.push('\n');
}

fn new_devices(out: &mut String, r: &Report) {
    out.push_str("## Devices first seen\n\n");
    let new: Vec<&Client> = r.clients.iter().filter(|c| c.new).collect();
    if new.is_empty() {
        out.push_str("None.\n\n");
        return;
    }
    out.push_str(
        "| Client | IP | MAC | Vendor | Downloaded | Uploaded |\n|---|---|---|---|---:|---:|\n",
    );
    for c in new {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&c.name),
            cell(&c.ip),
            cell(&c.mac),
            cell(&c.vendor),
            bytes(c.download_bytes),
            bytes(c.upload_bytes)
        );
    }
    out.push('\n');
}

fn gone_quiet(out: &mut String, r: &Report) {
    out.push_str("## Devices gone quiet\n\n");
    if r.gone_quiet.is_empty() {
        out.push_str("None.\n\n");
        return;
    }
    let _ = writeln!(
        out,
        "Active in {}, silent in this period.\n",
        r.comparison.label
    );
    out.push_str("| Client | IP | Downloaded before | Uploaded before | Last seen |\n|---|---|---:|---:|---|\n");
    for q in &r.gone_quiet {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&q.name),
            cell(&q.ip),
            bytes(q.download_bytes_before),
            bytes(q.upload_bytes_before),
            q.last_seen_local.as_deref().unwrap_or("—")
        );
    }
    out.push('\n');
}

fn changes(out: &mut String, r: &Report) {
    let c = &r.comparison;
    let _ = writeln!(out, "## Changes against {}\n", c.label);
    let _ = writeln!(
        out,
        "Downloaded {} against {} ({}), uploaded {} against {} ({}).\n",
        bytes(r.summary.download_bytes),
        bytes(c.download_bytes_before),
        change(r.summary.download_bytes, c.download_bytes_before),
        bytes(r.summary.upload_bytes),
        bytes(c.upload_bytes_before),
        change(r.summary.upload_bytes, c.upload_bytes_before),
    );
    if c.changes.is_empty() {
        out.push_str("No client changed notably.\n\n");
        return;
    }
    out.push_str("| Client | | Now | Before | Change |\n|---|---|---:|---:|---:|\n");
    for ch in c.changes.iter().take(TOP) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&ch.name),
            ch.what,
            bytes(ch.now_bytes),
            bytes(ch.before_bytes),
            change(ch.now_bytes, ch.before_bytes)
        );
    }
    out.push('\n');
}

fn peak_hours(out: &mut String, r: &Report) {
    if r.period == Period::Day {
        return;
    }
    out.push_str("## Peak hours\n\n");
    if r.peak_hours.is_empty() {
        out.push_str("Not enough history for hourly figures.\n\n");
        return;
    }
    out.push_str("Traffic by local hour of day, 00 to 23 (Prometheus's hourly estimates).\n\n");
    out.push_str("| Client | Busiest hour | 00 ⋯ 23 |\n|---|---|---|\n");
    for p in r.peak_hours.iter().take(TOP * 2) {
        let _ = writeln!(
            out,
            "| {} | {:02}:00–{:02}:00 | {} |",
            cell(&p.name),
            p.peak_hour,
            (p.peak_hour + 1) % 24,
            sparkline(&p.by_hour)
        );
    }
    out.push('\n');
}

fn all_clients(out: &mut String, r: &Report) {
    out.push_str("## All clients\n\n");
    if r.clients.is_empty() {
        out.push_str("None.\n");
        return;
    }
    out.push_str("| Client | IP | MAC | Vendor | Downloaded | Uploaded | Connections | DNS queries | Last seen |\n");
    out.push_str("|---|---|---|---|---:|---:|---:|---:|---|\n");
    for c in &r.clients {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&c.name),
            cell(&c.ip),
            cell(&c.mac),
            cell(&c.vendor),
            bytes(c.download_bytes),
            bytes(c.upload_bytes),
            count(c.connections),
            if r.dns.is_some() {
                count(c.dns_queries)
            } else {
                "—".to_string()
            },
            c.last_seen_local.as_deref().unwrap_or("—")
        );
    }
}

/// Bytes in binary units with one decimal: `461.7 KiB`.
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if !n.is_finite() {
        return "—".to_string();
    }
    let n = n + 0.0; // no "-0 B" from an empty sum
    if n.abs() < 1024.0 {
        return format!("{} B", n.round());
    }
    let mut value = n / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value.abs() < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

/// A count, rounded to a whole number.
pub fn count(n: f64) -> String {
    if n.is_finite() {
        format!("{}", n.round() + 0.0)
    } else {
        "—".to_string()
    }
}

fn percent(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        let p = part / whole * 100.0;
        if p > 0.0 && p < 1.0 {
            "<1%".to_string()
        } else {
            format!("{p:.0}%")
        }
    } else {
        "—".to_string()
    }
}

/// "+150%", "−40%", "new".
fn change(now: f64, before: f64) -> String {
    if before <= 0.0 {
        return if now > 0.0 {
            "new".to_string()
        } else {
            "—".to_string()
        };
    }
    let p = (now - before) / before * 100.0;
    if p >= 0.0 {
        format!("+{p:.0}%")
    } else {
        format!("−{:.0}%", -p)
    }
}

/// A horizontal bar of `value` against `max`, in eighths of a character.
pub fn bar(value: f64, max: f64) -> String {
    const EIGHTHS: [char; 8] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];
    if max.is_nan() || value.is_nan() || max <= 0.0 || value <= 0.0 {
        return String::new();
    }
    let eighths = ((value / max).min(1.0) * (BAR_WIDTH * 8) as f64).round() as usize;
    let eighths = eighths.max(1);
    let mut s = "█".repeat(eighths / 8);
    // No partial block when the length is a whole number of blocks.
    if let Some(&c) = (eighths % 8).checked_sub(1).and_then(|i| EIGHTHS.get(i)) {
        s.push(c);
    }
    s
}

/// One character per value, its height relative to the largest.
pub fn sparkline(values: &[f64]) -> String {
    const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().fold(0.0_f64, f64::max);
    values
        .iter()
        .map(|v| {
            if max.is_nan() || v.is_nan() || max <= 0.0 || *v <= 0.0 {
                ' '
            } else {
                let level = ((v / max) * 7.0).round() as usize;
                // At most 7 (v <= max); the highest level is full anyway.
                LEVELS.get(level).copied().unwrap_or('█')
            }
        })
        .collect()
}

/// Text safe inside a table cell: pipes escaped, newlines flattened, empty
/// shown as a dash.
fn cell(text: &str) -> String {
    if text.is_empty() {
        return "—".to_string();
    }
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_use_binary_units_with_one_decimal() {
        assert_eq!(bytes(0.0), "0 B");
        assert_eq!(bytes(-0.0), "0 B");
        assert_eq!(bytes(1023.0), "1023 B");
        assert_eq!(bytes(1024.0), "1.0 KiB");
        assert_eq!(bytes(472_797.0), "461.7 KiB");
        assert_eq!(bytes(1.5 * 1024.0 * 1024.0 * 1024.0), "1.5 GiB");
    }

    #[test]
    fn bars_scale_to_the_largest_value_in_eighths() {
        assert_eq!(bar(10.0, 10.0), "█".repeat(BAR_WIDTH));
        assert_eq!(bar(5.0, 10.0), "█".repeat(BAR_WIDTH / 2));
        assert_eq!(bar(1.0, 160.0), "▏", "one eighth of a character");
        assert_eq!(bar(0.001, 1e9), "▏", "anything above zero shows");
        assert_eq!(bar(0.0, 10.0), "");
        assert_eq!(bar(f64::NAN, 10.0), "");
    }

    #[test]
    fn sparklines_have_one_character_per_value() {
        let s = sparkline(&[0.0, 1.0, 4.0, 8.0]);
        assert_eq!(s.chars().count(), 4);
        assert_eq!(s, " ▂▅█");
        assert_eq!(sparkline(&[0.0; 3]), "   ");
    }

    #[test]
    fn changes_read_as_percentages() {
        assert_eq!(change(150.0, 100.0), "+50%");
        assert_eq!(change(60.0, 100.0), "−40%");
        assert_eq!(change(5.0, 0.0), "new");
    }

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(cell(""), "—");
    }
}
