//! Which process listens on a TCP port, from `/proc` (Linux); elsewhere
//! nothing is known and callers say less.

/// `(pid, command line)` of a process with a listening socket on `port`.
pub(crate) fn listener(port: u16) -> Option<(i32, String)> {
    #[cfg(target_os = "linux")]
    {
        let inodes = listening_inodes(port);
        if inodes.is_empty() {
            return None;
        }
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
                continue;
            };
            let holds = fds.flatten().any(|fd| {
                std::fs::read_link(fd.path()).is_ok_and(|target| {
                    target
                        .to_str()
                        .and_then(|t| t.strip_prefix("socket:["))
                        .and_then(|t| t.strip_suffix(']'))
                        .is_some_and(|inode| inodes.iter().any(|i| i == inode))
                })
            });
            if holds {
                let cmd = std::fs::read(entry.path().join("cmdline"))
                    .map(|raw| {
                        String::from_utf8_lossy(&raw)
                            .split('\0')
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default();
                return Some((pid, cmd));
            }
        }
        None
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = port;
        None
    }
}

/// Socket inodes in state LISTEN on `port`, from /proc/net/tcp and tcp6.
#[cfg(target_os = "linux")]
fn listening_inodes(port: u16) -> Vec<String> {
    const LISTEN: &str = "0A";
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state), Some(inode)) = (f.get(1), f.get(3), f.get(9)) else {
                continue;
            };
            let local_port = local
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if *state == LISTEN && local_port == Some(port) && *inode != "0" {
                inodes.push((*inode).to_owned());
            }
        }
    }
    inodes
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_listener_of_a_port_is_this_process() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let (pid, _) = super::listener(port).expect("found");
        assert_eq!(pid, i32::try_from(std::process::id()).expect("pid"));
    }
}
