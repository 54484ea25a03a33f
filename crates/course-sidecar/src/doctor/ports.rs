//! The lab's ports: whether each is free and, if not, the command name and
//! pid of what holds it (the lab's own service is fine).

use course_labs::Lab;

use super::run::clip;
use super::{Fix, Holder, Item, State};
use crate::proc::{members_of, port_listener, port_taken};

pub(super) fn port_items(lab: &Lab, groups: &[i32]) -> Vec<Item> {
    let own: Vec<i32> = members_of(groups).into_iter().map(|l| l.pid).collect();
    lab.ports
        .iter()
        .map(|p| {
            let title = format!("Port {} free ({})", p.port, p.service);
            let id = format!("port-{}", p.port);
            let free = match port_taken(p.port) {
                Ok(taken) => !taken,
                Err(e) => {
                    return Item::new(
                        id,
                        "port",
                        title,
                        State::Unknown,
                        format!("could not test the port: {}", clip(&e.to_string())),
                    );
                }
            };
            if free {
                return Item::new(id, "port", title, State::Ok, "free".into());
            }
            let holder = port_listener(p.port).map(|(pid, line)| Holder {
                pid,
                command: command_name(&line),
            });
            let mut item = match &holder {
                Some(h) if own.contains(&h.pid) => Item::new(
                    id,
                    "port",
                    title,
                    State::Ok,
                    format!(
                        "in use by this lab's own service: {} (pid {})",
                        h.command, h.pid
                    ),
                ),
                Some(h) => Item::new(
                    id,
                    "port",
                    title,
                    State::Problem,
                    format!("in use by {} (pid {})", h.command, h.pid),
                ),
                None => Item::new(
                    id,
                    "port",
                    title,
                    State::Problem,
                    "in use by a process the sidecar cannot see (another user's, or a container's)"
                        .into(),
                ),
            };
            item.holder = holder;
            let port = p.port;
            item.fix(Fix::new(
                &format!("stop what holds it (`ss -ltnp 'sport = :{port}'` names it), or stop another lab's services first"),
                &format!("stop what holds it (`lsof -nP -iTCP:{port} -sTCP:LISTEN` names it); on port 5000 that is often AirPlay Receiver: turn it off in System Settings › General › AirDrop & Handoff"),
                &format!("stop what holds it: in WSL `ss -ltnp 'sport = :{port}'`; a Windows program holding it shows in PowerShell with `Get-NetTCPConnection -LocalPort {port}`"),
            ))
        })
        .collect()
}

/// A command line's program name: the last part of its first word, at
/// most 64 characters.
pub(crate) fn command_name(line: &str) -> String {
    let first = line.split_whitespace().next().unwrap_or("");
    let name = first.rsplit('/').next().unwrap_or(first);
    let name: String = name.chars().take(64).collect();
    if name.is_empty() {
        "(unnamed process)".into()
    } else {
        name
    }
}
