//! Who holds a run lock: host name, process id and the process's start time, and whether
//! such a holder is still alive (same host only; Linux `/proc`). No unsafe, no extra crate.

/// How long a holder's heartbeat may be silent before a waiter on another host (or where
/// the holder's process cannot be checked) takes its lock over.
pub const RUN_LOCK_STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

/// The process that takes (or took) a run lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockOwner {
    /// Host name; empty when it could not be found (then the pid is never checked).
    pub host: String,
    pub pid: u32,
    /// The process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22),
    /// when known.
    pub pid_start: Option<String>,
}

impl LockOwner {
    /// This process.
    pub fn current() -> Self {
        Self::of_pid(std::process::id())
    }

    /// Process `pid` on this host.
    pub fn of_pid(pid: u32) -> Self {
        Self {
            host: host_name(),
            pid,
            pid_start: process_start(pid),
        }
    }
}

/// This machine's host name (`/proc/sys/kernel/hostname`, else `$HOSTNAME` /
/// `$COMPUTERNAME`), or empty.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// The start time of process `pid` (`/proc/<pid>/stat` field 22), if it can be read.
pub fn process_start(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces: count from
    // after its closing parenthesis, where field 3 begins.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(22 - 3).map(str::to_string)
}

/// Whether process `pid` on this host is alive: `Some(false)` when `/proc` is there but the
/// pid is not, or is now another process (its start time differs from `start`);
/// `None` when this cannot be told (no `/proc`).
pub fn process_alive(pid: u32, start: Option<&str>) -> Option<bool> {
    if !std::path::Path::new("/proc/self/stat").exists() {
        return None;
    }
    if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
        return Some(false);
    }
    match (start, process_start(pid)) {
        (Some(recorded), Some(now)) if recorded != now => Some(false),
        _ => Some(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        let me = LockOwner::current();
        if process_alive(me.pid, None).is_none() {
            return; // no /proc here
        }
        assert_eq!(process_alive(me.pid, me.pid_start.as_deref()), Some(true));
        assert_eq!(process_alive(me.pid, Some("1")), Some(false), "reused pid");
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = child.id();
        child.wait().expect("wait");
        assert_eq!(process_alive(pid, None), Some(false));
    }
}
