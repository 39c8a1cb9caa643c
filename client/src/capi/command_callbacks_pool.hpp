// The callbacks of a handle's asynchronous commands, kept for reuse: once a
// command is retired its CommandCallbacks runs the C caller's .free
// functions and comes back here, so a steady stream of nbd_aio_* calls
// allocates nothing. The pool has its own lock: commands are submitted
// outside the handle's lock and released inside it, possibly on two threads.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "compat/libnbd.h"
#include "handle/async_command.hpp"

namespace nbdref::capi {

class CommandCallbacks;  // capi/callback_adapters.hpp

class CommandCallbacksPool {
 public:
  // Released, not deleted: back to the pool (capi::CommandCallbacks::release).
  using Ptr = std::unique_ptr<CommandCallbacks, handle::ReleaseAsyncCommand>;

  CommandCallbacksPool();
  ~CommandCallbacksPool();
  CommandCallbacksPool(const CommandCallbacksPool&) = delete;
  CommandCallbacksPool& operator=(const CommandCallbacksPool&) = delete;

  // Callbacks holding `completion` and nothing else.
  Ptr acquire(nbd_completion_callback completion);
  // From CommandCallbacks::release(), its callbacks already dropped or not.
  void give_back(CommandCallbacks* callbacks);

 private:
  // More spares than this are deleted: the pool stays as large as the
  // deepest queue a caller keeps, within reason.
  static constexpr std::size_t MAX_SPARES = 4096;

  std::mutex mutex_;
  std::vector<std::unique_ptr<CommandCallbacks>> spares_;
};

}  // namespace nbdref::capi
