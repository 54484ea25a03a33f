use std::time::{Duration, Instant};

use course_labs::Version;

use super::State;
use super::machine::{available_bytes, free_disk, mem_available, vm_stat_available};
use super::ports::command_name;
use super::run::{Ran, run_bounded};
use super::tools::{judge_version, version_command};

#[test]
fn vm_stat_gives_free_inactive_and_speculative_pages() {
    // An Apple silicon Mac (16 KiB pages).
    let arm = "Mach Virtual Memory Statistics: (page size of 16384 bytes)
Pages free:                                3571.
Pages active:                            201208.
Pages inactive:                          198354.
Pages speculative:                         1823.
Pages throttled:                              0.
Pages wired down:                        112015.
Pages purgeable:                           2730.
\"Translation faults\":                 1208339201.
Pages copy-on-write:                   41327890.
";
    assert_eq!(
        vm_stat_available(arm),
        Some((3571 + 198_354 + 1823) * 16384)
    );
    // An Intel Mac (4 KiB pages).
    let intel = "Mach Virtual Memory Statistics: (page size of 4096 bytes)
Pages free:                              102400.
Pages active:                            500000.
Pages inactive:                          300000.
Pages speculative:                        10000.
";
    assert_eq!(vm_stat_available(intel), Some(412_400 * 4096));
    // No page size in the first line, a field missing, or garbage.
    assert_eq!(
        vm_stat_available(&intel.replacen("page size of", "pages of", 1)),
        None
    );
    assert_eq!(
        vm_stat_available(&intel.replace("Pages speculative", "Pages other")),
        None
    );
    assert_eq!(vm_stat_available(&intel.replace("102400.", "lots.")), None);
    assert_eq!(vm_stat_available(""), None);
}

#[test]
fn meminfo_gives_available_memory() {
    let text = "MemTotal:       16303448 kB\nMemFree:         1022100 kB\nMemAvailable:    9871236 kB\nBuffers:          312000 kB\nCached:          7000000 kB\n";
    assert_eq!(mem_available(text), Some(9_871_236 * 1024));
    // Before Linux 3.14 there is no MemAvailable.
    let old = "MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 1 kB\nCached: 5 kB\n";
    assert_eq!(mem_available(old), Some(16 * 1024));
    assert_eq!(mem_available("MemAvailableX: 5 kB\n"), None);
    assert_eq!(mem_available("MemAvailable: lots\n"), None);
    assert_eq!(mem_available(""), None);
}

#[test]
fn free_disk_is_counted_as_df_does() {
    assert_eq!(available_bytes(1_000, 4096), 4_096_000);
    assert_eq!(available_bytes(u64::MAX, 4096), u64::MAX);
    // A folder that does not exist yet is measured on its parent's disk.
    let tmp = tempfile::tempdir().expect("tempdir");
    let free = free_disk(&tmp.path().join("not/yet")).expect("statvfs");
    assert!(free > 0);
}

#[test]
fn versions_are_judged_against_the_minimum() {
    let min = Version::parse("3.11");
    let j = |ok, out: &str| judge_version("python3 --version", ok, out, min.as_ref());
    assert_eq!(
        j(true, "Python 3.12.3\n"),
        (State::Ok, "found 3.12.3".into())
    );
    assert_eq!(
        j(true, "Python 3.10.12\n"),
        (
            State::Problem,
            "found 3.10.12; this lab needs 3.11 or newer".into()
        )
    );
    assert_eq!(j(true, "Python\n").0, State::Unknown);
    assert_eq!(j(false, "error: boom\n").0, State::Unknown);
    let kubectl = "Client Version: v1.36.0\nKustomize Version: v5.7.1\n";
    let min = Version::parse("1.36");
    assert_eq!(
        judge_version("kubectl version --client", true, kubectl, min.as_ref()).0,
        State::Ok
    );
    assert_eq!(
        judge_version(
            "helm version --short",
            true,
            "v3.19.0+g3d8990f",
            Version::parse("4.0").as_ref()
        ),
        (
            State::Problem,
            "found 3.19.0; this lab needs 4.0 or newer".into()
        )
    );
    assert_eq!(
        judge_version(
            "curl --version",
            true,
            "curl 8.14.1 (x86_64-pc-linux-gnu)",
            None
        ),
        (State::Ok, "found 8.14.1".into())
    );
}

#[test]
fn only_plain_program_names_are_run() {
    assert_eq!(
        version_command("python"),
        Some(("python3", &["--version"][..]))
    );
    assert_eq!(
        version_command("kubectl").map(|c| c.1),
        Some(&["version", "--client"][..])
    );
    assert_eq!(version_command("ruff"), Some(("ruff", &["--version"][..])));
    for bad in [
        "../bin/sh",
        "/bin/sh",
        "sh -c id",
        "a;b",
        "$(id)",
        "-rf",
        ".hidden",
        "",
    ] {
        assert_eq!(version_command(bad), None, "{bad}");
    }
}

#[test]
fn a_holder_is_named_by_its_program() {
    assert_eq!(command_name("/usr/bin/python3 -m mlflow server"), "python3");
    assert_eq!(command_name("nginx: master process"), "nginx:");
    assert_eq!(command_name(""), "(unnamed process)");
}

#[cfg(unix)]
#[tokio::test]
async fn a_tool_that_hangs_is_stopped_at_its_limit() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("tempdir");
    let tool = tmp.path().join("slowtool");
    std::fs::write(&tool, "#!/bin/sh\nsleep 30\n").expect("write");
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let started = Instant::now();
    let ran = run_bounded(&tool, &["--version"], Duration::from_millis(300)).await;
    assert!(matches!(ran, Ran::TimedOut), "{ran:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let ran = run_bounded(&tmp.path().join("absent"), &[], Duration::from_secs(1)).await;
    assert!(matches!(ran, Ran::Missing), "{ran:?}");
}
