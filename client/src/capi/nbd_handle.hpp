// What a C caller's struct nbd_handle* points at.
#pragma once

#include "handle/handle.hpp"

struct nbd_handle {
  nbdref::handle::Handle impl;
};
