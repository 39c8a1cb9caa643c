// Marks the functions the shared library exports; everything else stays hidden.
#pragma once

#define NBDREF_EXPORT extern "C" __attribute__((visibility("default")))
