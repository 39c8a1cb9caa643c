// Option mode (nbd_set_opt_mode): the caller runs each negotiation option,
// waiting for it (nbd_opt_*) or not (nbd_aio_opt_*).
#include <memory>
#include <string>

#include "capi/callback_adapters.hpp"
#include "capi/call.hpp"
#include "capi/export.hpp"
#include "compat/libnbd.h"

using namespace nbdref;
using capi::entry;
using capi::FreeOnExit;
using capi::to_int;
using engine::OptionKind;

namespace {

// An option's list and completion callbacks; counts what it listed.
class OptionCallbacks final : public engine::OptionListener {
 public:
  OptionCallbacks(nbd_list_callback list, nbd_context_callback context,
                  nbd_completion_callback completion)
      : list_(list), context_(context), completion_(completion), release_list_(list),
        release_context_(context), release_completion_(completion) {}

  void on_export(std::string_view name, std::string_view description) override {
    ++count_;
    if (list_.callback) {
      const std::string n(name), d(description);
      list_.callback(list_.user_data, n.c_str(), d.c_str());
    }
  }
  void on_context(std::string_view name) override {
    ++count_;
    if (context_.callback) {
      const std::string n(name);
      context_.callback(context_.user_data, n.c_str());
    }
  }
  void on_option_complete(const Result<void>& result) override {
    int errnum = result ? 0 : result.error().errnum;
    capi::run_completion(completion_, errnum);
  }
  int count() const { return count_; }

 private:
  nbd_list_callback list_;
  nbd_context_callback context_;
  nbd_completion_callback completion_;
  FreeOnExit<nbd_list_callback> release_list_;
  FreeOnExit<nbd_context_callback> release_context_;
  FreeOnExit<nbd_completion_callback> release_completion_;
  int count_ = 0;
};

constexpr nbd_list_callback NO_LIST{nullptr, nullptr, nullptr};
constexpr nbd_context_callback NO_CONTEXT{nullptr, nullptr, nullptr};

// Runs the option and waits: the count of listed items / -1.
int run(nbd_handle* h, const char* fn, OptionKind kind, nbd_list_callback list,
        nbd_context_callback context) {
  OptionCallbacks callbacks(list, context, capi::NO_COMPLETION);
  if (auto r = h->impl.run_option(kind, &callbacks); !r) {
    capi::set_error(fn, r.error());
    return -1;
  }
  return callbacks.count();
}

// Runs an option that asks for a feature: 1 granted, 0 declined, -1 error
// (including a connection that died meanwhile).
int run_feature(nbd_handle* h, const char* fn, OptionKind kind) {
  auto r = h->impl.run_option(kind, nullptr);
  if (!r && h->impl.state() != handle::HandleState::Negotiating) {
    capi::set_error(fn, r.error());
    return -1;
  }
  auto granted = kind == OptionKind::ExtendedHeaders ? h->impl.extended_headers_negotiated()
                                                     : h->impl.structured_replies_negotiated();
  return capi::to_bool(fn, granted);
}

int start(nbd_handle* h, const char* function, OptionKind kind, nbd_list_callback list,
          nbd_context_callback context, nbd_completion_callback completion) {
  return entry(function, -1, [&](const char* fn) {
    auto callbacks = std::make_unique<OptionCallbacks>(list, context, completion);
    return to_int(fn, h->impl.start_option(kind, std::move(callbacks)));
  });
}

}  // namespace

NBDREF_EXPORT int nbd_set_opt_mode(nbd_handle* h, bool enable) {
  return entry("nbd_set_opt_mode", -1,
               [&](const char* fn) { return to_int(fn, h->impl.set_opt_mode(enable)); });
}
NBDREF_EXPORT int nbd_get_opt_mode(nbd_handle* h) { return h->impl.opt_mode() ? 1 : 0; }

NBDREF_EXPORT int nbd_opt_go(nbd_handle* h) {
  return entry("nbd_opt_go", -1, [&](const char* fn) {
    return run(h, fn, OptionKind::Go, NO_LIST, NO_CONTEXT) < 0 ? -1 : 0;
  });
}

NBDREF_EXPORT int nbd_opt_abort(nbd_handle* h) {
  return entry("nbd_opt_abort", -1, [&](const char* fn) {
    return run(h, fn, OptionKind::Abort, NO_LIST, NO_CONTEXT) < 0 ? -1 : 0;
  });
}

NBDREF_EXPORT int nbd_opt_info(nbd_handle* h) {
  return entry("nbd_opt_info", -1, [&](const char* fn) {
    return run(h, fn, OptionKind::Info, NO_LIST, NO_CONTEXT) < 0 ? -1 : 0;
  });
}

