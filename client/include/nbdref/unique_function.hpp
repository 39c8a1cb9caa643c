// A move-only callable wrapper: like std::function, but it can hold
// callables that cannot be copied (lambdas owning a unique_ptr, say), which
// is what callbacks owned by the library until a command ends need.
// (std::move_only_function arrives only with C++23.)
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace nbdref {

template <class Signature>
class UniqueFunction;

template <class R, class... Args>
class UniqueFunction<R(Args...)> {
 public:
  UniqueFunction() = default;

  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, UniqueFunction> &&
             std::is_invocable_r_v<R, std::decay_t<F>&, Args...>)
  UniqueFunction(F&& f)  // NOLINT: implicit, like std::function
      : callable_(std::make_unique<Holder<std::decay_t<F>>>(std::forward<F>(f))) {}

  UniqueFunction(UniqueFunction&&) noexcept = default;
  UniqueFunction& operator=(UniqueFunction&&) noexcept = default;

  explicit operator bool() const noexcept { return static_cast<bool>(callable_); }

  // Calls the held callable; it must hold one.
  R operator()(Args... args) { return callable_->call(std::forward<Args>(args)...); }

 private:
  struct Callable {
    virtual ~Callable() = default;
    virtual R call(Args... args) = 0;
  };
  template <class F>
  struct Holder final : Callable {
    explicit Holder(F&& f) : f_(std::move(f)) {}
    explicit Holder(const F& f) : f_(f) {}
    R call(Args... args) override { return f_(std::forward<Args>(args)...); }
    F f_;
  };

  std::unique_ptr<Callable> callable_;
};

}  // namespace nbdref
