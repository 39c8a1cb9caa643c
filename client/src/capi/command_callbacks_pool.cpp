#include "capi/command_callbacks_pool.hpp"

#include "capi/callback_adapters.hpp"

namespace nbdref::capi {

CommandCallbacksPool::CommandCallbacksPool() = default;
CommandCallbacksPool::~CommandCallbacksPool() = default;

CommandCallbacksPool::Ptr CommandCallbacksPool::acquire(nbd_completion_callback completion) {
  {
    std::lock_guard lock(mutex_);
    if (!spares_.empty()) {
      CommandCallbacks* c = spares_.back().release();
      spares_.pop_back();
      c->completion_ = completion;
      return Ptr(c);
    }
  }
  return Ptr(new CommandCallbacks(completion, this));
}

void CommandCallbacksPool::give_back(CommandCallbacks* callbacks) {
  // The C caller's .free functions run now, outside the pool's lock.
  callbacks->drop_callbacks();
  std::unique_ptr<CommandCallbacks> owned(callbacks);
  std::lock_guard lock(mutex_);
  if (spares_.size() < MAX_SPARES) spares_.push_back(std::move(owned));
}

}  // namespace nbdref::capi
