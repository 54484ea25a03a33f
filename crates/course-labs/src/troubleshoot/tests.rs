use super::*;

const PAGE: &str = "# Troubleshooting\n\n## Ports\n\n### Port 5000 is taken\n{{#symptom output=\"address already in use\" port=5000 from=\"verify/failures/02/port.txt\"}}\n{{#symptom exit=98 from=\"verify/failures/02/port2.txt\"}}\n\nAnother program holds it:\n\n```text\nOSError: [Errno 98] Address already in use\n```\n\nOn macOS that is AirPlay Receiver. Run the lab on 5001 or turn it off. A third sentence. A fourth one.\n\n### `uv: command not found`\n{{#symptom output=\"uv: (command )?not found\" exit=127 from=\"verify/failures/02/uv.txt\"}}\n\nInstall uv.\n\n| a | b |\n|---|---|\n| c | d |\n\n### Port 5000 is taken\n\nNo symptom here.\n\n```md\n{{#symptom output=\"x\" from=\"y\"}}\n```\n";

#[test]
fn parses_entries_with_their_symptoms_and_fix() {
    let (entries, problems) = parse_page("02-experiment-tracking/troubleshooting.md", PAGE);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(entries.len(), 2);
    let e = &entries[0];
    assert_eq!(e.title, "Port 5000 is taken");
    assert_eq!(e.anchor, "port-5000-is-taken");
    assert_eq!(e.module, Some(2));
    assert_eq!(e.line, 5);
    assert_eq!(e.symptoms.len(), 2);
    assert_eq!(e.symptoms[0].port, Some(5000));
    assert_eq!((e.symptoms[1].line, e.symptoms[1].column), (7, 1));
    assert_eq!(
        e.fix,
        "On macOS that is AirPlay Receiver. Run the lab on 5001 or turn it off. A third sentence."
    );
    assert_eq!(
        e.href(),
        "02-experiment-tracking/troubleshooting.html#port-5000-is-taken"
    );
    assert_eq!(entries[1].title, "uv: command not found");
    assert_eq!(entries[1].anchor, "uv-command-not-found");
    assert_eq!(entries[1].fix, "Install uv.");
}

#[test]
fn repeated_headings_get_numbered_anchors_and_the_appendix_has_no_module() {
    let text = "# A\n\n## Same\n\nx\n\n## Same\n{{#symptom exit=1 from=\"f\"}}\n\nFix it.\n";
    let (entries, _) = parse_page("appendix/troubleshooting-index.md", text);
    assert_eq!(entries[0].anchor, "same-1");
    assert_eq!(entries[0].module, None);
    assert_eq!(module_of_page("07-monitoring/troubleshooting.md"), Some(7));
    assert_eq!(module_of_page("appendix/x.md"), None);
    assert_eq!(module_of_page("x.md"), None);
}

#[test]
fn malformed_symptoms_say_why_with_their_place() {
    let cases = [
        (
            "{{#symptom output=\"(\" from=\"f\"}}",
            "not a valid regular expression",
        ),
        (
            "{{#symptom exit=x from=\"f\"}}",
            "an exit code is a whole number",
        ),
        (
            "{{#symptom port=0 from=\"f\"}}",
            "a port is a number from 1 to 65535",
        ),
        (
            "{{#symptom port=70000 from=\"f\"}}",
            "a port is a number from 1 to 65535",
        ),
        ("{{#symptom exit=1}}", "a symptom needs from="),
        ("{{#symptom from=\"f\"}}", "at least one of output="),
        ("{{#symptom colour=red from=\"f\"}}", "unknown key `colour`"),
        (
            "{{#symptom exit=1 exit=2 from=\"f\"}}",
            "`exit` is given twice",
        ),
        ("{{#symptom output=\"abc from=\"f\"}}", "expected key=value"),
        ("{{#symptom output=\"abc}}", "has no closing"),
        ("{{#symptom exit=1 from=\"f\"", "never closed"),
        ("{{#symptomx}}", "must be followed by a space"),
    ];
    for (directive, expected) in cases {
        let text = format!("# T\n\n### E\n{directive}\n\nFix.\n");
        let (_, problems) = parse_page("01-docker/troubleshooting.md", &text);
        assert_eq!(problems.len(), 1, "{directive}: {problems:?}");
        assert!(
            problems[0].message.contains(expected),
            "{directive}: {}",
            problems[0].message
        );
        assert_eq!((problems[0].line, problems[0].column), (4, 1));
    }
    let (_, problems) = parse_page("p.md", "{{#symptom exit=1 from=\"f\"}}\n");
    assert!(problems[0].message.contains("heading"));
}

