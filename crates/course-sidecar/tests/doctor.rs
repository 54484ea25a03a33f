//! `GET /api/labs/{lab}/doctor` on a fixture lab: a port held by a test
//! listener is named with its holder, a tool that is not installed is a
//! problem with a fix for each system, and disk, memory and architecture
//! are measured on this machine.

mod support;

use axum::http::{Method, StatusCode};
use serde_json::Value;

use support::*;

fn doctor_lab(held: u16, free: u16) -> String {
    let yaml = lab_yaml("doc", &[held, free], DEMO_STEPS);
    yaml.replace(
        "minutes: 5\n",
        "minutes: 5\nneeds_disk: 1 MiB\nneeds_memory: 60 TiB\nrequires:\n  - tool: nosuchtool-doctor\n    version: \"1.0\"\n  - tool: sh\n    optional: true\n",
    )
}

fn item<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no item {id} in {report:#}"))
}

#[tokio::test]
async fn the_doctor_names_a_held_port_and_a_missing_tool() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let held_port = held.local_addr().expect("addr").port();
    let free_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let fx = Fixture::new(&[("doc", doctor_lab(held_port, free_port))]);
    let state = fx.state(fast());
    let r = call(
        &state,
        request(Method::GET, "/api/labs/doc/doctor")
            .header("authorization", format!("Bearer {}", state.token()))
            .body(axum::body::Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let report = &r.json;
    assert_eq!(report["lab"], "doc");
    assert_eq!(report["arch"], std::env::consts::ARCH);

    let port = item(report, &format!("port-{held_port}"));
    assert_eq!(port["state"], "problem", "{port:#}");
    let me = i64::from(std::process::id());
    assert_eq!(port["holder"]["pid"], me, "{port:#}");
    let exe = std::env::current_exe().expect("exe");
    let name = exe.file_name().and_then(|n| n.to_str()).expect("name");
    assert_eq!(port["holder"]["command"], name, "{port:#}");
    assert_eq!(port["detail"], format!("in use by {name} (pid {me})"));
    assert!(
        port["fix"]["macos"].as_str().expect("fix").contains("lsof"),
        "{port:#}"
    );
    assert_eq!(item(report, &format!("port-{free_port}"))["state"], "ok");

    let tool = item(report, "tool-nosuchtool-doctor");
    assert_eq!(tool["state"], "problem", "{tool:#}");
    assert_eq!(tool["title"], "nosuchtool-doctor 1.0 or newer");
    assert!(
        tool["detail"]
            .as_str()
            .expect("detail")
            .contains("not installed"),
        "{tool:#}"
    );
    for os in ["linux", "macos", "windows"] {
        assert!(
            tool["fix"][os].as_str().is_some_and(|f| !f.is_empty()),
            "{tool:#}"
        );
    }
    // `sh --version` may fail (dash has no --version): never a problem then.
    let sh = item(report, "tool-sh");
    assert_eq!(sh["optional"], true);
    assert_ne!(sh["state"], "problem", "{sh:#}");

    let disk = item(report, "disk");
    assert_eq!(disk["state"], "ok", "{disk:#}");
    assert!(
        disk["detail"]
            .as_str()
            .expect("d")
            .ends_with("this lab needs 1 MiB"),
        "{disk:#}"
    );
    if cfg!(target_os = "linux") {
        let memory = item(report, "memory");
        assert_eq!(memory["state"], "problem", "{memory:#}");
        assert!(
            memory["detail"]
                .as_str()
                .expect("d")
                .ends_with("this lab needs 61440.0 GiB"),
            "{memory:#}"
        );
    }
    // No step needs Docker and it is not required: no Docker item.
    assert!(
        report["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["id"] != "docker")
    );
    drop(held);
}

#[tokio::test]
async fn the_doctor_of_an_unknown_lab_is_404() {
    let fx = Fixture::demo();
    let state = fx.state(fast());
    let r = call(
        &state,
        request(Method::GET, "/api/labs/nope/doctor")
            .header("authorization", format!("Bearer {}", state.token()))
            .body(axum::body::Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
