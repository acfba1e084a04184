#pragma once
// The `psleak` Python module: built into the psleak executable (registered before the
// interpreter starts) and also built as an ordinary extension module for python3.

#include "python/py_ref.h"

namespace psleak::pymodule {

// Tells the module, before the interpreter starts, that it runs inside the psleak
// executable with this allocator ("malloc" or "pymalloc").
void setEmbeddedAllocator(const char* allocator);

}  // namespace psleak::pymodule

extern "C" PyObject* PyInit_psleak();