NBDREF_EXPORT int nbd_opt_list(nbd_handle* h, nbd_list_callback list_callback) {
  return entry("nbd_opt_list", -1, [&](const char* fn) {
    if (!list_callback.callback) {
      FreeOnExit<nbd_list_callback> release(list_callback);
      capi::set_error(fn, EFAULT, "list.callback must not be NULL");
      return -1;
    }
    return run(h, fn, OptionKind::List, list_callback, NO_CONTEXT);
  });
}

NBDREF_EXPORT int nbd_opt_list_meta_context(nbd_handle* h, nbd_context_callback context_callback) {
  return entry("nbd_opt_list_meta_context", -1, [&](const char* fn) {
    if (!context_callback.callback) {
      FreeOnExit<nbd_context_callback> release(context_callback);
      capi::set_error(fn, EFAULT, "context.callback must not be NULL");
      return -1;
    }
    return run(h, fn, OptionKind::ListMetaContext, NO_LIST, context_callback);
  });
}

NBDREF_EXPORT int nbd_opt_set_meta_context(nbd_handle* h, nbd_context_callback context_callback) {
  return entry("nbd_opt_set_meta_context", -1, [&](const char* fn) {
    if (!context_callback.callback) {
      FreeOnExit<nbd_context_callback> release(context_callback);
      capi::set_error(fn, EFAULT, "context.callback must not be NULL");
      return -1;
    }
    return run(h, fn, OptionKind::SetMetaContext, NO_LIST, context_callback);
  });
}

NBDREF_EXPORT int nbd_opt_structured_reply(nbd_handle* h) {
  return entry("nbd_opt_structured_reply", -1,
               [&](const char* fn) { return run_feature(h, fn, OptionKind::StructuredReply); });
}

// libnbd 1.16: 1 when TLS is now up, 0 when the server declined it.
NBDREF_EXPORT int nbd_opt_starttls(nbd_handle* h) {
  return entry("nbd_opt_starttls", -1,
               [&](const char* fn) { return capi::to_bool(fn, h->impl.opt_starttls()); });
}

NBDREF_EXPORT int nbd_opt_extended_headers(nbd_handle* h) {
  return entry("nbd_opt_extended_headers", -1,
               [&](const char* fn) { return run_feature(h, fn, OptionKind::ExtendedHeaders); });
}

NBDREF_EXPORT int nbd_aio_opt_go(nbd_handle* h, nbd_completion_callback completion_callback) {
  return start(h, "nbd_aio_opt_go", OptionKind::Go, NO_LIST, NO_CONTEXT, completion_callback);
}

NBDREF_EXPORT int nbd_aio_opt_abort(nbd_handle* h) {
  return start(h, "nbd_aio_opt_abort", OptionKind::Abort, NO_LIST, NO_CONTEXT,
               capi::NO_COMPLETION);
}

NBDREF_EXPORT int nbd_aio_opt_info(nbd_handle* h, nbd_completion_callback completion_callback) {
  return start(h, "nbd_aio_opt_info", OptionKind::Info, NO_LIST, NO_CONTEXT, completion_callback);
}

NBDREF_EXPORT int nbd_aio_opt_list(nbd_handle* h, nbd_list_callback list_callback,
                                   nbd_completion_callback completion_callback) {
  return start(h, "nbd_aio_opt_list", OptionKind::List, list_callback, NO_CONTEXT,
               completion_callback);
}

NBDREF_EXPORT int nbd_aio_opt_list_meta_context(nbd_handle* h,
                                                nbd_context_callback context_callback,
                                                nbd_completion_callback completion_callback) {
  return start(h, "nbd_aio_opt_list_meta_context", OptionKind::ListMetaContext, NO_LIST,
               context_callback, completion_callback);
}

NBDREF_EXPORT int nbd_aio_opt_set_meta_context(nbd_handle* h,
                                               nbd_context_callback context_callback,
                                               nbd_completion_callback completion_callback) {
  return start(h, "nbd_aio_opt_set_meta_context", OptionKind::SetMetaContext, NO_LIST,
               context_callback, completion_callback);
}

NBDREF_EXPORT int nbd_aio_opt_structured_reply(nbd_handle* h,
                                               nbd_completion_callback completion_callback) {
  return start(h, "nbd_aio_opt_structured_reply", OptionKind::StructuredReply, NO_LIST,
               NO_CONTEXT, completion_callback);
}

NBDREF_EXPORT int nbd_aio_opt_starttls(nbd_handle* h, nbd_completion_callback completion_callback) {
  return start(h, "nbd_aio_opt_starttls", OptionKind::StartTls, NO_LIST, NO_CONTEXT,
               completion_callback);
}

NBDREF_EXPORT int nbd_aio_opt_extended_headers(nbd_handle* h,
                                               nbd_completion_callback completion_callback) {
  return start(h, "nbd_aio_opt_extended_headers", OptionKind::ExtendedHeaders, NO_LIST,
               NO_CONTEXT, completion_callback);
}
