// The listener side of an asynchronous command (libnbd's nbd_aio_*): its
// chunk and extent callbacks, and its completion callback. The handle owns
// it from submission until the command is retired, and releases it then --
// which is when a C caller's .free functions run.
#pragma once

#include <memory>

#include "engine/command.hpp"

namespace nbdref::handle {

class Handle;

class AsyncCommand : public engine::CommandListener {
 public:
  // The command ended with `errnum` (0 on success). An implementation may
  // replace the error (libnbd's completion callback storing into *error and
  // returning -1). Returns true to retire the command at once (the callback
  // returning 1).
  virtual bool on_finished(int& errnum) {
    (void)errnum;
    return false;
  }

  // Hands the outcome to the owning handle; not for subclasses.
  void on_complete(const engine::CommandOutcome& outcome) final;

  // The handle is done with the command: by default it is destroyed; an
  // implementation may instead keep it for the next command (a pool).
  virtual void release() { delete this; }

 private:
  friend class Handle;
  Handle* owner_ = nullptr;
};

struct ReleaseAsyncCommand {
  void operator()(AsyncCommand* c) const { c->release(); }
};
// How the handle holds an asynchronous command.
using AsyncCommandPtr = std::unique_ptr<AsyncCommand, ReleaseAsyncCommand>;

}  // namespace nbdref::handle