#[test]
fn quotes_escape_and_code_stays_literal() {
    let d = find_symptoms("### E\n{{#symptom output=\"say \\\"hi\\\" }}\" from=\"f\"}} after");
    assert_eq!(d.len(), 1);
    let output = d[0].parsed.as_ref().ok().and_then(|s| s.output.as_ref());
    assert!(output.is_some_and(|re| re.is_match("say \"hi\" }}")));
    assert!(find_symptoms("`{{#symptom exit=1 from=\"f\"}}`").is_empty());
    assert!(find_symptoms("<!-- {{#symptom exit=1 from=\"f\"}} -->\n").is_empty());
    assert!(find_symptoms("\\{{#symptom exit=1 from=\"f\"}}").is_empty());
}

#[test]
fn matching_needs_every_key_and_prefers_the_module() {
    let (mut entries, _) = parse_page("02-x/troubleshooting.md", PAGE);
    let (appendix, _) = parse_page(
        "appendix/t.md",
        "### Any 127\n{{#symptom exit=127 from=\"f\"}}\n\nGeneric.\n",
    );
    entries.extend(appendix);
    fn free(_: u16) -> bool {
        false
    }
    fn held(p: u16) -> bool {
        p == 5000
    }
    let f = |output, exit, held: &'static dyn Fn(u16) -> bool| Failure {
        output,
        check: None,
        exit,
        held,
    };
    let in_use = "OSError: [Errno 98] Address already in use\naddress already in use\n";
    assert_eq!(
        find_known(&entries, 2, &f(in_use, Some(1), &held)).map(|e| e.title.as_str()),
        Some("Port 5000 is taken")
    );
    assert!(
        find_known(&entries, 2, &f(in_use, Some(1), &free)).is_none(),
        "the port must be held"
    );
    assert_eq!(
        find_known(&entries, 2, &f("", Some(98), &free)).map(|e| e.line),
        Some(5)
    );
    let uv = "bash: line 1: uv: command not found\n";
    assert_eq!(
        find_known(&entries, 2, &f(uv, Some(127), &free)).map(|e| e.title.as_str()),
        Some("uv: command not found")
    );
    // Another module's entries do not count; the appendix does.
    assert_eq!(
        find_known(&entries, 3, &f(uv, Some(127), &free)).map(|e| e.title.as_str()),
        Some("Any 127")
    );
    assert!(find_known(&entries, 3, &f(uv, Some(1), &free)).is_none());
}

#[test]
fn only_the_tail_of_the_output_is_matched() {
    let (entries, _) = parse_page(
        "02-x/t.md",
        "### E\n{{#symptom output=\"^START\" from=\"f\"}}\n\nFix.\n",
    );
    let long = format!("START{}", "é".repeat(TAIL_BYTES));
    let free = |_: u16| false;
    let f = Failure {
        output: &long,
        check: None,
        exit: Some(1),
        held: &free,
    };
    assert!(!entries[0].matches(&f));
    assert!(tail(&long).len() <= TAIL_BYTES);
}

#[test]
fn check_book_feeds_each_symptom_its_recorded_failure() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let src = root.join("book/src");
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    };
    write(
        "book/src/02-x/troubleshooting.md",
        "# T\n\n### Port taken\n{{#symptom output=\"in use\" port=5000 from=\"verify/failures/02/port.txt\"}}\n\nFree it.\n\n### Anything in use\n{{#symptom output=\"use\" from=\"verify/failures/02/use.txt\"}}\n\nHm.\n\n### Missing\n{{#symptom exit=127 from=\"verify/failures/02/none.txt\"}}\n\nx\n\n### Outside\n{{#symptom exit=9 from=\"../etc/passwd\"}}\n\nx\n\n### Wrong\n{{#symptom exit=2 from=\"verify/failures/02/use.txt\"}}\n\nx\n",
    );
    write(
        "verify/failures/02/port.txt",
        "# held: 5000\nOSError: address in use\n",
    );
    write("verify/failures/02/use.txt", "# exit: 1\nno one uses it\n");
    // Another module's entry that would match does not count.
    write(
        "book/src/03-y/troubleshooting.md",
        "### Y\n{{#symptom output=\"in use\" from=\"verify/failures/03/y.txt\"}}\n\ny\n",
    );
    write("verify/failures/03/y.txt", "in use\n");
    let diags = check_book(root, &src);
    let messages: Vec<String> = diags
        .iter()
        .map(|d| format!("{}:{}: {}", d.file.display(), d.line, d.message))
        .collect();
    assert_eq!(diags.len(), 4, "{messages:#?}");
    assert!(messages[0].ends_with("02-x/troubleshooting.md:4: verify/failures/02/port.txt also matches 02-x/troubleshooting.md:8 (Anything in use)"), "{messages:#?}");
    assert!(messages[1].contains("no recorded failure at verify/failures/02/none.txt"));
    assert!(messages[2].contains("is not a file under verify/failures/"));
    assert!(messages[3].contains(":24: this symptom does not match verify/failures/02/use.txt"));
}

