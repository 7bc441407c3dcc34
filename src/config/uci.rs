//! A small parser for OpenWrt's UCI configuration files (`/etc/config/*`).
//!
//! lanwatch reads two of them: its own (`/etc/config/lanwatch`, for
//! `check-config`) and the firewall's (to see whether flow offloading is on).
//! Only the file syntax is handled — no `uci` delta directories, no
//! `/var/state` — which is what a daemon that reads, never writes, needs.
//!
//! The syntax, as libuci parses it:
//!
//! ```text
//! package lanwatch                  # optional, ignored
//! config lanwatch 'main'            # a section: type and optional name
//!     option listen_port '19477'    # a single value
//!     list exclude_mac 'aa:bb:…'    # one more value of a list
//! ```
//!
//! A value is one word, made of unquoted, `'single'` and `"double"` quoted
//! pieces written next to each other (`'it'\''s'` is `it's`). A backslash
//! escapes the next character outside single quotes; single quotes take
//! everything literally; quoted pieces may span lines. `#` starts a comment
//! where a word could start. Section and option names are letters, digits
//! and `_`. An `option` replaces earlier values of the same name; a `list`
//! appends (turning an earlier `option` into a list's first item).
//!
//! Everything is kept in file order with line numbers, so callers can name
//! the line of a bad value.

use std::fmt;

/// A parsed configuration file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Package {
    pub sections: Vec<Section>,
}

/// One `config TYPE [NAME]` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub kind: String,
    /// None for an anonymous section.
    pub name: Option<String>,
    /// Line of the `config` keyword (1-based).
    pub line: usize,
    pub options: Vec<OptionEntry>,
}

/// An option or list of a section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionEntry {
    pub name: String,
    pub value: Value,
    /// Line where the value was (last) set.
    pub line: usize,
}

/// What an option holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Single(String),
    List(Vec<String>),
}

impl Value {
    /// The values as a list: one item for a single value.
    pub fn items(&self) -> &[String] {
        match self {
            Value::Single(v) => std::slice::from_ref(v),
            Value::List(items) => items,
        }
    }
}

impl Section {
    pub fn get(&self, name: &str) -> Option<&OptionEntry> {
        self.options.iter().find(|o| o.name == name)
    }

    /// The single value of `name` (the last item, for a list).
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name)
            .and_then(|o| o.value.items().last())
            .map(String::as_str)
    }
}

impl Package {
    /// Sections of type `kind`, in file order.
    pub fn sections_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Section> + 'a {
        self.sections.iter().filter(move |s| s.kind == kind)
    }

    /// The section named `name`.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| s.name.as_deref() == Some(name))
    }
}

/// A syntax error: where, and what.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct SyntaxError {
    pub line: usize,
    pub what: SyntaxProblem,
}

/// What was wrong with a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyntaxProblem {
    UnterminatedQuote,
    /// A keyword other than package/config/option/list.
    UnknownKeyword(String),
    /// `option`/`list` before any `config`.
    OptionOutsideSection,
    /// A keyword with the wrong number of words.
    WordCount {
        keyword: &'static str,
        expected: &'static str,
    },
    /// A section type, section name or option name with characters other
    /// than letters, digits and `_`.
    BadName {
        what: &'static str,
        name: String,
    },
    /// A backslash at the very end of the file.
    TrailingBackslash,
}

impl fmt::Display for SyntaxProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyntaxProblem::UnterminatedQuote => f.write_str("unterminated quote"),
            SyntaxProblem::UnknownKeyword(k) => write!(
                f,
                "unknown keyword {k:?} (expected package, config, option or list)"
            ),
            SyntaxProblem::OptionOutsideSection => {
                f.write_str("option or list before the first 'config' line")
            }
            SyntaxProblem::WordCount { keyword, expected } => {
                write!(f, "'{keyword}' takes {expected}")
            }
            SyntaxProblem::BadName { what, name } => {
                write!(f, "invalid {what} {name:?} (letters, digits and '_' only)")
            }
            SyntaxProblem::TrailingBackslash => f.write_str("backslash at the end of the file"),
        }
    }
}

/// One word of a line and the line it started on.
struct Word {
    text: String,
    line: usize,
}

/// The characters of the text still to split.
type Chars<'t> = std::iter::Peekable<std::str::Chars<'t>>;

