//! The step runner alone, as `course lab follow` drives it
//! ([`course_sidecar::LabRunner`]): the same code the API runs steps with.

mod support;

use support::*;

/// A lab with two services on the same (pretend) port, the second replacing
/// the first, for [`course_sidecar::LabRunner`].
const REPLACING_STEPS: &str = r#"
  - id: first
    title: A service
    run: 'echo $$ > first.pid; exec sleep 300'
    service: true
  - id: second
    title: The service that replaces it
    run: 'echo $$ > second.pid; exec sleep 300'
    service: true
    stops: [first]
    cleanup: rm -f first.pid second.pid
"#;

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_step_that_stops_a_service_starts_once_the_service_is_gone() {
    let fx = Fixture::new(&[("swap", lab_yaml("swap", &[], REPLACING_STEPS))]);
    let runner = runner_for(&fx, "swap");
    runner.start("first").expect("first starts");
    let first = pid_in(fx.copy("swap").join("first.pid")).await;
    runner.start("second").expect("second starts");
    let second = pid_in(fx.copy("swap").join("second.pid")).await;
    assert!(!alive(first), "the replaced service still runs");
    assert!(alive(second));
    let exit = runner.wait("first").await.expect("first ended");
    assert_eq!(exit.reason, course_sidecar::ExitReason::Cancelled);
    assert!(runner.is_running("second"));
    assert_eq!(runner.reset().await.expect("reset"), vec!["second"]);
    assert!(!alive(second));
    assert!(runner.leftovers().is_empty(), "{:?}", runner.leftovers());
    assert!(
        !fx.copy("swap").join("second.pid").exists(),
        "the cleanup ran"
    );
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn leftovers_name_what_escaped_a_stop() {
    // A step whose child leaves the group is not the runner's to stop, but a
    // child that stays in it and outlives its shell is listed.
    let steps = r#"
  - id: spawn
    title: Leave a child behind
    run: 'sleep 300 > /dev/null 2>&1 & echo $! > child.pid'
"#;
    let fx = Fixture::new(&[("left", lab_yaml("left", &[], steps))]);
    let runner = runner_for(&fx, "left");
    runner.start("spawn").expect("starts");
    let exit = runner.wait("spawn").await.expect("ended");
    assert!(exit.succeeded(), "{exit:?}");
    let child = pid_in(fx.copy("left").join("child.pid")).await;
    let left = runner.leftovers();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].pid, i32::try_from(child).expect("pid"));
    assert!(left[0].command.contains("sleep 300"), "{left:?}");
    let _ = std::process::Command::new("kill")
        .arg(child.to_string())
        .status();
}