#[test]
fn recorded_failures_keep_their_header_apart() {
    let r = parse_recorded(
        "# run: uv run x\n# exit: 127\n# held: 5000\n# check: GET / failed\n# not a header line\nout\n",
    );
    assert_eq!(r.exit, Some(127));
    assert_eq!(r.held, vec![5000]);
    assert_eq!(r.check.as_deref(), Some("GET / failed"));
    assert_eq!(r.output, "# not a header line\nout\n");
    assert_eq!(parse_recorded("plain\n").output, "plain\n");
}

#[test]
fn a_table_of_symptoms_gives_each_symptom_the_cause_in_its_row() {
    let text = "# Index\n\n## Shell\n{{#symptom output=\"command not found\" exit=127 from=\"a\"}}\n{{#symptom output=\"No interpreter found\" from=\"b\"}}\n{{#symptom output=\"nowhere in the table\" from=\"c\"}}\n\n| what you see | usual cause | explained in |\n|---|---|---|\n| `bash: kind: command not found` | not installed, or not on your `PATH` | [00](x.md) |\n| `error: No interpreter found for Python >=3.11` | no Python 3.11 or later where uv looks. | [00](x.md) |\n";
    let (entries, problems) = parse_page("appendix/troubleshooting-index.md", text);
    assert!(problems.is_empty(), "{problems:?}");
    let e = &entries[0];
    assert_eq!(e.fix, "", "a table is not sentences");
    let fixes: Vec<Option<&str>> = e.symptoms.iter().map(|s| s.fix.as_deref()).collect();
    assert_eq!(
        fixes,
        [
            Some("Not installed, or not on your PATH."),
            Some("No Python 3.11 or later where uv looks."),
            None,
        ]
    );
    // The sidecar shows the fix of the symptom that matched.
    let f = Failure {
        output: "error: No interpreter found for Python >=3.11 in managed installations",
        check: None,
        exit: Some(2),
        held: &|_| false,
    };
    let matched = e.matching(&f).expect("the second symptom matches");
    assert_eq!(
        e.fix_for(matched),
        "No Python 3.11 or later where uv looks."
    );
    // An entry with text keeps its own fix for every symptom.
    let (entries, _) = parse_page("02-x/troubleshooting.md", PAGE);
    assert!(entries[1].symptoms.iter().all(|s| s.fix.is_none()));
    assert_eq!(entries[1].fix_for(&entries[1].symptoms[0]), "Install uv.");
}

#[test]
fn check_book_wants_a_fix_for_every_symptom() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    std::fs::create_dir_all(root.join("book/src/appendix")).expect("mkdir");
    std::fs::create_dir_all(root.join("verify/failures/appendix")).expect("mkdir");
    std::fs::write(
        root.join("book/src/appendix/index.md"),
        "# Index\n\n## Shell\n{{#symptom output=\"gone\" from=\"verify/failures/appendix/gone.txt\"}}\n\n| what you see | usual cause |\n|---|---|\n| something else | a cause |\n",
    )
    .expect("write");
    std::fs::write(
        root.join("verify/failures/appendix/gone.txt"),
        "it is gone\n",
    )
    .expect("write");
    let diags = check_book(root, &root.join("book/src"));
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0].line, 4);
    assert!(
        diags[0]
            .message
            .contains("\"Shell\" has no text to show as this symptom's fix"),
        "{}",
        diags[0].message
    );
}
