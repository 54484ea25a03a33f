//! Every symptom the book declares, fed the failure it was written from
//! (verify/failures/…), points at exactly its entry, as the sidecar matches:
//! the module's entries first, then the appendix's. And every module with a
//! lab declares at least two symptoms.

use std::collections::BTreeMap;
use std::path::PathBuf;

use course_labs::troubleshoot::{Failure, check_book, find_known, load_book, parse_recorded};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_symptom_matches_its_recorded_failure_and_no_other_entry() {
    let root = root();
    let src = root.join("book/src");
    let (entries, problems) = load_book(&src);
    assert!(problems.is_empty(), "{problems:#?}");
    let diags = check_book(&root, &src);
    assert!(diags.is_empty(), "{diags:#?}");
    let mut fed = 0;
    for e in &entries {
        for s in &e.symptoms {
            let text = std::fs::read_to_string(root.join(&s.from))
                .unwrap_or_else(|err| panic!("{}: {err}", s.from));
            let r = parse_recorded(&text);
            let held = |p: u16| r.held.contains(&p);
            let f = Failure {
                output: &r.output,
                check: r.check.as_deref(),
                exit: r.exit,
                held: &held,
            };
            assert!(
                s.matches(&f),
                "{}:{}: does not match {}",
                e.page,
                s.line,
                s.from
            );
            match e.module {
                Some(m) => {
                    let got = find_known(&entries, m, &f);
                    assert!(
                        got.is_some_and(|g| g.page == e.page && g.line == e.line),
                        "{}: expected {} ({}), got {:?}",
                        s.from,
                        e.title,
                        e.page,
                        got.map(|g| (&g.page, &g.title))
                    );
                }
                None => {
                    let got = r.known_in(&entries, None);
                    assert!(
                        got.len() == 1 && got[0].line == e.line,
                        "{}: expected only {}, got {:?}",
                        s.from,
                        e.title,
                        got.iter().map(|g| &g.title).collect::<Vec<_>>()
                    );
                }
            }
            // The same failure without its port held, or in a lab of
            // another module, is not this entry: no guess.
            if let Some(port) = s.port {
                let free = |p: u16| p != port && r.held.contains(&p);
                let f = Failure { held: &free, ..f };
                assert!(!s.matches(&f), "{}: matches with port {port} free", s.from);
            }
            fed += 1;
        }
    }
    assert!(fed > 0, "the book declares no symptom");
}

#[test]
fn each_module_with_a_lab_declares_at_least_two_symptoms() {
    let root = root();
    let (catalog, _) = course_labs::load_catalog(&root.join("labs"));
    let (entries, _) = load_book(&root.join("book/src"));
    let mut per_module: BTreeMap<Option<u8>, usize> = BTreeMap::new();
    for e in &entries {
        *per_module.entry(e.module).or_default() += e.symptoms.len();
    }
    for lab in &catalog.labs {
        let n = per_module.get(&Some(lab.module)).copied().unwrap_or(0);
        assert!(
            n >= 2,
            "module {:02} (lab {}) declares {n} symptom(s)",
            lab.module,
            lab.id
        );
    }
    assert!(
        per_module.get(&None).copied().unwrap_or(0) >= 5,
        "{per_module:?}"
    );
}
