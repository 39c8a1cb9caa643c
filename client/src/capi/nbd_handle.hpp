// What a C caller's struct nbd_handle* points at.
#pragma once

#include "capi/command_callbacks_pool.hpp"
#include "capi/endpoint.hpp"
#include "handle/handle.hpp"

struct nbd_handle {
  // Declared before impl, so it outlives every command impl releases.
  nbdref::capi::CommandCallbacksPool callbacks;
  nbdref::handle::Handle impl;
  // Where the handle was asked to connect, for nbd_get_uri.
  nbdref::capi::Endpoint endpoint;
};
