//! Tests of the /proc readers and the system readers (lsof).

#[cfg(all(test, target_os = "linux"))]
mod port_tests {
    #[test]
    fn the_listener_of_a_port_is_this_process() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let (pid, _) = super::super::port_listener(port).expect("found");
        assert_eq!(pid, i32::try_from(std::process::id()).expect("pid"));
    }
}

#[cfg(test)]
mod lsof_tests {
    use super::super::lsof_listener;

    #[test]
    fn the_first_process_set_of_lsof_field_output_names_the_holder() {
        // `lsof -nP -iTCP:5000 -sTCP:LISTEN -F pcn` with AirPlay Receiver
        // listening on IPv4 and IPv6: one process set, two file sets.
        let airplay = "p517\ncControlCenter\nf9\nn*:5000\nf10\nn*:5000\n";
        assert_eq!(
            lsof_listener(airplay),
            Some((517, "ControlCenter".to_owned()))
        );
        // Two processes (a forking server): the first set wins.
        let two = "p4101\ncPython\nf5\nn127.0.0.1:5000\np4102\ncgunicorn\nf5\nn127.0.0.1:5000\n";
        assert_eq!(lsof_listener(two), Some((4101, "Python".to_owned())));
        // A command name with spaces is kept whole.
        let spaced = "p88\ncGoogle Chrome Helper\nf30\nn[::1]:5000\n";
        assert_eq!(
            lsof_listener(spaced),
            Some((88, "Google Chrome Helper".to_owned()))
        );
    }

    #[test]
    fn lsof_output_without_a_pid_and_command_names_nobody() {
        // Nothing listens: lsof prints nothing and exits 1.
        assert_eq!(lsof_listener(""), None);
        // A set without its command, then a whole one: the whole one.
        assert_eq!(
            lsof_listener("p12\nf3\nn*:5000\np13\ncnode\n"),
            Some((13, "node".to_owned()))
        );
        // A `c` line before any `p` line, or a pid that is no number.
        assert_eq!(lsof_listener("cnode\nf3\n"), None);
        assert_eq!(lsof_listener("pabc\ncnode\n"), None);
        // A warning on stdout is not a field line that counts.
        assert_eq!(lsof_listener("lsof: WARNING: can't stat()\n"), None);
    }
}

#[cfg(all(test, unix))]
mod reader_tests {
    use std::time::{Duration, Instant};

    /// The macOS way, run against the real `lsof` wherever it is installed
    /// (Linux's takes the same arguments and prints the same fields).
    #[test]
    fn lsof_names_this_process_as_the_listener_of_its_port() {
        let installed = std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("lsof").is_file()));
        if !installed {
            assert!(
                std::env::var_os("CI").is_none_or(|v| v != "true"),
                "lsof is missing: install it (`sudo apt-get install lsof`)"
            );
            eprintln!("skipped: lsof is not installed (`sudo apt-get install lsof`)");
            return;
        }
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let (pid, command) = super::super::lsof_port_listener(port).expect("lsof names a listener");
        assert_eq!(pid, i32::try_from(std::process::id()).expect("pid"));
        assert!(!command.is_empty());
        drop(l);
        assert_eq!(super::super::lsof_port_listener(port), None);
    }

    #[test]
    fn a_system_reader_is_bounded_in_time_and_output() {
        let out = super::super::run_capped_blocking(
            "printf",
            &["%s", "abcdef"],
            Duration::from_secs(2),
            4,
        );
        assert_eq!(out.as_deref(), Some("abcd"));
        let start = Instant::now();
        let out =
            super::super::run_capped_blocking("sleep", &["30"], Duration::from_millis(300), 64);
        assert_eq!(out, None);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(
            super::super::run_capped_blocking(
                "no-such-reader-here",
                &[],
                Duration::from_secs(1),
                64
            ),
            None
        );
    }
}

#[test]
fn port_taken_tells_a_held_port_from_a_free_one() {
    let held = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = held.local_addr().expect("addr").port();
    assert!(
        super::port_taken(port).expect("a bind answer"),
        "a listening port is taken"
    );
    drop(held);
    assert!(
        !super::port_taken(port).expect("a bind answer"),
        "a closed listener frees its port"
    );
}
