//! `course build`: the site is built beside the old one and swapped in, so
//! a failed build leaves the last good site as it was.

use common::CourseTest;

mod common;

#[test]
fn a_failed_build_keeps_the_previous_site() {
    let course = CourseTest::new();
    let site = course.root().join("site");
    let out = course.run(&["build", "--dest", site.to_str().expect("utf-8 path")]);
    assert!(out.ok(), "{}", out.stderr());
    assert!(site.join("labs/demo.zip").is_file());
    course.edit("book/src/part/lab.md", |t| {
        t.replace("{{#lab demo}}", "{{#lab}}")
    });
    let out = course.run(&["build", "--dest", site.to_str().expect("utf-8 path")]);
    assert!(!out.ok());
    let stderr = out.stderr();
    assert!(
        stderr.contains("part/lab.md:7:1: error: `{{#lab}}` needs a lab id"),
        "{stderr}"
    );
    // Each problem is one `FILE:LINE:COL: error:` line, not `error: FILE…: error:`.
    assert!(
        stderr
            .lines()
            .next()
            .is_some_and(|l| !l.starts_with("error: ")),
        "{stderr}"
    );
    assert!(
        site.join("part/lab.html").is_file() && site.join("labs/demo.zip").is_file(),
        "the old site must survive"
    );
}