/// Splits the text into statements (lists of words), honouring quotes,
/// escapes, comments and quoted newlines.
fn statements(text: &str) -> Result<Vec<Vec<Word>>, SyntaxError> {
    let mut out = Vec::new();
    let mut current: Vec<Word> = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    // Between words.
    while let Some(&c) = chars.peek() {
        match c {
            '\n' => {
                chars.next();
                line = line.saturating_add(1);
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
                continue;
            }
            ' ' | '\t' | '\r' => {
                chars.next();
                continue;
            }
            '#' => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
                continue;
            }
            _ => {}
        }
        let start = line;
        let text = word(&mut chars, &mut line)?;
        current.push(Word { text, line: start });
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

/// A word: adjacent unquoted, '…' and "…" pieces, up to the next blank or
/// newline outside quotes. `line` follows the newlines inside it.
fn word(chars: &mut Chars<'_>, line: &mut usize) -> Result<String, SyntaxError> {
    let start = *line;
    let mut word = String::new();
    while let Some(&c) = chars.peek() {
        match c {
            ' ' | '\t' | '\r' | '\n' => break,
            '\'' => {
                chars.next();
                single_quoted(chars, line, start, &mut word)?;
            }
            '"' => {
                chars.next();
                double_quoted(chars, line, start, &mut word)?;
            }
            '\\' => {
                chars.next();
                match chars.next() {
                    // A line continuation.
                    Some('\n') => *line = line.saturating_add(1),
                    Some(c) => word.push(c),
                    None => {
                        return Err(SyntaxError {
                            line: *line,
                            what: SyntaxProblem::TrailingBackslash,
                        })
                    }
                }
            }
            c => {
                chars.next();
                word.push(c);
            }
        }
    }
    Ok(word)
}

/// The rest of a '…' piece, after its opening quote: no escapes.
fn single_quoted(
    chars: &mut Chars<'_>,
    line: &mut usize,
    start: usize,
    word: &mut String,
) -> Result<(), SyntaxError> {
    loop {
        match chars.next() {
            Some('\'') => return Ok(()),
            Some(c) => {
                if c == '\n' {
                    *line = line.saturating_add(1);
                }
                word.push(c);
            }
            None => {
                return Err(SyntaxError {
                    line: start,
                    what: SyntaxProblem::UnterminatedQuote,
                })
            }
        }
    }
}

/// The rest of a "…" piece, after its opening quote: a backslash escapes
/// the next character, or continues the line.
fn double_quoted(
    chars: &mut Chars<'_>,
    line: &mut usize,
    start: usize,
    word: &mut String,
) -> Result<(), SyntaxError> {
    let unterminated = SyntaxError {
        line: start,
        what: SyntaxProblem::UnterminatedQuote,
    };
    loop {
        match chars.next() {
            Some('"') => return Ok(()),
            Some('\\') => match chars.next() {
                Some('\n') => *line = line.saturating_add(1),
                Some(c) => word.push(c),
                None => return Err(unterminated),
            },
            Some(c) => {
                if c == '\n' {
                    *line = line.saturating_add(1);
                }
                word.push(c);
            }
            None => return Err(unterminated),
        }
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn check_name(what: &'static str, word: &Word) -> Result<(), SyntaxError> {
    if is_name(&word.text) {
        Ok(())
    } else {
        Err(SyntaxError {
            line: word.line,
            what: SyntaxProblem::BadName {
                what,
                name: word.text.clone(),
            },
        })
    }
}

/// Parses a UCI file's text.
pub fn parse(text: &str) -> Result<Package, SyntaxError> {
    let mut package = Package::default();
    for words in statements(text)? {
        let Some((keyword, args)) = words.split_first() else {
            continue;
        };
        let line = keyword.line;
        let count = |keyword: &'static str, expected: &'static str| SyntaxError {
            line,
            what: SyntaxProblem::WordCount { keyword, expected },
        };
        match keyword.text.as_str() {
            "package" => {
                if args.len() != 1 {
                    return Err(count("package", "one name"));
                }
            }
            "config" => {
                let (kind, name) = match args {
                    [kind] => (kind, None),
                    [kind, name] => (kind, Some(name)),
                    _ => return Err(count("config", "a type and an optional name")),
                };
                check_name("section type", kind)?;
                if let Some(name) = name {
                    check_name("section name", name)?;
                }
                package.sections.push(Section {
                    kind: kind.text.clone(),
                    name: name.map(|n| n.text.clone()),
                    line,
                    options: Vec::new(),
                });
            }
            k @ ("option" | "list") => {
                let is_list = k == "list";
                let [name, value] = args else {
                    return Err(if is_list {
                        count("list", "a name and a value")
                    } else {
                        count("option", "a name and a value")
                    });
                };
                check_name("option name", name)?;
                let Some(section) = package.sections.last_mut() else {
                    return Err(SyntaxError {
                        line,
                        what: SyntaxProblem::OptionOutsideSection,
                    });
                };
                set(section, &name.text, value.text.clone(), is_list, line);
            }
            other => {
                return Err(SyntaxError {
                    line,
                    what: SyntaxProblem::UnknownKeyword(other.to_string()),
                })
            }
        }
    }
    Ok(package)
}

fn set(section: &mut Section, name: &str, value: String, is_list: bool, line: usize) {
    let existing = section.options.iter_mut().find(|o| o.name == name);
    match (existing, is_list) {
        (Some(entry), true) => {
            let items = match std::mem::replace(&mut entry.value, Value::List(Vec::new())) {
                Value::Single(v) => vec![v, value],
                Value::List(mut items) => {
                    items.push(value);
                    items
                }
            };
            entry.value = Value::List(items);
            entry.line = line;
        }
        (Some(entry), false) => {
            entry.value = Value::Single(value);
            entry.line = line;
        }
        (None, is_list) => section.options.push(OptionEntry {
            name: name.to_string(),
            value: if is_list {
                Value::List(vec![value])
            } else {
                Value::Single(value)
            },
            line,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OpenWrt's default firewall file starts like this (fw4, 23.05).
    const FIREWALL: &str = "\
config defaults
\toption syn_flood\t1
\toption input\t\tREJECT
\toption output\t\tACCEPT
\toption forward\t\tREJECT
# Uncomment this line to disable ipv6 rules
#\toption disable_ipv6\t1
\toption flow_offloading\t'1'

config zone
\toption name\t\tlan
\tlist   network\t\t'lan'
\toption input\t\tACCEPT

config zone
\toption name\t\twan
\tlist   network\t\t'wan'
\tlist   network\t\t'wan6'
";

    #[test]
    fn openwrt_firewall_file_parses_into_anonymous_sections() {
        let p = parse(FIREWALL).unwrap();
        assert_eq!(p.sections.len(), 3);
        let defaults = p.sections_of("defaults").next().unwrap();
        assert_eq!(defaults.name, None);
        assert_eq!(defaults.value("flow_offloading"), Some("1"));
        assert_eq!(defaults.value("input"), Some("REJECT"));
        assert_eq!(defaults.value("disable_ipv6"), None, "commented out");
        let wan = p.sections_of("zone").nth(1).unwrap();
        assert_eq!(wan.line, 15);
        assert_eq!(
            wan.get("network").unwrap().value,
            Value::List(vec!["wan".into(), "wan6".into()])
        );
    }

    #[test]
    fn quoted_pieces_join_into_one_word() {
        let p = parse("config x 'n'\n option a 'it'\\''s'\n option b \"say \\\"hi\\\"\"\n option c one\\ word\n").unwrap();
        let s = p.section("n").unwrap();
        assert_eq!(s.value("a"), Some("it's"));
        assert_eq!(s.value("b"), Some("say \"hi\""));
        assert_eq!(s.value("c"), Some("one word"));
    }

    #[test]
    fn single_quotes_keep_backslashes_and_hashes() {
        let p = parse("config x\n option re '^a\\d+#x$' # comment\n").unwrap();
        assert_eq!(p.sections[0].value("re"), Some("^a\\d+#x$"));
    }

    #[test]
    fn quoted_value_may_span_lines_and_line_numbers_follow() {
        let p = parse("config x\n option a 'one\ntwo'\n option b 3\n").unwrap();
        let s = &p.sections[0];
        assert_eq!(s.value("a"), Some("one\ntwo"));
        assert_eq!(s.get("b").unwrap().line, 4);
    }

    #[test]
    fn option_replaces_and_list_appends() {
        let p =
            parse("config x\n list l a\n list l b\n option o 1\n option o 2\n list o 3\n").unwrap();
        let s = &p.sections[0];
        assert_eq!(s.get("l").unwrap().value.items(), ["a", "b"]);
        assert_eq!(s.get("o").unwrap().value.items(), ["2", "3"]);
        assert_eq!(s.value("o"), Some("3"));
    }

    #[test]
    fn empty_value_is_a_value() {
        let p = parse("config x\n option a ''\n").unwrap();
        assert_eq!(p.sections[0].value("a"), Some(""));
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let err = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(
            err("config x\n option a 'b\n"),
            "line 2: unterminated quote"
        );
        assert_eq!(
            err("option a b\n"),
            "line 1: option or list before the first 'config' line"
        );
        assert_eq!(
            err("config x\n\n opton a b\n"),
            "line 3: unknown keyword \"opton\" (expected package, config, option or list)"
        );
        assert_eq!(
            err("config x\n option a\n"),
            "line 2: 'option' takes a name and a value"
        );
        assert_eq!(
            err("config x\n option a b c\n"),
            "line 2: 'option' takes a name and a value"
        );
        assert_eq!(
            err("config x 'my-name'\n"),
            "line 1: invalid section name \"my-name\" (letters, digits and '_' only)"
        );
        assert_eq!(
            err("config x\n option 'a.b' c\n"),
            "line 2: invalid option name \"a.b\" (letters, digits and '_' only)"
        );
    }
}
