//! `semalink-sms`: the protocol crate's command-line tool. Each subcommand runs one piece of
//! the crate's pure logic on its argument and prints the result as one line of JSON on stdout.
//! Bad input or bad usage prints a message on stderr and exits with status 2.

use std::process::ExitCode;

use semalink_protocol::msisdn::{LineType, Msisdn};
use semalink_protocol::segment::SegmentOptions;
use semalink_protocol::{analysis, dlr, mno};
use serde::Serialize;
use serde_json::Value;

const USAGE: &str = "\
Usage:
  semalink-sms analyze TEXT [--transliterate]   encoding, units and segments of TEXT
  semalink-sms number NUMBER [--country CC]     E.164 form, country and operator of NUMBER
  semalink-sms dlr RECEIPT                      parse a delivery receipt's text (SMPP 3.4 App. B)
  semalink-sms --help

NUMBER may be typed as people do (0712 345 678, +254-712-345-678, 254712345678); national forms
need --country (ISO 3166-1 alpha-2, e.g. KE). Put `--` before an argument starting with `-`.
Output: one JSON object on stdout. Exit status: 0 ok, 2 bad usage or unparseable input.";

/// Why the command did not produce output.
enum Failure {
    /// The command line is wrong: message, then usage.
    Usage(String),
    /// The argument could not be parsed: message only.
    Input(String),
}

fn main() -> ExitCode {
    let mut args = Vec::new();
    for arg in std::env::args_os().skip(1) {
        match arg.into_string() {
            Ok(arg) => args.push(arg),
            Err(arg) => return fail(Failure::Usage(format!("argument {arg:?} is not UTF-8"))),
        }
    }
    if args.is_empty() {
        return fail(Failure::Usage("missing subcommand".into()));
    }
    if matches!(args[0].as_str(), "-h" | "--help" | "help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match run(&args[0], &args[1..]) {
        Ok(value) => {
            println!("{value}");
            ExitCode::SUCCESS
        }
        Err(failure) => fail(failure),
    }
}

fn fail(failure: Failure) -> ExitCode {
    match failure {
        Failure::Usage(message) => eprintln!("semalink-sms: {message}\n\n{USAGE}"),
        Failure::Input(message) => eprintln!("semalink-sms: {message}"),
    }
    ExitCode::from(2)
}

fn run(command: &str, rest: &[String]) -> Result<Value, Failure> {
    match command {
        "analyze" => {
            let args = Args::parse(rest, &["--transliterate"], &[])?;
            let options = SegmentOptions {
                transliterate: args.flag("--transliterate"),
                ..SegmentOptions::default()
            };
            to_json(&analysis::analyze_with(args.text, &options))
        }
        "number" => {
            let args = Args::parse(rest, &[], &["--country"])?;
            let number = Msisdn::parse(args.text, args.option("--country"))
                .map_err(|e| Failure::Input(e.to_string()))?;
            describe(&number)
        }
        "dlr" => {
            let args = Args::parse(rest, &[], &[])?;
            let receipt = dlr::parse_text(args.text).map_err(|e| Failure::Input(e.to_string()))?;
            to_json(&ReceiptInfo {
                outcome: receipt.outcome(),
                is_final: receipt.is_final(),
                receipt: &receipt,
            })
        }
        other => Err(Failure::Usage(format!("unknown subcommand {other:?}"))),
    }
}

/// The `dlr` subcommand's output: the receipt and what it means.
#[derive(Serialize)]
struct ReceiptInfo<'a> {
    outcome: dlr::Outcome,
    is_final: bool,
    receipt: &'a dlr::Receipt,
}

/// The `number` subcommand's output (a struct, so the JSON keys keep this order).
#[derive(Serialize)]
struct NumberInfo<'a> {
    e164: &'a str,
    country: &'a str,
    calling_code: &'a str,
    national: &'a str,
    line_type: LineType,
    /// Operator name; `null` where the table has country-level data only.
    mno: Option<&'static str>,
    /// Route key, e.g. `ke-safaricom`.
    mno_id: Option<&'static str>,
    /// The table prefix that matched; `null` outside Africa.
    prefix: Option<&'static str>,
}

fn describe(number: &Msisdn) -> Result<Value, Failure> {
    let destination = mno::lookup(number);
    let operator = destination.and_then(|d| d.operator());
    to_json(&NumberInfo {
        e164: number.as_str(),
        country: number.country(),
        calling_code: number.calling_code(),
        national: number.national(),
        line_type: number.line_type(),
        mno: operator.map(|o| o.name),
        mno_id: operator.map(|o| o.id.as_str()),
        prefix: destination.map(|d| d.prefix()),
    })
}

fn to_json<T: Serialize>(value: &T) -> Result<Value, Failure> {
    serde_json::to_value(value).map_err(|e| Failure::Input(format!("cannot encode result: {e}")))
}

/// One positional argument plus the subcommand's known flags and `--name value` options.
struct Args<'a> {
    text: &'a str,
    flags: Vec<&'a str>,
    options: Vec<(&'a str, &'a str)>,
}

impl<'a> Args<'a> {
    fn parse(args: &'a [String], flags: &[&'a str], options: &[&'a str]) -> Result<Self, Failure> {
        let mut parsed = Args {
            text: "",
            flags: Vec::new(),
            options: Vec::new(),
        };
        let mut positional = Vec::new();
        let mut iter = args.iter().map(String::as_str);
        while let Some(arg) = iter.next() {
            if arg == "--" {
                positional.extend(iter.by_ref());
            } else if let Some(flag) = flags.iter().find(|f| **f == arg) {
                parsed.flags.push(flag);
            } else if let Some(name) = options.iter().find(|o| arg.starts_with(**o)) {
                let value = match &arg[name.len()..] {
                    "" => iter
                        .next()
                        .ok_or_else(|| Failure::Usage(format!("{name} needs a value")))?,
                    inline => inline
                        .strip_prefix('=')
                        .ok_or_else(|| Failure::Usage(format!("unknown option {arg:?}")))?,
                };
                parsed.options.push((name, value));
            } else if arg.starts_with('-') && arg.len() > 1 && !looks_like_number(arg) {
                return Err(Failure::Usage(format!("unknown option {arg:?}")));
            } else {
                positional.push(arg);
            }
        }
        match positional.as_slice() {
            [text] => parsed.text = text,
            [] => return Err(Failure::Usage("missing argument".into())),
            _ => {
                return Err(Failure::Usage(
                    "expected exactly one argument (quote it)".into(),
                ));
            }
        }
        Ok(parsed)
    }

    fn flag(&self, name: &str) -> bool {
        self.flags.contains(&name)
    }

    fn option(&self, name: &str) -> Option<&'a str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

/// `-1` style arguments are values, not options (a text or number may start with a dash).
fn looks_like_number(arg: &str) -> bool {
    arg[1..].starts_with(|c: char| c.is_ascii_digit())
}
