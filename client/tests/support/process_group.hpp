// Finding and ending the processes of a process group. Every test server runs
// in a group of its own, so stopping the group also stops whatever the server
// forked (nbd-server forks one child per client).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <vector>

namespace nbdref::test {

// Whether `pid` is a process that still runs. A zombie counts as gone: it
// serves nothing, and a daemon's zombie lingers until init gets round to
// reaping it.
bool process_is_alive(pid_t pid);

// The live (non-zombie) processes whose process group is `pgid`, from /proc.
std::vector<pid_t> live_group_members(pid_t pgid);

// Sends SIGTERM to every live member of the group, waits up to `grace` for all
// of them to exit, then sends SIGKILL to any left and waits up to `grace`
// again. Returns the members still alive after that (normally none). Never
// signals a group with no live member, so a group id that has since been
// reused is not touched.
std::vector<pid_t> terminate_process_group(pid_t pgid, std::chrono::milliseconds grace);

}  // namespace nbdref::test
